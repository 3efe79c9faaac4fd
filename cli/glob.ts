/**
 * Shell patterns as `-name`, `-iname`, `-path` and `-ipath` match them: the
 * rules of glibc's `fnmatch()` without flags (or with `FNM_CASEFOLD`) in the
 * C.UTF-8 locale.
 *
 * - `*` matches any run of characters, `/` and a leading `.` included; `?`
 *   one character; `\x` the character x.
 * - `[...]` one character of a set: `!` or `^` first negates it, `]` first is
 *   a member, `a-z` a range of code points, `[:alpha:]` a class (alnum alpha
 *   blank cntrl digit graph lower print punct space upper xdigit, with
 *   glibc's Unicode tables approximated by Unicode properties), `[.c.]` and
 *   `[=c=]` the character c.  A `[` with no closing `]` is an ordinary
 *   character.
 * - A pattern that glibc rejects (a trailing `\`, an unknown class) matches
 *   nothing, as find's `-name` then does.
 * - Names are matched as UTF-8 characters; a name that is not valid UTF-8 is
 *   matched byte by byte (each byte one character, classes ASCII-only), as
 *   glibc falls back to.
 * - Case folding (`-iname`): characters and range ends are compared in lower
 *   case; classes test the name's character as it is (glibc's rule).
 *
 * @module
 */

/** A pattern unit: a character (code point or byte), or one of these. */
const ANY = -1;
const STAR = -2;

/** A bracket expression. */
interface CharSet {
  negated: boolean;
  /** Members, folded when matching without case. */
  chars: number[];
  /** Ranges as [low, high] pairs, folded likewise. */
  ranges: number[];
  /** Classes, tested on the character as it is. */
  classes: ((c: number) => boolean)[];
}

type Token = number | CharSet;

/** The classes, for code points (wide) and for bytes (narrow). */
const WIDE_CLASSES: Record<string, (c: number) => boolean> = {
  alnum: (c) => isDigit(c) || isAlpha(c),
  alpha: isAlpha,
  blank: (c) => c === 0x20 || c === 0x09 || isUnicodeBlank(c),
  cntrl: (c) => c < 0x20 || (c >= 0x7f && c < 0xa0) || c === 0x2028 || c === 0x2029,
  digit: isDigit,
  graph: (c) => isPrint(c) && !isSpace(c),
  lower: (c) => c < 0x80 ? c >= 0x61 && c <= 0x7a : test(/\p{Lowercase}/u, c),
  print: isPrint,
  punct: (c) => isPrint(c) && !isSpace(c) && !isDigit(c) && !isAlpha(c),
  space: isSpace,
  upper: (c) => c < 0x80 ? c >= 0x41 && c <= 0x5a : test(/\p{Uppercase}/u, c),
  xdigit: isXdigit,
};

const NARROW_CLASSES: Record<string, (c: number) => boolean> = {
  alnum: (c) => c < 0x80 && WIDE_CLASSES.alnum(c),
  alpha: (c) => c < 0x80 && isAlpha(c),
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: isDigit,
  graph: (c) => c > 0x20 && c < 0x7f,
  lower: (c) => c >= 0x61 && c <= 0x7a,
  print: (c) => c >= 0x20 && c < 0x7f,
  punct: (c) => c > 0x20 && c < 0x7f && !isDigit(c) && !isAlpha(c),
  space: (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d),
  upper: (c) => c >= 0x41 && c <= 0x5a,
  xdigit: isXdigit,
};

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isXdigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** glibc's alpha: Unicode letters (Alphabetic) and the digits of other scripts. */
function isAlpha(c: number): boolean {
  if (c < 0x80) return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
  return test(/[\p{Alphabetic}\p{Nd}]/u, c);
}

function isUnicodeBlank(c: number): boolean {
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a && c !== 0x2007) || c === 0x205f ||
    c === 0x3000;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || isUnicodeBlank(c) || c === 0x2028 ||
    c === 0x2029;
}

function isPrint(c: number): boolean {
  if (c < 0x80) return c >= 0x20 && c < 0x7f;
  return !test(/[\p{Cc}\p{Cs}\p{Cn}\u2028\u2029]/u, c);
}

/** Tests a code point against a one-character RegExp. */
function test(re: RegExp, c: number): boolean {
  return re.test(String.fromCodePoint(c));
}

/** Lower-case code points of non-ASCII characters, computed once each. */
const lowered = new Map<number, number>();

/** A character folded to lower case (one code point to one, else unchanged). */
function foldWide(c: number): number {
  if (c < 0x80) return c >= 0x41 && c <= 0x5a ? c + 32 : c;
  let l = lowered.get(c);
  if (l === undefined) {
    const s = String.fromCodePoint(c).toLowerCase();
    const first = s.codePointAt(0)!;
    l = s.length === String.fromCodePoint(first).length ? first : c;
    lowered.set(c, l);
  }
  return l;
}

