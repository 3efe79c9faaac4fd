/**
 * The tests of the expression (`-name`, `-type`, `-size`, `-mtime`, ...) and
 * `-prune` and `-quit`: each a `Primary`, built by the parser from its
 * already-checked arguments.  Numeric arguments are `Compare`s (`+n` more
 * than n, `-n` fewer, `n` exactly).
 *
 * @module
 */

import { DT, type FindEntry, type FindError, type FindStat, isError, modeType } from "./entry.ts";
import type { EvalContext, FastPrimary, Primary } from "./expr.ts";
import type { Glob } from "./glob.ts";
import { accessible } from "./users.ts";

/** A numeric comparison: `+n` (greater), `-n` (less) or `n` (equal). */
export interface Compare {
  sign: 1 | -1 | 0;
  value: number;
}

/** Applies a Compare to a number. */
export function compare(c: Compare, n: number): boolean {
  return c.sign === 0 ? n === c.value : c.sign > 0 ? n > c.value : n < c.value;
}

/** An instant: seconds and nanoseconds since the epoch. */
export interface Instant {
  sec: number;
  nsec: number;
}

/** Orders two instants: negative, zero or positive. */
export function cmpInstant(aSec: number, aNsec: number, b: Instant): number {
  return aSec !== b.sec ? aSec - b.sec : aNsec - b.nsec;
}

/** The entry's type, from the walk or else from its stat. */
export function typeOf(e: FindEntry): number {
  if (e.type !== DT.UNKNOWN) return e.type;
  return e.stat ? modeType(e.stat.mode) : DT.UNKNOWN;
}

/** The DT_* type of each -type letter (D, a Solaris door, is never found here). */
export const TYPE_LETTERS: Record<string, number> = {
  b: DT.BLK,
  c: DT.CHR,
  d: DT.DIR,
  p: DT.FIFO,
  f: DT.REG,
  l: DT.LNK,
  s: DT.SOCK,
  D: -1,
};

/**
 * -true and -false, and the options, which are true where they stand.
 * Only a true one leaves the fast path's chain as it is.
 */
export function constant(name: string, value: boolean): Primary | FastPrimary {
  if (!value) return { name, test: () => false };
  return { name, fast: { none: true }, test: () => true };
}

/** -name and -iname: the last component of the path (trailing slashes of a root ignored). */
export function nameTest(name: string, glob: Glob): FastPrimary {
  return {
    name,
    fast: { glob },
    test(e) {
      let end = e.path.length;
      if (e.depth === 0) {
        while (end > e.nameStart + 1 && e.path[end - 1] === 0x2f) end--;
      }
      return glob.matches(e.path, e.nameStart, end);
    },
  };
}

/** -path, -ipath, -wholename, -iwholename: the whole path. */
export function pathTest(name: string, glob: Glob): Primary {
  return { name, test: (e) => glob.matches(e.path) };
}

/** -lname and -ilname: a symlink's target (a link -L resolved is no link). */
export function linkNameTest(name: string, glob: Glob): Primary {
  return {
    name,
    needs: { linkTarget: true, types: true },
    test: (e) => typeOf(e) === DT.LNK && e.linkTarget !== undefined && glob.matches(e.linkTarget),
  };
}

/** -type with a mask of `1 << DT`. */
export function typeTest(name: string, mask: number, needsTypes: boolean): FastPrimary {
  return {
    name,
    fast: { types: mask },
    needs: { types: needsTypes },
    test: (e) => ((1 << typeOf(e)) & mask) !== 0,
  };
}

/**
 * -xtype: the type under the other rule for links.  Without -L, a link's
 * target's type (a link that leads nowhere is l); with -L, lstat's.
 */
export function xtypeTest(mask: number): Primary {
  return {
    name: "-xtype",
    needs: { xstat: true, types: true },
    test(e, ctx) {
      const x = e.xstat;
      let type = typeOf(e);
      if (x !== undefined && !isError(x)) type = modeType(x.mode);
      else if (x !== undefined && !leadsNowhere(x)) {
        ctx.report(e.path, x.message);
        return false;
      }
      return ((1 << type) & mask) !== 0;
    },
  };
}

/** Whether a failed stat through a link means the link leads nowhere. */
export function leadsNowhere(error: FindError): boolean {
  return error.code === "ENOENT" || error.code === "ENOTDIR";
}

/** A test on the stat alone; false for an entry without one. */
function statTest(
  name: string,
  test: (s: FindStat, e: FindEntry, ctx: EvalContext) => boolean,
): Primary {
  return {
    name,
    needs: { stat: true },
    test: (e, ctx) => e.stat !== undefined && test(e.stat, e, ctx),
  };
}

