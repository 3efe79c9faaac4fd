/**
 * ioq: the asynchronous I/O queue of the bfs find tool, for Deno.
 *
 * An `IoQueue` runs file-system requests (open a directory and read its
 * first entries, stat a path, close) on worker threads, through io_uring
 * where the kernel allows it, with a thread-pool fallback.  Completions come
 * back in batches; waiting happens on another thread, so the event loop
 * never blocks.  Linux only.
 *
 * Permissions: `--allow-ffi --allow-read --allow-env`.
 *
 * ```ts
 * import { IoQueue } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.opendir(".", 1);
 * const [done] = await q.pop();
 * if (done.op !== "opendir" || !done.dir) throw done.error;
 * using dir = done.dir;
 * for (const entry of dir) console.log(entry.name, entry.type);
 * ```
 *
 * @module
 */

export {
  type Backend,
  type CloseCompletion,
  type CloseDirCompletion,
  type Completion,
  type CompletionBase,
  IoQueue,
  type IoQueueOptions,
  type NopCompletion,
  type OpenDirCompletion,
  type OpenDirOptions,
  type StatCompletion,
  type StatOptions,
} from "./lib/queue.ts";
export { Dir, DirBatch, type DirEntry, type EntryType } from "./lib/dir.ts";
export type { IoqError } from "./lib/errors.ts";
export type { PathLike } from "./lib/path.ts";
export { walk, type WalkEntry, type WalkOptions, walkSync } from "./lib/walk.ts";
export { glob, type GlobOptions, type GlobPattern, globSync } from "./lib/glob.ts";
