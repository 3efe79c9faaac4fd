/**
 * The iterator `walk()` returns: it starts the engine on the first
 * `next()`, takes its batches, turns records into `WalkEntry` objects (one
 * UTF-8 decode per batch), applies `match`/`skip`, answers the engine's
 * gates, reports errors, and lets the event loop run at least every
 * millisecond.
 *
 * @module
 */

import { type BatchView, Engine } from "./engine.ts";
import { osError } from "./errors.ts";
import { DT, LAYOUT, WALK, WALK_LAYOUT } from "./layout.ts";
import { IoQueue, queueCore } from "./queue.ts";
import { readStat } from "./stat.ts";
import { include, plan, type WalkOptions, type WalkPlan } from "./walk_options.ts";
import { setImmediate } from "node:timers";

/**
 * An entry `walk()` yields.
 *
 * @example Paths, depths and raw bytes
 * ```ts
 * import { walk, type WalkEntry } from "@ioq/ioq";
 *
 * for await (const entry of walk("/etc", { maxDepth: 1, stat: true })) {
 *   const e: WalkEntry = entry;
 *   const path = e.pathBytes ?? e.path; // raw bytes when a name is not UTF-8
 *   console.log(e.depth, path, e.isDirectory ? "dir" : e.stat?.size);
 * }
 * ```
 */
export interface WalkEntry extends Deno.DirEntry {
  /** The path: the root joined with the names below it, as `@std/fs` `walk` gives it. */
  path: string;
  /** Depth below the root (the root is 0). */
  depth: number;
  /** The raw name, only when it is not valid UTF-8 (`name` then has U+FFFD). */
  nameBytes?: Uint8Array;
  /** The raw path, only when some part of it is not valid UTF-8. */
  pathBytes?: Uint8Array;
  /** The entry's stat (lstat; stat for followed symlinks), with `walk(root, { stat: true })`. */
  stat?: Deno.FileInfo;
}

const decoder = new TextDecoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** Words per record in a batch's record array. */
const WORDS = WALK_LAYOUT.REC_SIZE / 4;

/** What each `enum ioq_walk_op` is called in an error. */
const OPS = ["walk", "opendir", "readdir", "stat", "realpath", "walk"];