/** -empty: an empty regular file, or a directory with no entries. */
export function emptyTest(): Primary {
  return {
    name: "-empty",
    needs: { stat: true, empty: true },
    test(e) {
      const type = typeOf(e);
      if (type === DT.DIR) return e.empty === true;
      return type === DT.REG && e.stat !== undefined && e.stat.size === 0;
    },
  };
}

/** -links, -inum, -uid, -gid. */
export function numberTest(
  name: string,
  field: "nlink" | "ino" | "uid" | "gid",
  c: Compare,
): Primary {
  return statTest(name, (s) => compare(c, s[field]));
}

/** -user and -group (an id, looked up when parsed). */
export function ownerTest(name: string, field: "uid" | "gid", id: number): Primary {
  return statTest(name, (s) => s[field] === id);
}

/** -nouser and -nogroup: an id with no name. */
export function orphanTest(name: string, field: "uid" | "gid"): Primary {
  return statTest(name, (s, _e, ctx) => {
    const accounts = ctx.accounts;
    return field === "uid"
      ? accounts.userName(s.uid) === undefined
      : accounts.groupName(s.gid) === undefined;
  });
}

/** -size: the size in units, rounded up, compared. */
export function sizeTest(c: Compare, unit: number): Primary {
  return statTest("-size", (s) => compare(c, Math.ceil(s.size / unit)));
}

/** -perm: exact mode, all of these bits (`-MODE`), or any of them (`/MODE`). */
export function permTest(kind: "exact" | "all" | "any", file: number, dir: number): Primary {
  return statTest("-perm", (s) => {
    const want = modeType(s.mode) === DT.DIR ? dir : file;
    const mode = s.mode & 0o7777;
    if (kind === "exact") return mode === want;
    if (kind === "all") return (mode & want) === want;
    return want === 0 || (mode & want) !== 0;
  });
}

/** Which time of a stat: a (access), c (change) or m (modification). */
export type TimeField = "a" | "c" | "m";

/** A stat's time as seconds and nanoseconds. */
export function timeOf(s: FindStat, field: TimeField): [number, number] {
  if (field === "a") return [s.atimeSec, s.atimeNsec];
  if (field === "c") return [s.ctimeSec, s.ctimeNsec];
  return [s.mtimeSec, s.mtimeNsec];
}

/**
 * -mtime, -mmin and their a/c kin, as find decides them: after (`gt`) or
 * before (`lt`) an instant, or (`eq`) after it by at most `window` seconds.
 */
export function timeTest(
  name: string,
  field: TimeField,
  kind: "gt" | "lt" | "eq",
  ref: Instant,
  window: number,
): Primary {
  return statTest(name, (s) => {
    const [sec, nsec] = timeOf(s, field);
    const d = cmpInstant(sec, nsec, ref);
    if (kind === "gt") return d > 0;
    if (kind === "lt") return d < 0;
    if (d <= 0) return false;
    // 0 < t - ref <= window
    return sec - ref.sec < window || (sec - ref.sec === window && nsec <= ref.nsec);
  });
}

/** -newer, -anewer, -cnewer, -newerXY: a time later than a reference instant. */
export function newerTest(name: string, field: TimeField, ref: Instant): Primary {
  return statTest(name, (s) => {
    const [sec, nsec] = timeOf(s, field);
    return cmpInstant(sec, nsec, ref) > 0;
  });
}

/** -samefile: the same device and inode. */
export function sameFileTest(dev: number, ino: number): Primary {
  return statTest("-samefile", (s) => s.dev === dev && s.ino === ino);
}

/**
 * -readable, -writable, -executable: what access(2) would say for the real
 * user, decided from the mode bits of what the path leads to (see
 * `accessible`); false when that cannot be stat'ed.
 */
export function accessTest(name: string, want: number): Primary {
  return {
    name,
    needs: { followed: true },
    test(e, ctx) {
      const s = e.followed;
      return s !== undefined && accessible(ctx.identity, s.mode, s.uid, s.gid, want);
    },
  };
}

/** -prune: do not descend into this directory (nothing under -depth). */
export function prune(): Primary {
  return {
    name: "-prune",
    wantsStat: true,
    test(e, ctx) {
      if (!ctx.postOrder && typeOf(e) === DT.DIR) ctx.prune = true;
      return true;
    },
  };
}

/** -quit: stop the walk once this entry is done with. */
export function quit(): Primary {
  return {
    name: "-quit",
    test(_e, ctx) {
      ctx.quit = true;
      return true;
    },
  };
}
