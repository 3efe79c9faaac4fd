/**
 * The arguments of primaries, checked as GNU find checks them and turned
 * into the primaries (`-type f,d`, `-size +10k`, `-perm /u+x`, `-mtime -2`,
 * `-user NAME`, `-exec ... {} +`), with find's wording for what is wrong.
 *
 * @module
 */

import { Exec, type ExecSpec } from "./exec.ts";
import type { Primary } from "./expr.ts";
import { parseMode } from "./mode.ts";
import * as p from "./predicates.ts";
import type { Accounts } from "./users.ts";

/** A command line that cannot be run: exit status 2, one line on stderr. */
export class UsageError extends Error {}

const DAY = 86400;

/** -type and -xtype lists: `f`, `f,d,l`. */
export function typeArg(name: "-type" | "-xtype", v: string): Primary {
  if (v === "") throw new UsageError(`Arguments to ${name} should contain at least one letter`);
  let mask = 0;
  let exotic = false;
  const parts = v.split(",");
  for (let k = 0; k < parts.length; k++) {
    const letter = parts[k];
    if (letter === "") {
      throw new UsageError(
        k === parts.length - 1
          ? `Last file type in list argument to ${name} is missing, i.e., list is ending on: ','`
          : `Must separate multiple arguments to ${name} using: ','`,
      );
    }
    if (letter.length > 1) {
      if (p.TYPE_LETTERS[letter[0]] === undefined) {
        throw new UsageError(`Unknown argument to ${name}: ${letter[0]}`);
      }
      throw new UsageError(`Must separate multiple arguments to ${name} using: ','`);
    }
    const dt = p.TYPE_LETTERS[letter];
    if (dt === undefined) throw new UsageError(`Unknown argument to ${name}: ${letter}`);
    if (dt >= 0 && mask & (1 << dt)) {
      throw new UsageError(`Duplicate file type '${letter}' in the argument list to ${name}`);
    }
    if (dt >= 0) mask |= 1 << dt;
    if (!"fdl".includes(letter)) exotic = true;
  }
  return name === "-type" ? p.typeTest(name, mask, exotic) : p.xtypeTest(mask);
}

/** `+n`, `-n` or `n` (decimal digits). */
function compareOf(v: string): p.Compare | undefined {
  const m = v.match(/^([+-]?)(\d+)$/);
  if (!m) return undefined;
  return { sign: m[1] === "+" ? 1 : m[1] === "-" ? -1 : 0, value: Number(m[2]) };
}

/** A numeric argument with an optional sign (-links, -inum, -uid, -gid). */
export function numberArg(name: string, v: string): p.Compare {
  const c = compareOf(v);
  if (!c) throw new UsageError(`invalid argument \`${v}' to \`${name}'`);
  return c;
}

/** -user and -group: a name, or a number. */
export function ownerArg(name: "-user" | "-group", v: string, accounts: Accounts): Primary {
  const isUser = name === "-user";
  if (v === "") throw new UsageError(`The argument to ${name} should not be empty`);
  let id = isUser ? accounts.uidOf(v) : accounts.gidOf(v);
  if (id === undefined && /^\d+$/.test(v)) id = Number(v);
  if (id === undefined) {
    throw new UsageError(
      isUser
        ? `'${v}' is not the name of a known user`
        : `'${v}' is not the name of an existing group`,
    );
  }
  return p.ownerTest(name, isUser ? "uid" : "gid", id);
}

/** The units of -size. */
const SIZE_UNITS: Record<string, number> = {
  b: 512,
  c: 1,
  w: 2,
  k: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
};

/** -size N[bcwkMG]. */
export function sizeArg(v: string): Primary {
  if (v === "") throw new UsageError("invalid null argument to -size");
  const last = v[v.length - 1];
  let unit = 512;
  let num = v;
  if (SIZE_UNITS[last] !== undefined) {
    unit = SIZE_UNITS[last];
    num = v.slice(0, -1);
  } else if (!/\d/.test(last)) {
    throw new UsageError(`invalid -size type \`${last}'`);
  }
  const c = compareOf(num);
  if (!c) throw new UsageError(`Invalid argument \`${v}' to -size`);
  return p.sizeTest(c, unit);
}

