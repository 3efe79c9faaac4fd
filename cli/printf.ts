/**
 * `-printf FORMAT` and `-ls`: compiling the format once, and writing an
 * entry with it.
 *
 * Directives: `%%`, `%a %A@..`, `%b`, `%c %C..`, `%d`, `%D`, `%f`, `%g %G`,
 * `%h`, `%H`, `%i`, `%k`, `%l`, `%m`, `%M`, `%n`, `%p`, `%P`, `%s`, `%S`,
 * `%t %T..`, `%u %U`, `%y`, `%Y`, with find's flags, width and precision;
 * escapes `\a \b \c \f \n \r \t \v \\` and `\NNN`.  Not supported: `%F` (file
 * system type), `%Z` (SELinux context) and `%B` (birth time), which print
 * nothing.
 *
 * @module
 */

import { DT, type FindEntry, type FindStat, isError, modeType } from "./entry.ts";
import type { EvalContext, Needs } from "./expr.ts";
import { leadsNowhere, typeOf } from "./predicates.ts";
import { ctimeFormat, formatTime } from "./time.ts";
import { baseName } from "./bytes.ts";

/** A bad format: the command line is unusable. */
export class FormatError extends Error {}

/** One piece of a format: bytes to copy, or a directive. */
type Segment =
  | { text: Uint8Array }
  | { dir: string; time?: string; spec: Spec }
  /** `\c`: stop here. */
  | { stop: true };

/** Flags, width and precision of a directive. */
interface Spec {
  minus: boolean;
  plus: boolean;
  space: boolean;
  hash: boolean;
  zero: boolean;
  width: number;
  precision: number | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Directives of one character, and those followed by a time conversion. */
const SINGLE = "abcdDfFgGhHiklmMnpPsStuUyYZ%";
const TIMED = "ABCT";

/** The escapes after a backslash. */
const ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  "\\": 0x5c,
};

/** -printf's compiled format. */
export class PrintfFormat {
  readonly #segments: Segment[] = [];
  /** What its directives need fetched. */
  readonly needs: Partial<Needs> = {};
  /** Warnings about the format, for stderr (find prints them and goes on). */
  readonly warnings: string[] = [];

  /** Compiles a format.  @throws {FormatError} For `%` at the end and the reserved `%{ %[ %(`. */
  constructor(format: string) {
    const f = encoder.encode(format);
    let text: number[] = [];
    const flush = () => {
      if (text.length > 0) this.#segments.push({ text: new Uint8Array(text) });
      text = [];
    };
    for (let i = 0; i < f.length; i++) {
      const c = f[i];
      if (c === 0x5c) {
        const next = f[i + 1];
        if (next === undefined) {
          this.warnings.push("warning: escape `\\' followed by nothing at all");
          text.push(c);
        } else if (next === 0x63) {
          flush();
          this.#segments.push({ stop: true });
          return;
        } else if (next >= 0x30 && next <= 0x37) {
          let n = 0;
          let k = i + 1;
          for (; k < i + 4 && f[k] >= 0x30 && f[k] <= 0x37; k++) n = n * 8 + f[k] - 0x30;
          text.push(n & 0xff);
          i = k - 1;
        } else if (ESCAPES[String.fromCharCode(next)] !== undefined) {
          text.push(ESCAPES[String.fromCharCode(next)]);
          i++;
        } else {
          this.warnings.push(`warning: unrecognized escape \`\\${String.fromCharCode(next)}'`);
          text.push(c);
        }
        continue;
      }
      if (c !== 0x25) {
        text.push(c);
        continue;
      }
      if (i + 1 === f.length) throw new FormatError("error: % at end of format string");
      if (f[i + 1] === 0x25) {
        text.push(0x25);
        i++;
        continue;
      }
      // Flags, width, precision
      let k = i + 1;
      const spec: Spec = {
        minus: false,
        plus: false,
        space: false,
        hash: false,
        zero: false,
        width: 0,
        precision: undefined,
      };
      for (; k < f.length && "-+ #".includes(String.fromCharCode(f[k])); k++) {
        const flag = String.fromCharCode(f[k]);
        if (flag === "-") spec.minus = true;
        else if (flag === "+") spec.plus = true;
        else if (flag === " ") spec.space = true;
        else spec.hash = true;
      }
      if (f[k] === 0x30) spec.zero = true;
      for (; f[k] >= 0x30 && f[k] <= 0x39; k++) spec.width = spec.width * 10 + f[k] - 0x30;
      if (f[k] === 0x2e) {
        spec.precision = 0;
        for (k++; f[k] >= 0x30 && f[k] <= 0x39; k++) {
          spec.precision = spec.precision * 10 + f[k] - 0x30;
        }
      }
      const d = k < f.length ? String.fromCharCode(f[k]) : "";
      if (d !== "" && SINGLE.includes(d)) {
        flush();
        this.#segments.push({ dir: d, spec });
        this.#noteNeeds(d);
        i = k;
      } else if (d !== "" && TIMED.includes(d) && k + 1 < f.length) {
        flush();
        this.#segments.push({ dir: d, time: String.fromCharCode(f[k + 1]), spec });
        this.needs.stat = true;
        i = k + 1;
      } else if ("{[(".includes(d) && d !== "") {
        throw new FormatError(`error: the format directive \`%${d}' is reserved for future use`);
      } else {
        // Unknown: find prints it as it is
        this.warnings.push(
          d === "" || TIMED.includes(d)
            ? `warning: format directive \`%${d}' should be followed by another character`
            : `warning: unrecognized format directive \`%${d}'`,
        );
        for (let j = i; j <= Math.min(k, f.length - 1); j++) text.push(f[j]);
        i = k;
      }
    }
    flush();
  }

