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

import {
  stdBasename,
  stdInclude,
  stdJoin,
  stdNormalize,
  stdToPathString,
  type StdWalkEntry,
  type StdWalkOptions,
} from "../tests/std_fs.ts";

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

/** The root's entry: normalized path, basename, and a following `Deno.stat`. */
async function rootEntry(path: string): Promise<StdWalkEntry> {
  path = stdNormalize(path);
  const name = stdBasename(path);
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
  root = stdToPathString(root);
  if (includeDirs && stdInclude(root, exts, match, skip)) yield await rootEntry(root);
  if (maxDepth < 1 || !stdInclude(root, undefined, undefined, skip)) return;
  try {
    for await (const entry of Deno.readDir(root)) {
      let path = stdJoin(root, entry.name);
      let { isSymlink, isDirectory } = entry;
      if (isSymlink) {
        if (!followSymlinks) {
          if (includeSymlinks && stdInclude(path, exts, match, skip)) yield { path, ...entry };
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
      } else if (includeFiles && stdInclude(path, exts, match, skip)) {
        yield { path, ...entry };
      }
    }
  } catch (error) {
    throw error instanceof WalkError ? error : new WalkError(error, stdNormalize(root));
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
