import type { WalkOptions } from "../mod.ts";
/**
 * Reference walkers for the benchmarks.
 *
 * `stdWalk` is our own implementation of what `@std/fs` 1.0.x `walk()`
 * does, step for step, so that its cost is the real one even where JSR (and
 * so `@std/fs` itself) cannot be reached:
 *
 * - the root entry is built from `Deno.stat` of the normalized root (it
 *   follows a symlink root);
 * - each directory is listed with `for await (… of Deno.readDir(dir))`, one
 *   directory at a time, depth-first, in directory order;
 * - each child's path is `join(dir, name)` (join, then a full normalize of
 *   the joined string), and a yielded entry is `{ path, ...dirEntry }`;
 * - symlinks are yielded without a stat unless followed; when followed,
 *   `Deno.realPath` then `Deno.lstat` of the real path, and `canonicalize`
 *   applies at the first level only (std does not pass it down);
 * - subdirectories are walked by a recursive call, re-yielded with `yield*`
 *   through every level;
 * - filters: `exts`, then `match`, then `skip` on the path; `skip` on a
 *   directory prunes it; errors are rethrown wrapped in a `WalkError` naming
 *   the directory.
 *
 * `readDirSyncWalk` is the plain synchronous floor: recursive
 * `Deno.readDirSync`, building every entry's path.
 *
 * @module
 */

/** An entry yielded by `stdWalk`, as `@std/fs` `walk` yields it. */
export interface StdWalkEntry {
  path: string;
  name: string;
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
}

/** The options of `@std/fs` `walk` (ioq's `WalkOptions` has the same ones, same defaults). */
export type StdWalkOptions = Pick<
  WalkOptions,
  | "maxDepth"
  | "includeFiles"
  | "includeDirs"
  | "includeSymlinks"
  | "followSymlinks"
  | "canonicalize"
  | "exts"
  | "match"
  | "skip"
>;

/** The error `stdWalk` throws, naming the directory being walked (as std's `WalkError`). */
export class WalkError extends Error {
  /** The directory whose walk failed. */
  root: string;

  /** Wraps `cause`, met while walking `root`. */
  constructor(cause: unknown, root: string) {
    super(`${cause instanceof Error ? cause.message : cause} for path "${root}"`, { cause });
    this.name = "WalkError";
    this.root = root;
  }
}

const SLASH = 47;
const DOT = 46;

/**
 * Normalizes a POSIX path: collapses slashes, resolves `.` and `..` (a
 * leading `..` of a relative path stays), keeps one trailing slash; `""`
 * becomes `"."`.  Scans the whole string, as std's `normalize` does.
 */
export function normalize(path: string): string {
  if (typeof path !== "string") throw new TypeError(`Path must be a string, got ${typeof path}`);
  if (path.length === 0) return ".";
  const absolute = path.charCodeAt(0) === SLASH;
  const trailing = path.charCodeAt(path.length - 1) === SLASH;
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i < path.length && path.charCodeAt(i) !== SLASH) continue;
    const len = i - start;
    if (len === 1 && path.charCodeAt(start) === DOT) {
      // "." adds nothing
    } else if (len === 2 && path.charCodeAt(start) === DOT && path.charCodeAt(start + 1) === DOT) {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push("..");
    } else if (len > 0) {
      parts.push(path.slice(start, i));
    }
    start = i + 1;
  }
  let out = parts.join("/");
  if (out.length === 0 && !absolute) out = ".";
  if (out.length > 0 && trailing) out += "/";
  return absolute ? `/${out}` : out;
}

/** Joins POSIX path segments (empty ones dropped) and normalizes the result, as std's `join`. */
export function join(...paths: string[]): string {
  for (const p of paths) {
    if (typeof p !== "string") throw new TypeError(`Path must be a string, got ${typeof p}`);
  }
  const joined = paths.filter((p) => p.length > 0).join("/");
  return joined === "" ? "." : normalize(joined);
}

/** The last segment of a POSIX path, trailing slashes ignored, as std's `basename`. */
export function basename(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === SLASH) end--;
  const trimmed = path.slice(0, end);
  if (trimmed === "/") return "";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** A path string for a path or a `file:` URL. */
function toPathString(root: string | URL): string {
  if (typeof root === "string") return root;
  if (root.protocol !== "file:") throw new TypeError(`Must be a file URL: ${root.href}`);
  return decodeURIComponent(root.pathname.replace(/%(?![0-9A-Fa-f]{2})/g, "%25"));
}

/** std's filter: extensions, then match, then skip. */
function include(path: string, exts?: string[], match?: RegExp[], skip?: RegExp[]): boolean {
  if (exts && !exts.some((ext) => path.endsWith(ext))) return false;
  if (match && !match.some((pattern) => !!path.match(pattern))) return false;
  if (skip && skip.some((pattern) => !!path.match(pattern))) return false;
  return true;
}

/** The root's entry: normalized path, basename, and a following `Deno.stat`. */
async function rootEntry(path: string): Promise<StdWalkEntry> {
  path = normalize(path);
  const name = basename(path);
  const info = await Deno.stat(path);
  return {
    path,
    name,
    isFile: info.isFile,
    isDirectory: info.isDirectory,
    isSymlink: info.isSymlink,
  };
}

/**
 * Walks `root` with the semantics (and the costs) of `@std/fs` 1.0.x
 * `walk()`: see the module documentation.
 *
 * @param root A directory path or `file:` URL.
 * @param options As `@std/fs` `walk`.
 * @returns An async iterator of entries, the root first.
 * @throws {WalkError} When a directory cannot be read.
 */
export async function* stdWalk(
  root: string | URL,
  {
    maxDepth = Infinity,
    includeFiles = true,
    includeDirs = true,
    includeSymlinks = true,
    followSymlinks = false,
    canonicalize = true,
    exts = undefined,
    match = undefined,
    skip = undefined,
  }: StdWalkOptions = {},
): AsyncIterableIterator<StdWalkEntry> {
  if (maxDepth < 0) return;
  root = toPathString(root);
  if (includeDirs && include(root, exts, match, skip)) yield await rootEntry(root);
  if (maxDepth < 1 || !include(root, undefined, undefined, skip)) return;
  try {
    for await (const entry of Deno.readDir(root)) {
      let path = join(root, entry.name);
      let { isSymlink, isDirectory } = entry;
      if (isSymlink) {
        if (!followSymlinks) {
          if (includeSymlinks && include(path, exts, match, skip)) yield { path, ...entry };
          continue;
        }
        const real = await Deno.realPath(path);
        if (canonicalize) path = real;
        ({ isSymlink, isDirectory } = await Deno.lstat(real));
      }
      if (isSymlink || isDirectory) {
        // As std: every option but canonicalize is passed down
        yield* stdWalk(path, {
          maxDepth: maxDepth - 1,
          includeFiles,
          includeDirs,
          includeSymlinks,
          followSymlinks,
          exts,
          match,
          skip,
        });
      } else if (includeFiles && include(path, exts, match, skip)) {
        yield { path, ...entry };
      }
    }
  } catch (error) {
    throw error instanceof WalkError ? error : new WalkError(error, normalize(root));
  }
}

/**
 * Counts the entries under `root` (the root included) with recursive
 * `Deno.readDirSync`, building each entry's path; symlinks are not followed.
 *
 * @returns The count and the total length of the paths (so no work is optimized away).
 */
export function readDirSyncWalk(root: string): { count: number; pathChars: number } {
  let count = 1;
  let pathChars = root.length;
  const visit = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      count++;
      pathChars += path.length;
      if (entry.isDirectory) visit(path);
    }
  };
  visit(root);
  return { count, pathChars };
}