/** -perm MODE, -perm -MODE, -perm /MODE; a warning for /000, as find gives. */
export function permArg(v: string, warnings: string[]): Primary {
  const kind = v[0] === "-" ? "all" : v[0] === "/" ? "any" : "exact";
  const mode = kind === "exact" ? v : v.slice(1);
  const parsed = /^\+[0-7]/.test(v) ? undefined : parseMode(mode);
  if (!parsed) throw new UsageError(`invalid mode '${v}'`);
  // find: /000 matches everything, as -000 does (and says so)
  const all = kind === "any" && parsed.file === 0 && parsed.dir === 0 ? "all" : kind;
  if (all !== kind) {
    warnings.push(
      `warning: you have specified a mode pattern ${v} (which is equivalent to /000). The ` +
        "meaning of -perm /000 has now been changed to be consistent with -perm -000; that " +
        "is, while it used to match no files, it now matches all files.",
    );
  }
  return p.permTest(all, parsed.file, parsed.dir);
}

/** A decimal number as strtod reads one (no hex, no inf); undefined when it is not one. */
function parseDecimal(v: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * -mtime and kin: a number of days (or minutes, for -mmin and kin), turned
 * into the instant and window find compares with, from the start `now`
 * (`daystart`: counted from the start of today).
 */
export function timeArg(name: string, v: string, now: p.Instant, daystart: boolean): Primary {
  const field = name[1] as p.TimeField;
  const m = v.match(/^([+-]?)(.*)$/)!;
  const offset = parseDecimal(m[2]);
  if (offset === undefined) throw new UsageError(`invalid argument \`${v}' to \`${name}'`);
  // The origin: a day before the start (or the start of today with -daystart)
  let origin: p.Instant = { sec: now.sec - DAY, nsec: now.nsec };
  if (daystart) {
    const d = new Date(now.sec * 1000);
    origin = {
      sec: now.sec - (d.getHours() * 3600 + d.getMinutes() * 60 + d.getSeconds()),
      nsec: 0,
    };
  }
  let unit = DAY;
  if (name.endsWith("min")) {
    origin = { sec: origin.sec + DAY, nsec: origin.nsec };
    unit = 60;
  } else if (m[1] === "-") {
    origin = { sec: origin.sec + DAY - 1, nsec: origin.nsec };
  }
  // "+n": before the instant; "-n": after it; "n": after it by at most a unit
  const kind = m[1] === "+" ? "lt" : m[1] === "-" ? "gt" : "eq";
  const total = offset * unit;
  const seconds = Math.trunc(total);
  const nanos = Math.round((total - seconds) * 1e9);
  let ref: p.Instant = { sec: origin.sec - seconds, nsec: origin.nsec - nanos };
  if (ref.nsec < 0) ref = { sec: ref.sec - 1, nsec: ref.nsec + 1e9 };
  if (ref.nsec >= 1e9) ref = { sec: ref.sec + 1, nsec: ref.nsec - 1e9 };
  return p.timeTest(name, field, kind, ref, unit);
}

/**
 * -exec CMD ... ; (or {} +), -execdir, -ok, -okdir: the arguments from
 * `argv[at]` on.
 *
 * @returns The primary, and the index after its terminator.
 */
export function execArgs(name: string, argv: string[], at: number): [Primary, number] {
  const args: string[] = [];
  let batch = false;
  let i = at;
  while (true) {
    const a = argv[i];
    if (a === undefined) throw new UsageError(`missing argument to \`${name}'`);
    i++;
    if (a === ";") break;
    if (a === "+" && args.at(-1) === "{}" && (name === "-exec" || name === "-execdir")) {
      batch = true;
      break;
    }
    args.push(a);
  }
  if (args.length === 0) throw new UsageError(`invalid argument \`;' to \`${name}'`);
  if (batch && args.slice(0, -1).some((a) => a.includes("{}"))) {
    throw new UsageError(`Only one instance of {} is supported with ${name} ... +`);
  }
  if (name === "-execdir" || name === "-okdir") checkPath(name);
  return [new Exec({ name: name as ExecSpec["name"], argv: args, batch }), i];
}

/** -execdir refuses a PATH with relative directories in it, as find does. */
function checkPath(name: string): void {
  let path = "";
  try {
    path = Deno.env.get("PATH") ?? "";
  } catch {
    return;
  }
  for (const dir of path.split(":")) {
    if (dir === "" || dir === ".") {
      throw new UsageError(
        "The current directory is included in the PATH environment variable, which is " +
          `insecure in combination with the ${name} action of find.  Please remove the current ` +
          'directory from your $PATH (that is, remove ".", doubled colons, or leading or ' +
          "trailing colons)",
      );
    }
    if (dir[0] !== "/") {
      throw new UsageError(
        `The relative path '${dir}' is included in the PATH environment variable, which is ` +
          `insecure in combination with the ${name} action of find.  Please remove that entry ` +
          "from $PATH",
      );
    }
  }
}
