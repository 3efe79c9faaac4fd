/**
 * `walk()`: an async directory walker with the options and entries of
 * `@std/fs` `walk`, built on `IoQueue`.
 *
 * @module
 */

import type { IoQueue, IoQueueOptions } from "./queue.ts";
import { type PathSink, type WalkConfig, type WalkEntry, Walker } from "./walker.ts";
import { normalize, rootPath } from "./walk_path.ts";

export type { WalkEntry };

/**
 * Options for `walk()`.  The first nine are those of `@std/fs` `walk`, with
 * the same defaults and meaning.
 *
 * @example Markdown files, depth first, on a queue of two threads, with a time limit
 * ```ts
 * import { walk, type WalkOptions } from "@ioq/ioq";
 *
 * const options: WalkOptions = {
 *   maxDepth: 3,
 *   exts: [".md"],
 *   skip: [/node_modules/, /\.git$/],
 *   order: "dfs",
 *   onError: (error, path) => console.error(path, error.message),
 *   signal: AbortSignal.timeout(10_000),
 *   queue: { threads: 2 },
 * };
 * for await (const entry of walk(".", options)) console.log(entry.path);
 * ```
 */
export interface WalkOptions {
  /**
   * The deepest level to yield: the root is 0, its entries 1.
   *
   * @default {Infinity}
   */
  maxDepth?: number;
  /**
   * Yield files (and other non-directories: FIFOs, sockets, devices).
   *
   * @default {true}
   */
  includeFiles?: boolean;
  /**
   * Yield directories, the root included.
   *
   * @default {true}
   */
  includeDirs?: boolean;
  /**
   * Yield symlinks (when not following them).
   *
   * @default {true}
   */
  includeSymlinks?: boolean;
  /**
   * Follow symlinks: descend into linked directories and yield linked files
   * at their target.  A link back to an ancestor is reported as an error
   * (`Deno.errors.FilesystemLoop`, code `ELOOP`) and not descended; a broken
   * link is yielded as a symlink.
   *
   * @default {false}
   */
  followSymlinks?: boolean;
  /**
   * When following symlinks, show paths through them resolved to their
   * canonical path (as `Deno.realPath` gives it) rather than as found.  The
   * resolution works on bytes, relative to the directory holding the link,
   * so names that are not UTF-8 (see `pathBytes`) and paths longer than
   * `PATH_MAX` resolve too.
   *
   * @default {true}
   */
  canonicalize?: boolean;
  /**
   * Yield only paths ending in one of these extensions (`".ts"` or `"ts"`).
   *
   * @default {undefined}
   */
  exts?: string[];
  /**
   * Yield only paths matching one of these patterns.
   *
   * @default {undefined}
   */
  match?: RegExp[];
  /**
   * Skip paths matching one of these patterns; a skipped directory is not
   * descended.
   *
   * @default {undefined}
   */
  skip?: RegExp[];
  /**
   * `"bfs"`: breadth-first, shallow entries first (as bfs does).  `"dfs"`:
   * depth-first, a directory's subtree before its next sibling's.
   *
   * @default {"bfs"}
   */
  order?: "bfs" | "dfs";
  /**
   * Stops the walk: the iterator throws the signal's reason, and everything
   * the walk opened is closed.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Called for an error (a directory that cannot be read, a loop, an entry
   * that vanished); the walk goes on.  Without it, the first error is thrown
   * and the walk ends, as `@std/fs` `walk` does.
   *
   * @default {undefined}
   */
  onError?: (error: Error, path: string) => void;
  /**
   * Give every entry its `stat` (an lstat; the target's stat for followed
   * symlinks), fetched through the queue many at a time.
   *
   * @default {false}
   */
  stat?: boolean;
  /**
   * Do not descend into directories on another file system than the root
   * (mount points are yielded, not entered), as `find -xdev`.
   *
   * @default {false}
   */
  sameFilesystem?: boolean;
  /**
   * The queue to use (the walk uses it alone while it runs, and leaves it
   * open; a second walk on it meanwhile throws `Deno.errors.Busy`), or
   * options for a queue of its own, closed when the walk ends.
   *
   * @default {{} (a new queue with default options)}
   */
  queue?: IoQueue | IoQueueOptions;
}

