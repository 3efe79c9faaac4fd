/**
 * The contract between the CLI and the walk (cli/driver.ts): what the CLI
 * asks for (`WalkPlan`, with `Needs` and `FastPlan`), what it gets for each
 * entry (`FindEntry`), and what it answers (`Verdict`).  Nothing here
 * depends on how the walk is done.
 *
 * @module
 */

import { DT } from "../lib/layout.ts";
import type { Glob } from "./glob.ts";
import { type Output, reasonOf } from "./output.ts";

export { DT };

/** An entry's metadata, as `statx` gives it (times split into seconds and nanoseconds). */
export interface FindStat {
  dev: number;
  ino: number;
  /** File type and permission bits (`st_mode`). */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  /** 512-byte blocks allocated. */
  blocks: number;
  blksize: number;
  atimeSec: number;
  atimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
  ctimeSec: number;
  ctimeNsec: number;
}

/** Why an entry or a directory could not be read or stat'ed. */
export interface FindError {
  /** The errno (positive), e.g. 13. */
  errno: number;
  /** Its name, e.g. `"EACCES"`. */
  code: string;
  /** The reason as find prints it, e.g. `"Permission denied"`. */
  message: string;
}

/**
 * One entry of the walk.  An entry whose stat failed (it was listed, but
 * the stat the expression needs could not be made) comes with `error` and
 * without `stat`: the tests that need the stat report the error (once) and
 * are false, as in find; the others work as usual.
 */
export interface FindEntry {
  /** The path bytes as find prints them: the root as given, names joined with "/". */
  path: Uint8Array;
  /**
   * Where the entry's name starts in `path`.  For a root, after its last "/"
   * that is not trailing, as find's `%f` shows it (`"dir/"` for `"a/dir/"`,
   * `"/"` for `"/"`).
   */
  nameStart: number;
  /** How many bytes of `path` are the root as given on the command line (for `%P`, `%H`). */
  rootLength: number;
  /** Depth below the root (the root is 0). */
  depth: number;
  /** The DT_* type: lstat's, or under -L (and -H for roots) the target's for links that resolve. */
  type: number;
  /** Why the entry could not be stat'ed (see above). */
  error?: FindError;
  /** The entry's stat (lstat's, or the target's as for `type`), when the expression needs it. */
  stat?: FindStat;
  /**
   * The stat under the other rule for links, when the expression needs it
   * (`-xtype`, `%Y`): for a link not followed, its target's; for an entry
   * reached by following (-L, or -H for a root), its own lstat.  A
   * `FindError` when that failed (ENOENT or ENOTDIR: a link that leads
   * nowhere).  Entries that are not links may carry their `stat` here.
   */
  xstat?: FindStat | FindError;
  /** A symlink's target, for `-lname`, `-printf %l` and `-ls`, when the expression needs it. */
  linkTarget?: Uint8Array;
  /**
   * For access tests (`-readable` and kin), when the expression needs it:
   * the stat of what the path leads to, through links, as faccessat() sees
   * it; absent when that cannot be stat'ed (no error is reported: find
   * calls faccessat(), which just fails).
   */
  followed?: FindStat;
  /** For a directory, whether it has no entries, when the expression needs it (`-empty`). */
  empty?: boolean;
}

/** Whether an `xstat` is an error. */
export function isError(x: FindStat | FindError): x is FindError {
  return (x as FindError).errno !== undefined;
}

/** `st_mode`'s file type bits. */
const S_IFMT = 0o170000;

/** The DT_* type of an `st_mode` (the type bits shifted: S_IFDIR 0o040000 is DT_DIR 4). */
export function modeType(mode: number): number {
  return (mode & S_IFMT) >> 12;
}

/**
 * What a primary needs the walk to fetch for each entry, beyond its path,
 * depth and (f/d/l-exact) type.
 */
export interface Needs {
  /** `FindEntry.stat`. */
  stat: boolean;
  /**
   * Types other than f, d and l told apart (b, c, p, s): a listing gives
   * them, a walk that stats only some entries may not.
   */
  types: boolean;
  /** `FindEntry.xstat`. */
  xstat: boolean;
  /** `FindEntry.linkTarget` for symlinks. */
  linkTarget: boolean;
  /** `FindEntry.empty` for directories. */
  empty: boolean;
  /** `FindEntry.followed`. */
  followed: boolean;
}

