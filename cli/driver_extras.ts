/**
 * For cli/driver.ts: what the walker's entries lack, fetched one entry at a
 * time (the walker gives no such thing): stats through a queue of its own
 * (raw-byte paths), whether a directory is empty, a link's target.
 *
 * @module
 */

import { type FindEntry, type FindError, findError, type FindStat, findStat } from "./entry.ts";
import { runBytes } from "./exec.ts";
import { IoQueue } from "../lib/queue.ts";

const encoder = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** Fetches extras; errors that are not part of the answer go to `report`. */
export class Extras {
  readonly #backend: "auto" | "io_uring" | "threads";
  readonly #report: (path: Uint8Array, error: FindError) => void;
  /** Made on first use. */
  #queue: IoQueue | undefined;

  constructor(
    backend: "auto" | "io_uring" | "threads",
    report: (path: Uint8Array, error: FindError) => void,
  ) {
    this.#backend = backend;
    this.#report = report;
  }

  /** Closes the queue, if one was made. */
  async close(): Promise<void> {
    if (this.#queue) await this.#queue[Symbol.asyncDispose]();
  }

  /** The queue. */
  get #q(): IoQueue {
    return this.#queue ??= new IoQueue({ depth: 16, threads: 1, backend: this.#backend });
  }

  /** stat or lstat through the queue (or the error, one the queue refused included). */
  async stat(path: Uint8Array, follow: boolean): Promise<FindStat | FindError> {
    try {
      this.#q.stat(path, 0, { followSymlinks: follow });
    } catch (error) {
      // A path the program may not read (scoped --allow-read)
      return findError(error as Error);
    }
    const [done] = await this.#q.pop();
    if (done.op === "stat" && done.stat) return findStat(done.stat);
    return findError(done.error ?? new Error("stat failed"));
  }

  /** Whether a directory has no entries; an error is reported (and it is not empty). */
  async isEmpty(e: FindEntry): Promise<boolean> {
    try {
      this.#q.opendir(e.path, 0);
    } catch (error) {
      this.#report(e.path, findError(error as Error));
      return false;
    }
    const [done] = await this.#q.pop();
    if (done.op !== "opendir" || !done.dir) {
      this.#report(e.path, findError(done.error ?? new Error("opendir failed")));
      return false;
    }
    using dir = done.dir;
    try {
      const batch = dir.readBatch();
      return batch === null || batch.count === 0;
    } catch (error) {
      this.#report(e.path, findError(error as Error));
      return false;
    }
  }

  /** A link's target (reported, and empty, when it cannot be read). */
  readLink(e: FindEntry): Uint8Array | undefined {
    let path: string | undefined;
    try {
      path = strict.decode(e.path);
    } catch {
      path = undefined;
    }
    if (path !== undefined) {
      try {
        return encoder.encode(Deno.readLinkSync(path));
      } catch (error) {
        this.#report(e.path, findError(error as Error));
        return undefined;
      }
    }
    const result = runBytes(
      [encoder.encode("readlink"), encoder.encode("-n"), encoder.encode("--"), e.path],
      undefined,
      true,
    );
    if (result.code === 0 && result.stdout) return result.stdout;
    this.#report(e.path, { errno: 0, code: "EIO", message: "cannot read the link" });
    return undefined;
  }
}