  /** Records what a directive needs. */
  #noteNeeds(d: string): void {
    if ("aAbBcCDgGiklMmnsStTuU".includes(d)) this.needs.stat = true;
    if (d === "l") this.needs.linkTarget = true;
    if (d === "y" || d === "Y") this.needs.types = true;
    if (d === "Y") this.needs.xstat = true;
  }

  /** Writes an entry with the format. */
  render(e: FindEntry, ctx: EvalContext): void {
    const out = ctx.out;
    for (const seg of this.#segments) {
      if ("text" in seg) {
        out.bytes(seg.text);
        continue;
      }
      if ("stop" in seg) {
        out.flush();
        return;
      }
      const { spec } = seg;
      if (seg.dir === "d") {
        out.text(formatInt(e.depth, 10, spec));
        continue;
      }
      if (seg.dir === "m") {
        out.text(e.stat ? formatInt(e.stat.mode & 0o7777, 8, spec) : pad("", spec));
        continue;
      }
      const value = this.#value(seg.dir, seg.time, e, ctx);
      out.bytes(padBytes(typeof value === "string" ? encoder.encode(value) : value, spec));
    }
  }

  /** A directive's value (before width and precision). */
  #value(
    d: string,
    time: string | undefined,
    e: FindEntry,
    ctx: EvalContext,
  ): string | Uint8Array {
    const s = e.stat;
    const rootLength = e.rootLength;
    if (time !== undefined) {
      if (!s || d === "B") return "";
      const [sec, nsec] = d === "A"
        ? [s.atimeSec, s.atimeNsec]
        : d === "C"
        ? [s.ctimeSec, s.ctimeNsec]
        : [s.mtimeSec, s.mtimeNsec];
      return formatTime(time, sec, nsec);
    }
    switch (d) {
      case "p":
        return e.path;
      case "f":
        return baseName(e);
      case "h":
        return dirname(e.path);
      case "P":
        return e.depth === 0
          ? ""
          : e.path.subarray(rootLength + (e.path[rootLength] === 0x2f ? 1 : 0));
      case "H":
        return e.path.subarray(0, rootLength);
      case "l":
        return typeOf(e) === DT.LNK && e.linkTarget ? e.linkTarget : "";
      case "y":
        return typeLetter(typeOf(e));
      case "Y":
        return targetLetter(e, ctx);
      case "F":
      case "Z":
        return "";
    }
    if (!s) return "";
    switch (d) {
      case "a":
        return ctimeFormat(s.atimeSec, s.atimeNsec);
      case "c":
        return ctimeFormat(s.ctimeSec, s.ctimeNsec);
      case "t":
        return ctimeFormat(s.mtimeSec, s.mtimeNsec);
      case "b":
        return String(s.blocks);
      case "k":
        return String(Math.ceil(s.blocks / 2));
      case "D":
        return String(s.dev);
      case "i":
        return String(s.ino);
      case "n":
        return String(s.nlink);
      case "s":
        return String(s.size);
      case "S":
        return sparseness(s);
      case "M":
        return modeString(s.mode);
      case "u":
        return ctx.accounts.userName(s.uid) ?? String(s.uid);
      case "U":
        return String(s.uid);
      case "g":
        return ctx.accounts.groupName(s.gid) ?? String(s.gid);
      case "G":
        return String(s.gid);
    }
    return "";
  }
}