/** Whether bytes are valid UTF-8. */
function isUtf8(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Records between looks at the clock. */
const BREATH_EVERY = 256;
/** How long the walk may hold the event loop, in milliseconds. */
const BREATH_MS = 1;

/** Lets the event loop run (timers, I/O) before going on. */
function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The state of one `walk()`. */
export class WalkIterator implements AsyncIterableIterator<WalkEntry> {
  readonly #root: string | URL;
  readonly #options: WalkOptions;
  #plan: WalkPlan | undefined;
  #engine: Engine | null = null;
  /** A queue of the walk's own, closed at the end. */
  #own: IoQueue | null = null;
  /** A queue of the caller's. */
  #theirs: IoQueue | null = null;
  #started = false;
  #done = false;
  /** The batch being read, its decoded text, and the next record. */
  #batch: BatchView | null = null;
  #text = "";
  #i = 0;
  /** When the event loop last ran, and records since the clock was read. */
  #breath = 0;
  #sinceLook = 0;
  #onAbort: (() => void) | null = null;
  /** The end in progress, shared by concurrent callers. */
  #ending: Promise<void> | null = null;

  constructor(root: string | URL, options: WalkOptions) {
    this.#root = root;
    this.#options = options;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WalkEntry> {
    return this;
  }

  /** See `AsyncIterator.next`. */
  next(): Promise<IteratorResult<WalkEntry>> {
    if (this.#batch && !this.#plan!.signal?.aborted && !this.#engine?.cancelled) {
      try {
        const entry = this.#take();
        if (entry) return Promise.resolve({ value: entry, done: false });
      } catch (error) {
        return this.#fail(error);
      }
    }
    return this.#slow();
  }

  /** Ends the walk early (`break`, `return`): closes everything it opened. */
  async return(value?: unknown): Promise<IteratorResult<WalkEntry>> {
    this.#started = true;
    await this.#end();
    return { value: value as WalkEntry, done: true };
  }

  /** Ends the walk and rethrows. */
  async throw(error?: unknown): Promise<IteratorResult<WalkEntry>> {
    this.#started = true;
    await this.#end();
    throw error;
  }

  /** Ends the walk, then rejects with `error`. */
  async #fail(error: unknown): Promise<never> {
    await this.#end();
    throw error;
  }

  /** Everything that may wait: starting, waiting for batches, gates, breathing. */
  async #slow(): Promise<IteratorResult<WalkEntry>> {
    try {
      if (!this.#started) await this.#start();
      while (!this.#done) {
        const plan = this.#plan!;
        plan.signal?.throwIfAborted();
        if (this.#engine?.cancelled) {
          // Cancelled through the queue: stop now, even inside a batch
          throw this.#why(osError(-LAYOUT.EINTR, "walk"));
        }
        if (this.#batch) {
          const entry = this.#take();
          if (entry) return { value: entry, done: false };
          if (this.#batch) {
            // Held the event loop long enough: let it run
            await breathe();
            this.#breath = performance.now();
          }
          continue;
        }
        const engine = this.#engine!;
        let event;
        try {
          event = engine.next();
        } catch (error) {
          throw this.#why(error);
        }
        if (event.kind === "batch") {
          this.#open(event.batch);
        } else if (event.kind === "ask") {
          engine.answer((path) => include(decoder.decode(path), undefined, undefined, plan.skip));
        } else if (event.kind === "end") {
          break;
        } else {
          await engine.wait();
          this.#breath = performance.now();
        }
      }
    } catch (error) {
      await this.#end();
      throw error;
    }
    await this.#end();
    return { value: undefined, done: true };
  }

  /** Why the engine stopped: the signal, a closed queue, or a cancelled one. */
  #why(error: unknown): unknown {
    const signal = this.#plan!.signal;
    if (signal?.aborted) return signal.reason;
    if (this.#theirs?.closed) {
      return new Deno.errors.BadResource("Cannot walk: the queue was closed during the walk");
    }
    return error;
  }

  /** Checks the options, makes or takes the queue, starts the engine. */
  async #start(): Promise<void> {
    this.#started = true;
    const plan = this.#plan = plan_(this.#root, this.#options);
    plan.signal?.throwIfAborted();
    if (plan.empty) {
      this.#done = true;
      return;
    }
    const given = plan.queue;
    if (given instanceof IoQueue) {
      this.#theirs = given;
    } else {
      this.#own = new IoQueue(given);
    }
    const queue = (this.#theirs ?? this.#own)!;
    const core = queueCore(queue);
    if (core.walk) {
      const error = new Deno.errors.Busy("Cannot walk: another walk is using the queue");
      (error as Error & { code: string }).code = "EBUSY";
      throw error;
    }
    this.#engine = new Engine(core, plan.config, plan.items);
    if (plan.signal) {
      const engine = this.#engine;
      this.#onAbort = () => engine.cancel();
      plan.signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    // Loading the library and starting the threads took a while the first time
    await breathe();
    this.#breath = performance.now();
  }

  /** Starts reading a batch. */
  #open(batch: BatchView): void {
    this.#batch = batch;
    this.#i = 0;
    this.#text = batch.front > 0 ? decoder.decode(batch.text.subarray(0, batch.front)) : "";
  }

  /**
   * The next entry of the current batch to yield, or undefined when the
   * batch is done (then released) or the event loop is due (the batch is
   * kept).  Errors go to onError or are thrown.
   */
  #take(): WalkEntry | undefined {
    const b = this.#batch!;
    const plan = this.#plan!;
    const { words, bytes } = b;
    const text = this.#text;
    const { match, skip } = plan;
    while (this.#i < b.count) {
      if (++this.#sinceLook >= BREATH_EVERY) {
        this.#sinceLook = 0;
        if (performance.now() - this.#breath >= BREATH_MS) return undefined;
      }
      const i = this.#i++;
      const w = i * WORDS;
      const flags = bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_FLAGS];
      if (flags & WALK.REC_ERROR) {
        this.#error(b, i);
        continue;
      }
      const type = bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_TYPE];
      const off16 = words[w + 3];
      const path = text.slice(off16, off16 + words[w + 4]);
      if (flags & WALK.REC_ROOT) {
        // @std/fs filters the root as given
        if (!plan.includeDirs || !include(plan.given, plan.exts, match, skip)) continue;
      } else if ((match || skip) && !include(path, undefined, match, skip)) {
        continue;
      }
      const entry: WalkEntry = {
        path,
        name: path.slice(words[w + 5]),
        isFile: type === DT.REG,
        isDirectory: type === DT.DIR,
        isSymlink: type === DT.LNK,
        depth: words[w + 6],
      };
      if (flags & (WALK.REC_ROOT | WALK.REC_NOT_UTF8 | WALK.REC_STAT | WALK.REC_NAME_APART)) {
        this.#extras(b, i, flags, entry);
      }
      return entry;
    }
    this.#engine?.release(b);
    this.#batch = null;
    return undefined;
  }

  /** The rarer parts of an entry: the root's name, raw bytes, a name apart, a stat. */
  #extras(b: BatchView, i: number, flags: number, entry: WalkEntry): void {
    const w = i * WORDS;
    const off = b.words[w];
    const len = b.words[w + 1];
    if (flags & WALK.REC_ROOT) entry.name = this.#plan!.rootName;
    let nameBytes: Uint8Array | undefined;
    if (flags & WALK.REC_NAME_APART) {
      // A followed link to a file, shown at its target, named as the link
      nameBytes = b.text.subarray(b.words[w + 2], b.words[w + 2] + b.words[w + 9]);
      entry.name = decoder.decode(nameBytes);
    }
    if (flags & WALK.REC_NOT_UTF8) {
      const pathBytes = b.text.slice(off, off + len);
      nameBytes ??= pathBytes.subarray(b.words[w + 2]);
      if (!isUtf8(pathBytes)) entry.pathBytes = pathBytes;
      if (!isUtf8(nameBytes)) entry.nameBytes = nameBytes.slice();
    }
    if ((flags & WALK.REC_STAT) && b.stats) {
      entry.stat = readStat(b.stats, i * WALK_LAYOUT.STATX_SIZE);
    }
  }

  /** Reports an error record: onError, or thrown. */
  #error(b: BatchView, i: number): void {
    const w = i * WORDS;
    const off = b.words[w];
    const path = decoder.decode(b.text.subarray(off, off + b.words[w + 1]));
    const op = b.bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_OP];
    const plan = this.#plan!;
    // A loop into a directory `skip` keeps the walk out of is none
    if (op === WALK.OP_LOOP && plan.skip && !include(path, undefined, undefined, plan.skip)) return;
    const errno = b.ints[w + 7];
    const error = osError(errno, OPS[op] ?? "walk", path);
    if (op === WALK.OP_LOOP) {
      const up = b.words[w + 6] - b.words[w + 9];
      error.message = `File system loop (os error ${errno}): '${path}' leads back to '${
        ancestor(path, up, this.#plan!.shown)
      }'`;
    }
    const { onError } = this.#plan!;
    if (!onError) throw error;
    onError(error, path);
  }

  /** Ends the walk: stops the engine, frees it, closes a queue of its own.  Idempotent. */
  #end(): Promise<void> {
    this.#ending ??= (async () => {
      this.#done = true;
      this.#batch = null;
      if (this.#onAbort) this.#plan?.signal?.removeEventListener("abort", this.#onAbort);
      try {
        await this.#engine?.close();
      } finally {
        this.#engine = null;
        if (this.#own) await this.#own[Symbol.asyncDispose]();
      }
    })();
    return this.#ending;
  }
}

/** plan(), under a name that does not clash with the field. */
const plan_ = plan;

/** The path `up` directories above `path` (the walk's root, shown, if that runs out). */
function ancestor(path: string, up: number, root: string): string {
  let end = path.length;
  for (let k = 0; k < up; k++) {
    const slash = path.lastIndexOf("/", end - 1);
    if (slash <= 0) return root;
    end = slash;
  }
  return path.slice(0, end);
}