/**
 * The part of find's language the walk can evaluate by itself, with no
 * entry object per entry: a conjunction of name patterns and type sets, and
 * one of three actions.  (Depths are the walk's own `minDepth`/`maxDepth`.)
 */
export interface FastPlan {
  /**
   * Name patterns every entry must match (`-name`, `-iname`): each has
   * `source` (the pattern as given) and `caseless`, and matches as glob.ts
   * documents.
   */
  names: Glob[];
  /** The DT_* types allowed, as a bit mask of `1 << DT` (`-type` lists, intersected); undefined: any. */
  types: number | undefined;
  /** Print each path and a newline, each path and a NUL, or count them. */
  action: "print" | "print0" | "count";
}

/** What the CLI asks of the walk. */
export interface WalkPlan {
  /** Starting points, as given. */
  roots: string[];
  /** -P: links are entries; -H: links given as starting points are followed; -L: all are. */
  follow: "P" | "H" | "L";
  /** -xdev: directories on other file systems are visited but not entered. */
  sameFilesystem: boolean;
  /** -depth: a directory is visited after everything below it. */
  postOrder: boolean;
  /** The expression can -prune: directories are entered only after they are visited. */
  prune: boolean;
  /** -gitignore: leave out what ignore files name (and .git), never entering ignored directories. */
  gitignore: boolean;
  /** -s: find's depth-first order, each directory's entries sorted by bytes. */
  sorted: boolean;
  /** Breadth-first (as bfs) or depth-first; -depth and -s imply depth-first. */
  order: "bfs" | "dfs";
  /** Entries shallower are walked but not visited. */
  minDepth: number;
  /** Entries deeper are not walked. */
  maxDepth: number;
  /** The queue's worker threads (default: the queue's). */
  threads: number | undefined;
  backend: "auto" | "io_uring" | "threads";
  /** What every visited entry must carry. */
  needs: Needs;
  /** -ignore_readdir_race: an entry that vanished (ENOENT) below a root is no error. */
  ignoreRace: boolean;
  /** The expression when simple enough for the walk to evaluate it (see `FastPlan`). */
  fast: FastPlan | undefined;
}

/** What the CLI wants next, after visiting an entry. */
export type Verdict = 0 | 1 | 2;
/** Go on. */
export const CONTINUE: Verdict = 0;
/** Do not descend into this directory. */
export const PRUNE: Verdict = 1;
/** Stop the walk (every root). */
export const QUIT: Verdict = 2;

/** Where the walk's results go. */
export interface DriveTarget {
  /**
   * Called for each entry at or below `minDepth`, in walk order.  The entry
   * and its buffers are valid during the call only: copy what is kept.
   */
  visit(entry: FindEntry): Verdict;
  /**
   * Called for each error that is not an entry: a starting point that
   * cannot be stat'ed, a directory that cannot be read, a loop.  The walk
   * goes on.
   */
  error(path: Uint8Array, error: FindError): void;
  /** Where the fast path writes matching paths. */
  out: Output;
}

/** An OS error as a FindError (a walk loop as find words it). */
export function findError(error: Error): FindError {
  const e = error as Error & { code?: string; errno?: number };
  const code = e.code ?? "EIO";
  let message = reasonOf(error);
  if (code === "ELOOP" && error.message.startsWith("File system loop")) {
    message = "File system loop detected";
  }
  return { errno: e.errno ?? 0, code, message };
}

/** A Deno.FileInfo as a FindStat. */
export function findStat(s: Deno.FileInfo): FindStat {
  const ms = (d: Date | null) => d?.getTime() ?? 0;
  const sec = (d: Date | null) => Math.floor(ms(d) / 1000);
  const nsec = (d: Date | null) => (ms(d) - sec(d) * 1000) * 1e6;
  return {
    dev: s.dev,
    ino: s.ino ?? 0,
    mode: s.mode ?? 0,
    nlink: s.nlink ?? 0,
    uid: s.uid ?? 0,
    gid: s.gid ?? 0,
    rdev: s.rdev ?? 0,
    size: s.size,
    blocks: s.blocks ?? 0,
    blksize: s.blksize ?? 0,
    atimeSec: sec(s.atime),
    atimeNsec: nsec(s.atime),
    mtimeSec: sec(s.mtime),
    mtimeNsec: nsec(s.mtime),
    ctimeSec: sec(s.ctime),
    ctimeNsec: nsec(s.ctime),
  };
}