/**
 * `%h`: the path up to its last "/", trailing slashes dropped first (but
 * not after a one-byte first component, as find has it); `.` when there is
 * no "/".
 */
function dirname(path: Uint8Array): Uint8Array | string {
  let s = path.length - 1;
  while (s >= 0 && path[s] === 0x2f) s--;
  const end = s > 0 && path[s + 1] === 0x2f ? s + 1 : path.length;
  const slash = path.subarray(0, end).lastIndexOf(0x2f);
  return slash < 0 ? "." : path.subarray(0, slash);
}

/** `%S`: allocated bytes over size, as `%g` prints it (1 for an empty file). */
function sparseness(s: FindStat): string {
  if (s.size === 0) return "1";
  const v = (s.blocks * 512) / s.size;
  return formatG(v);
}

/** C's `%g` with the default precision of 6. */
function formatG(v: number): string {
  if (v === 0) return "0";
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= 6) {
    const [m, e] = v.toExponential(5).split("e");
    const mant = m.includes(".") ? m.replace(/\.?0+$/, "") : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  }
  const fixed = v.toFixed(Math.max(0, 5 - exp));
  return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
}

/** `%y`'s letter for a DT_* type. */
export function typeLetter(type: number): string {
  switch (type) {
    case DT.REG:
      return "f";
    case DT.DIR:
      return "d";
    case DT.LNK:
      return "l";
    case DT.BLK:
      return "b";
    case DT.CHR:
      return "c";
    case DT.FIFO:
      return "p";
    case DT.SOCK:
      return "s";
    default:
      return "U";
  }
}

/** `%Y`: a link's target's letter, N for a link leading nowhere, L for a loop. */
function targetLetter(e: FindEntry, ctx: EvalContext): string {
  const type = typeOf(e);
  if (type !== DT.LNK) return typeLetter(type);
  const x = e.xstat;
  if (x === undefined || ctx.following) return "N";
  if (!isError(x)) return typeLetter(modeType(x.mode));
  if (leadsNowhere(x)) return "N";
  if (x.code === "ELOOP") return "L";
  ctx.report(e.path, x.message);
  return "?";
}

/** `ls -l`'s mode string: type letter and nine permission letters. */
export function modeString(mode: number): string {
  const letter = typeLetter(modeType(mode));
  let s = letter === "f" ? "-" : letter === "U" ? "?" : letter;
  const rwx = (shift: number, special: number, on: string, off: string) => {
    const bits = (mode >> shift) & 7;
    s += bits & 4 ? "r" : "-";
    s += bits & 2 ? "w" : "-";
    if (mode & special) s += bits & 1 ? on : off;
    else s += bits & 1 ? "x" : "-";
  };
  rwx(6, 0o4000, "s", "S");
  rwx(3, 0o2000, "s", "S");
  rwx(0, 0o1000, "t", "T");
  return s;
}

/** Pads a string value to the spec's width (precision truncates it first). */
function pad(value: string, spec: Spec): string {
  return decoder.decode(padBytes(encoder.encode(value), spec));
}

/** Applies `%-W.Ps` to bytes. */
function padBytes(value: Uint8Array, spec: Spec): Uint8Array {
  if (spec.precision !== undefined && value.length > spec.precision) {
    value = value.subarray(0, spec.precision);
  }
  if (value.length >= spec.width) return value;
  const out = new Uint8Array(spec.width).fill(0x20);
  out.set(value, spec.minus ? 0 : spec.width - value.length);
  return out;
}

/** C's `%d` (base 10) or `%o` (base 8) with flags, width and precision. */
function formatInt(value: number, base: 8 | 10, spec: Spec): string {
  let digits = Math.abs(value).toString(base);
  if (spec.precision !== undefined) {
    digits = spec.precision === 0 && value === 0 ? "" : digits.padStart(spec.precision, "0");
  }
  if (base === 8 && spec.hash && !digits.startsWith("0")) digits = `0${digits}`;
  const sign = value < 0
    ? "-"
    : base === 10 && spec.plus
    ? "+"
    : base === 10 && spec.space
    ? " "
    : "";
  let body = sign + digits;
  if (body.length < spec.width) {
    if (spec.minus) body = body.padEnd(spec.width);
    else if (spec.zero && spec.precision === undefined) {
      body = sign + digits.padStart(spec.width - sign.length, "0");
    } else body = body.padStart(spec.width);
  }
  return body;
}