/** Applies defaults and checks option types. */
export function configure(options: WalkOptions): WalkConfig {
  const {
    maxDepth = Infinity,
    includeFiles = true,
    includeDirs = true,
    includeSymlinks = true,
    followSymlinks = false,
    canonicalize = true,
    exts,
    match,
    skip,
    order = "bfs",
    signal,
    onError,
    stat = false,
    sameFilesystem = false,
  } = options;
  if (typeof maxDepth !== "number" || Number.isNaN(maxDepth)) {
    throw new TypeError(`Cannot walk: maxDepth must be a number, not ${maxDepth}`);
  }
  if (order !== "bfs" && order !== "dfs") {
    throw new TypeError(`Cannot walk: order must be "bfs" or "dfs", not ${order}`);
  }
  if (onError !== undefined && typeof onError !== "function") {
    throw new TypeError("Cannot walk: onError must be a function");
  }
  return {
    maxDepth,
    includeFiles,
    includeDirs,
    includeSymlinks,
    followSymlinks,
    canonicalize,
    exts: exts?.map((ext) => ext.startsWith(".") ? ext : `.${ext}`),
    match,
    skip,
    order,
    signal,
    onError,
    stat,
    sameFilesystem,
    findStyle: false,
  };
}

/**
 * Walks a directory tree, yielding an entry for the root and everything
 * below it: a drop-in for `@std/fs` `walk` (same options, defaults, paths and
 * entries), with directories opened and read ahead on an `IoQueue`, many at a
 * time, so the event loop stays free.
 *
 * Paths longer than PATH_MAX work (directories are opened relative to their
 * parents), and open directories are cached within the process's descriptor
 * limit.  Leaving the loop early (`break`, `return`, an abort) closes
 * everything the walk opened.
 *
 * @param root The directory to walk: a path or a `file:` URL.
 * @param options See `WalkOptions`.
 * @returns An async iterator of `WalkEntry`.
 * @throws {Deno.errors.NotFound} (and other OS errors) When the root or a
 *   directory below it cannot be read and no `onError` is given.
 *
 * @example Count the TypeScript files under a directory
 * ```ts
 * import { walk } from "@ioq/ioq";
 *
 * let count = 0;
 * for await (const entry of walk(".", { exts: [".ts"], skip: [/node_modules/] })) {
 *   if (entry.isFile) count++;
 * }
 * console.log(count);
 * ```
 *
 * @example Keep going past unreadable directories
 * ```ts
 * import { walk } from "@ioq/ioq";
 *
 * const onError = (error: Error, path: string) => console.error(path, error.message);
 * for await (const entry of walk("/etc", { maxDepth: 2, onError })) {
 *   if (entry.isSymlink) console.log(entry.path);
 * }
 * ```
 */
export function walk(
  root: string | URL,
  options: WalkOptions = {},
): AsyncIterableIterator<WalkEntry> {
  // Like @std/fs, report bad arguments from the first next(), not from here
  return new Walker(() => {
    const path = rootPath(root);
    return { root: path, display: normalize(path), cfg: configure(options), queue: options.queue };
  }).run();
}

/**
 * Internal, for the CLI: walks with find(1) semantics instead of @std/fs
 * ones (see `WalkConfig.findStyle`): the root's path as given, links
 * followed without canonicalizing, loops on a link itself reported.  With a
 * `sink`, directory listings go to it as ready-made paths, and only the root
 * and entries that needed a stat come through the iterator.
 */
export function walkLikeFind(
  root: string,
  options: WalkOptions = {},
  sink?: PathSink,
): AsyncIterableIterator<WalkEntry> {
  return new Walker(() => ({
    root,
    display: root,
    cfg: { ...configure(options), findStyle: true, canonicalize: false, sink },
    queue: options.queue,
  })).run();
}
