/**
 * `-perm` modes: octal (`644`) or symbolic as chmod takes them
 * (`u=rw,go=r`, `a+x`, `g-w`, `u=g`, `+X`), applied to a mode of 0 as
 * find does, once for files and once for directories (they differ for `X`).
 *
 * @module
 */

/** The bits of "who" letters. */
const WHO: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };

/** The bits of permission letters (X is special). */
const PERM: Record<string, number> = { r: 0o444, w: 0o222, x: 0o111, s: 0o6000, t: 0o1000 };

/** One clause operation: who, operator, permission bits or a copy from u/g/o, X. */
interface Op {
  who: number;
  op: "+" | "-" | "=";
  bits: number;
  copy: "u" | "g" | "o" | undefined;
  /** X: execute if a directory or if some execute bit is already set. */
  condX: boolean;
}

/**
 * Parses a mode.
 *
 * @returns The mode for files and for directories, or undefined when it is not a mode.
 */
export function parseMode(text: string): { file: number; dir: number } | undefined {
  if (/^[0-7]+$/.test(text)) {
    const value = parseInt(text, 8);
    return value > 0o7777 ? undefined : { file: value, dir: value };
  }
  const ops: Op[] = [];
  for (const clause of text.split(",")) {
    const m = clause.match(/^([ugoa]*)((?:[-+=][rwxXst]*|[-+=][ugo])+)$/);
    if (!m) return undefined;
    let who = 0;
    for (const c of m[1]) who |= WHO[c];
    // No who letters: everything (the umask is taken as 0, as find does)
    if (who === 0) who = 0o7777;
    for (const action of m[2].match(/[-+=][^-+=]*/g) ?? []) {
      const op = action[0] as "+" | "-" | "=";
      const rest = action.slice(1);
      if (/^[ugo]$/.test(rest)) {
        ops.push({ who, op, bits: 0, copy: rest as "u" | "g" | "o", condX: false });
        continue;
      }
      let bits = 0;
      let condX = false;
      for (const c of rest) {
        if (c === "X") condX = true;
        else bits |= PERM[c];
      }
      ops.push({ who, op, bits, copy: undefined, condX });
    }
  }
  return { file: apply(ops, false), dir: apply(ops, true) };
}

/** Applies the operations to a mode of 0. */
function apply(ops: Op[], isDir: boolean): number {
  let mode = 0;
  for (const o of ops) {
    let bits = o.bits;
    if (o.copy !== undefined) {
      const shift = o.copy === "u" ? 6 : o.copy === "g" ? 3 : 0;
      const three = (mode >> shift) & 7;
      bits = three * 0o111;
    }
    if (o.condX && (isDir || (mode & 0o111) !== 0)) bits |= 0o111;
    bits &= o.who;
    if (o.op === "+") mode |= bits;
    else if (o.op === "-") mode &= ~bits;
    else mode = (mode & ~o.who) | bits;
  }
  return mode;
}
