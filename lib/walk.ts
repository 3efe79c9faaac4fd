/**
 * `walk()`: an async directory walker with the options and entries of
 * `@std/fs` `walk`, on the C traversal engine.
 *
 * @module
 */

import { WalkIterator, WalkSyncIterator } from "./walk_iterator.ts";
import { plan, type WalkOptions } from "./walk_options.ts";
import type { WalkEntry } from "./walk_run.ts";

export type { WalkEntry, WalkOptions };

/**
 * Walks a directory tree, yielding an entry for the root and everything
 * below it: a drop-in for `@std/fs` `walk` (same options, defaults, paths and
 * entries).  The traversal runs in C on an `IoQueue`'s worker threads, which
 * open, read and filter many directories at a time; JavaScript only turns
 * finished batches into entries, so the event loop stays free.
 *
 * Paths longer than PATH_MAX work (directories are opened relative to their
 * parents), open directories are kept within the process's descriptor
 * limit, and a walk that does not follow symlinks never enters one, even if
 * an entry is swapped for a link while the walk runs.  Leaving the loop
 * early (`break`, `return`, an abort) closes everything the walk opened.
 *
 * @param root The directory to walk: a path or a `file:` URL.
 * @param options See `WalkOptions`.
 * @returns An async iterator of `WalkEntry`.
 * @throws {TypeError} From the first `next()`, for an option of the wrong
 *   type (naming it) or a root that is not a path.
 * @throws {Deno.errors.NotFound} (and other OS errors) When the root or a
 *   directory below it cannot be read and no `onError` is given.
 * @throws {Deno.errors.NotCapable} Deno's own error, when read access is
 *   scoped (`--allow-read=PATH`, `--deny-read`) and does not cover the root
 *   or a directory below it, and no `onError` is given (see the README's
 *   permissions section).
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
  // Like @std/fs, bad arguments are reported by the first next()
  return new WalkIterator(() => plan(root, options));
}

/**
 * `walk()`, blocking: the same options and entries, for scripts and build
 * tools that do not want an async loop.  The walk still runs on the queue's
 * worker threads; the calling thread waits for each batch.  `signal` is
 * only looked at between entries (nothing else can run to abort it
 * meanwhile, unless from another worker).
 *
 * @param root The directory to walk: a path or a `file:` URL.
 * @param options See `WalkOptions`.
 * @returns An iterator of `WalkEntry`.
 * @throws {TypeError} From the first `next()`, for an option of the wrong type.
 * @throws {Deno.errors.NotFound} (and other OS errors) When the root or a
 *   directory below it cannot be read and no `onError` is given.
 * @throws {Deno.errors.NotCapable} Deno's own error, when read access is
 *   scoped (`--allow-read=PATH`, `--deny-read`) and does not cover the root
 *   or a directory below it, and no `onError` is given (see the README's
 *   permissions section).
 *
 * @example The Markdown files of a directory, sorted
 * ```ts
 * import { walkSync } from "@ioq/ioq";
 *
 * const md = Array.from(walkSync(".", { exts: [".md"], sort: true }), (e) => e.path);
 * console.log(md);
 * ```
 */
export function walkSync(
  root: string | URL,
  options: WalkOptions = {},
): IterableIterator<WalkEntry> {
  return new WalkSyncIterator(() => plan(root, options));
}
