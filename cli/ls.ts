/**
 * `-ls`: a line in the layout of `ls -dils`, as find prints it.  Column
 * widths start at find's minimums and widen for good when a wider value
 * comes (so lines printed later line up with the widest seen so far, as in
 * find: the layout depends on the order entries come in).
 *
 * @module
 */

import { DT, type FindEntry, modeType } from "./entry.ts";
import type { EvalContext } from "./expr.ts";
import { modeString } from "./printf.ts";
import { typeOf } from "./predicates.ts";
import { strftime } from "./time.ts";

/** Six months of 30 days: older (or an hour in the future) shows the year instead of the time. */
const RECENT = 6 * 30 * 24 * 60 * 60;

const encoder = new TextEncoder();

/** The -ls columns' current widths, shared by every -ls of a run. */
export class LsLayout {
  inode = 9;
  blocks = 6;
  nlink = 3;
  owner = 8;
  group = 8;
  major = 3;
  minor = 3;
  size = 8;
  /** The walk's start (seconds), for "recent". */
  readonly now: number;

  constructor(now: number) {
    this.now = now;
  }

  /** Writes one entry's line. */
  write(e: FindEntry, ctx: EvalContext): void {
    const s = e.stat;
    if (!s) return;
    let line = this.#right(String(s.ino), "inode") + " ";
    line += this.#right(String(Math.ceil(s.blocks / 2)), "blocks") + " ";
    line += modeString(s.mode) + " ";
    line += this.#right(String(s.nlink), "nlink") + " ";
    const user = ctx.accounts.userName(s.uid);
    if (user !== undefined) {
      this.owner = Math.max(this.owner, user.length);
      line += user.padEnd(this.owner) + " ";
    } else {
      const text = String(s.uid).padEnd(8) + " ";
      this.owner = Math.max(this.owner, text.length);
      line += text;
    }
    const group = ctx.accounts.groupName(s.gid);
    if (group !== undefined) {
      this.group = Math.max(this.group, group.length);
      line += group.padEnd(this.group) + " ";
    } else {
      line += this.#left(String(s.gid), "group") + " ";
    }
    const type = modeType(s.mode);
    if (type === DT.CHR || type === DT.BLK) {
      // glibc's major() and minor() of a dev_t
      const rdev = BigInt(s.rdev);
      const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
      const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn & 0xffffffffn);
      line += this.#right(String(major), "major") + ", " + this.#right(String(minor), "minor");
    } else {
      line += this.#right(String(s.size), "size");
    }
    const t = s.mtimeSec;
    const d = new Date(t * 1000);
    const recent = this.now - RECENT <= t && t <= this.now + 3600;
    line += " " + strftime("b", d, t) + " " + strftime("e", d, t) +
      (recent ? " " + strftime("R", d, t) : "  " + strftime("Y", d, t)) + " ";
    ctx.out.text(line);
    ctx.out.bytes(quoteName(e.path));
    if (typeOf(e) === DT.LNK && e.linkTarget) {
      ctx.out.text(" -> ");
      ctx.out.bytes(quoteName(e.linkTarget));
    }
    ctx.out.byte(0x0a);
  }

  /** Right-aligns a value in a column, widening it when needed. */
  #right(value: string, column: "inode" | "blocks" | "nlink" | "major" | "minor" | "size") {
    this[column] = Math.max(this[column], value.length);
    return value.padStart(this[column]);
  }

  /** Left-aligns a value in a column, widening it when needed. */
  #left(value: string, column: "group") {
    this[column] = Math.max(this[column], value.length);
    return value.padEnd(this[column]);
  }
}

/** -ls's quoting of names: C-like escapes for blanks, controls and bytes past ASCII. */
function quoteName(bytes: Uint8Array): Uint8Array {
  let plain = true;
  for (const b of bytes) {
    if (b <= 0x20 || b >= 0x7f || b === 0x5c || b === 0x22) {
      plain = false;
      break;
    }
  }
  if (plain) return bytes;
  let out = "";
  for (const b of bytes) {
    switch (b) {
      case 0x5c:
        out += "\\\\";
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x08:
        out += "\\b";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x0c:
        out += "\\f";
        break;
      case 0x20:
        out += "\\ ";
        break;
      case 0x22:
        out += '\\"';
        break;
      default:
        out += b > 0x20 && b < 0x7f
          ? String.fromCharCode(b)
          : `\\${b.toString(8).padStart(3, "0")}`;
    }
  }
  return encoder.encode(out);
}