/** A byte folded to lower case (ASCII only). */
function foldNarrow(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

function identity(c: number): number {
  return c;
}

/**
 * Compiles a pattern's units (code points, or bytes) into tokens.
 *
 * @returns The tokens, or null when glibc would reject the pattern (it then
 *   matches nothing).
 */
function compile(
  units: number[],
  f: (c: number) => number,
  classes: Record<string, (c: number) => boolean>,
): Token[] | null {
  const out: Token[] = [];
  for (let i = 0; i < units.length; i++) {
    const c = units[i];
    if (c === 0x2a) {
      if (out[out.length - 1] !== STAR) out.push(STAR);
    } else if (c === 0x3f) {
      out.push(ANY);
    } else if (c === 0x5c) {
      if (i + 1 === units.length) return null;
      out.push(f(units[++i]));
    } else if (c === 0x5b) {
      const set = bracket(units, i, f, classes);
      if (set === null) return null;
      if (set === undefined) {
        out.push(f(c));
      } else {
        out.push(set.set);
        i = set.end;
      }
    } else {
      out.push(f(c));
    }
  }
  return out;
}

/**
 * Parses the bracket expression opening at `start`.
 *
 * @returns The set and the index of its closing `]`; undefined when it does
 *   not close (the `[` is then an ordinary character); null when glibc
 *   rejects it.
 */
function bracket(
  units: number[],
  start: number,
  fold: (c: number) => number,
  classes: Record<string, (c: number) => boolean>,
): { set: CharSet; end: number } | undefined | null {
  const set: CharSet = { negated: false, chars: [], ranges: [], classes: [] };
  let i = start + 1;
  if (units[i] === 0x21 || units[i] === 0x5e) {
    set.negated = true;
    i++;
  }
  let first = true;
  let rejected = false;
  while (i < units.length) {
    let c = units[i];
    if (c === 0x5d && !first) {
      return rejected ? null : { set, end: i };
    }
    first = false;
    // One member: a character, an escaped one, [.c.], [=c=] or [:class:]
    let low: number;
    if (c === 0x5b && (units[i + 1] === 0x3a || units[i + 1] === 0x2e || units[i + 1] === 0x3d)) {
      const kind = units[i + 1];
      const close = findClose(units, i + 2, kind);
      if (close < 0) {
        // Not a class after all: "[" is a member
        low = c;
        i++;
      } else {
        const inner = units.slice(i + 2, close);
        i = close + 2;
        if (kind === 0x3a) {
          const member = classes[String.fromCodePoint(...inner)];
          if (!member) rejected = true;
          else set.classes.push(member);
          // A class cannot start a range: a "-" after it is a member
          continue;
        }
        // A collating symbol or equivalence class: one character in this locale
        if (inner.length !== 1) {
          rejected = true;
          continue;
        }
        low = inner[0];
      }
    } else if (c === 0x5c) {
      if (i + 1 >= units.length) return undefined;
      low = units[i + 1];
      i += 2;
    } else {
      low = c;
      i++;
    }
    // A range?
    if (units[i] === 0x2d && i + 1 < units.length && units[i + 1] !== 0x5d) {
      c = units[i + 1];
      let high: number;
      if (c === 0x5b && (units[i + 2] === 0x2e || units[i + 2] === 0x3d)) {
        const close = findClose(units, i + 3, units[i + 2]);
        if (close < 0 || close !== i + 4) {
          rejected = true;
          i = close < 0 ? i + 2 : close + 2;
          continue;
        }
        high = units[i + 3];
        i = close + 2;
      } else if (c === 0x5b && units[i + 2] === 0x3a) {
        // A range up to a class: glibc rejects it
        const close = findClose(units, i + 3, 0x3a);
        rejected = true;
        i = close < 0 ? i + 2 : close + 2;
        continue;
      } else if (c === 0x5c) {
        if (i + 2 >= units.length) return undefined;
        high = units[i + 2];
        i += 3;
      } else {
        high = c;
        i += 2;
      }
      set.ranges.push(fold(low), fold(high));
    } else {
      set.chars.push(fold(low));
    }
  }
  return undefined;
}

/** Where `kind` + "]" closes a [: :], [. .] or [= =] form starting at `from`, or -1. */
function findClose(units: number[], from: number, kind: number): number {
  for (let j = from; j + 1 < units.length; j++) {
    if (units[j] === kind && units[j + 1] === 0x5d) return j;
    if (units[j] === 0x5d) return -1;
  }
  return -1;
}

/** Whether a character is in a set. */
function inSet(set: CharSet, c: number, folded: number): boolean {
  let found = false;
  if (set.chars.includes(folded)) found = true;
  else {
    const r = set.ranges;
    for (let k = 0; k < r.length; k += 2) {
      if (r[k] <= folded && folded <= r[k + 1]) {
        found = true;
        break;
      }
    }
    if (!found) found = set.classes.some((t) => t(c));
  }
  return found !== set.negated;
}

/** Matches tokens against units, `*` backtracking to its last position. */
function run(tokens: Token[], units: ArrayLike<number>, n: number, fold: (c: number) => number) {
  let t = 0;
  let u = 0;
  let starT = -1;
  let starU = 0;
  while (u < n) {
    const tok = t < tokens.length ? tokens[t] : undefined;
    if (tok === STAR) {
      starT = ++t;
      starU = u;
      continue;
    }
    if (tok !== undefined) {
      const c = units[u];
      let ok: boolean;
      if (tok === ANY) ok = true;
      else if (typeof tok === "number") ok = tok === fold(c);
      else ok = inSet(tok, c, fold(c));
      if (ok) {
        t++;
        u++;
        continue;
      }
    }
    if (starT < 0) return false;
    t = starT;
    u = ++starU;
  }
  while (t < tokens.length && tokens[t] === STAR) t++;
  return t === tokens.length;
}

const encoder = new TextEncoder();

/**
 * A compiled pattern.
 *
 * @example Match names as -name does
 * ```ts
 * import { Glob } from "./glob.ts";
 *
 * const glob = new Glob("[[:digit:]]*.[ch]");
 * console.log(glob.matches(new TextEncoder().encode("1main.c"))); // true
 * ```
 */
export class Glob {
  /** The pattern as given. */
  readonly source: string;
  /** Whether case is ignored. */
  readonly caseless: boolean;
  /** For a pattern of literals and `*` only (with case): its literal pieces, as bytes. */
  readonly #pieces: Uint8Array[] | undefined;
  /** Tokens over code points (null: matches nothing). */
  readonly #wide: Token[] | null;
  /** Tokens over bytes, made on first use. */
  #narrow: Token[] | null | undefined;
  /** Reused buffer of decoded code points. */
  #points = new Uint32Array(256);

  /** Compiles `pattern`; `caseless` for -iname and -ipath. */
  constructor(pattern: string, caseless = false) {
    this.source = pattern;
    this.caseless = caseless;
    const points = Array.from(pattern, (ch) => ch.codePointAt(0)!);
    this.#wide = compile(points, caseless ? foldWide : identity, WIDE_CLASSES);
    if (!caseless && !/[?[\\]/.test(pattern)) {
      this.#pieces = pattern.split("*").map((piece) => encoder.encode(piece));
    }
  }

  /** Whether `bytes[start, end)` matches the whole pattern. */
  matches(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
    if (this.#pieces) return matchPieces(this.#pieces, bytes, start, end);
    if (this.#wide === null) return false;
    const n = this.#decode(bytes, start, end);
    if (n >= 0 && run(this.#wide, this.#points, n, this.caseless ? foldWide : identity)) {
      return true;
    }
    // Not UTF-8, or no match as characters: byte by byte, the pattern's bytes too
    if (this.#narrow === undefined) {
      const units = Array.from(encoder.encode(this.source));
      this.#narrow = compile(units, this.caseless ? foldNarrow : identity, NARROW_CLASSES);
    }
    if (this.#narrow === null) return false;
    return run(
      this.#narrow,
      bytes.subarray(start, end),
      end - start,
      this.caseless ? foldNarrow : identity,
    );
  }

  /** Decodes UTF-8 into #points.  @returns How many, or -1 when the bytes are not UTF-8. */
  #decode(bytes: Uint8Array, start: number, end: number): number {
    if (this.#points.length < end - start) this.#points = new Uint32Array(end - start);
    const out = this.#points;
    let n = 0;
    for (let i = start; i < end;) {
      const b = bytes[i];
      if (b < 0x80) {
        out[n++] = b;
        i++;
        continue;
      }
      let len: number;
      let c: number;
      let min: number;
      if (b >= 0xc2 && b <= 0xdf) [len, c, min] = [2, b & 0x1f, 0x80];
      else if (b >= 0xe0 && b <= 0xef) [len, c, min] = [3, b & 0x0f, 0x800];
      else if (b >= 0xf0 && b <= 0xf4) [len, c, min] = [4, b & 0x07, 0x10000];
      else return -1;
      if (i + len > end) return -1;
      for (let k = 1; k < len; k++) {
        const cont = bytes[i + k];
        if ((cont & 0xc0) !== 0x80) return -1;
        c = (c << 6) | (cont & 0x3f);
      }
      if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return -1;
      out[n++] = c;
      i += len;
    }
    return n;
  }
}

/** Matches literal pieces separated by `*` (the pattern "a*b*c" as ["a", "b", "c"]). */
function matchPieces(pieces: Uint8Array[], bytes: Uint8Array, start: number, end: number) {
  const first = pieces[0];
  if (pieces.length === 1) return end - start === first.length && equalAt(bytes, start, first);
  const last = pieces[pieces.length - 1];
  if (end - start < first.length + last.length) return false;
  if (!equalAt(bytes, start, first) || !equalAt(bytes, end - last.length, last)) return false;
  let at = start + first.length;
  const stop = end - last.length;
  for (let k = 1; k < pieces.length - 1; k++) {
    const piece = pieces[k];
    let found = -1;
    for (let i = at; i + piece.length <= stop; i++) {
      if (equalAt(bytes, i, piece)) {
        found = i;
        break;
      }
    }
    if (found < 0) return false;
    at = found + piece.length;
  }
  return true;
}

/** Whether `piece` occurs in `bytes` at `at`. */
function equalAt(bytes: Uint8Array, at: number, piece: Uint8Array): boolean {
  for (let i = 0; i < piece.length; i++) if (bytes[at + i] !== piece[i]) return false;
  return true;
}
