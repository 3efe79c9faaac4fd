/**
 * One walk's state, shared by `walk()` and `walkSync()`: it starts the
 * engine, takes its batches, turns records into `WalkEntry` objects (one
 * UTF-8 decode per batch), applies `match`/`skip`, answers the engine's
 * gates (`skip`, and Deno's read permission: lib/permissions.ts) and
 * reports errors.  The two iterators differ only in how they wait.
 *
 * @module
 */

import { type BatchView, Engine } from "./engine.ts";
import { osError } from "./errors.ts";
import { DT, LAYOUT, WALK, WALK_LAYOUT } from "./layout.ts";
import { readScope, type WalkGuard } from "./permissions.ts";
import { asyncWalkQueueOptions, IoQueue, queueCore } from "./queue.ts";
import { readStat } from "./stat.ts";
import { basename } from "./path.ts";
import { include, type WalkPlan } from "./walk_options.ts";

/**
 * Starts the engine of a plan.
 *
 * @throws {RangeError} When its patterns need more than the engine's 64
 *   positions (ENOSPC from the engine), naming the limit.
 */
function startEngine(
  core: ReturnType<typeof queueCore>,
  config: WalkPlan["config"],
  plan: WalkPlan,
): Engine {
  try {
    return new Engine(core, config, plan.items);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOSPC") throw error;
    const globs = plan.items.filter((i) => i.kind === WALK.ITEM_GLOB).length;
    const excludes = plan.items.filter((i) => i.kind === WALK.ITEM_EXCLUDE).length;
    throw new RangeError(
      `Cannot walk '${plan.shown}': ${globs} pattern(s) and ${excludes} exclude(s) need more ` +
        `than the engine's ${WALK_LAYOUT.GLOB_POSITIONS} positions (one per segment not shared ` +
        `with an earlier pattern, one per pattern's end)`,
      { cause: error },
    );
  }
}

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
const OPS = ["walk", "opendir", "readdir", "stat", "realpath", "walk", "read ignore file"];

/** Whether bytes are valid UTF-8. */
function isUtf8(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** `step()` has nothing now: wait for the engine. */
export const WAIT = 0;
/** `step()` held the event loop long enough: let it run, then step again. */
export const BREATHE = 1;
/** `step()` found the walk over. */
export const DONE = 2;

/** Records between looks at the clock. */
const BREATH_EVERY = 256;

/** One walk: from its options to its entries. */
export class WalkRun {
  /** Checks the arguments and plans the walk (run by start(), so errors come from the first next()). */
  readonly #planner: () => WalkPlan;
  #plan: WalkPlan | undefined;
  #engine: Engine | null = null;
  /** The read checks, when read access is scoped. */
  #guard: WalkGuard | null = null;
  /**
   * Directories refused at their gate, by path (one error per gate: a
   * directory reached twice through links is refused twice): each is
   * reported where the walk reaches its entry, or at the end.
   */
  #refused: Map<string, Error[]> | null = null;
  /** A refusal to report before anything else. */
  #due: [Error, string] | null = null;
  /** A queue of the walk's own, closed at the end. */
  #own: IoQueue | null = null;
  /** A queue of the caller's. */
  #theirs: IoQueue | null = null;
  #onAbort: (() => void) | null = null;
  /** Whether start() ran, and whether the walk is over. */
  started = false;
  done = false;
  /** The batch being read, its decoded text, and the next record. */
  #batch: BatchView | null = null;
  #text = "";
  #i = 0;
  /** The paths yielded, when the plan wants each once. */
  #seen: Set<string> | null = null;
  /** How long step() may run before it asks to breathe (ms; Infinity: never), and since when. */
  readonly #breathMs: number;
  #since = 0;
  #sinceLook = 0;

  /** A walk that `planner` plans; `breathMs` bounds how long one step() may hold the thread. */
  constructor(planner: () => WalkPlan, breathMs: number) {
    this.#planner = planner;
    this.#breathMs = breathMs;
  }

  /** Checks the options and the root's read permission, makes or takes the queue, starts the engine. */
  start(): void {
    this.started = true;
    const plan = this.#plan = this.#planner();
    plan.signal?.throwIfAborted();
    if (plan.empty) {
      this.done = true;
      return;
    }
    const guard = this.#guard = readScope()?.walk(plan.shown, {
      follow: plan.config.follow === WALK.FOLLOW_ALWAYS,
      canonical: (plan.config.flags & WALK.CANON) !== 0,
    }) ?? null;
    if (guard?.refused) {
      this.done = true;
      this.#report(guard.refused, plan.shown);
      return;
    }
    const given = plan.queue;
    if (given instanceof IoQueue) this.#theirs = given;
    else {this.#own = new IoQueue(
        this.#breathMs === Infinity ? given : asyncWalkQueueOptions(given),
      );}
    const core = queueCore((this.#theirs ?? this.#own)!);
    if (core.walk) {
      const error = new Deno.errors.Busy("Cannot walk: another walk is using the queue");
      (error as Error & { code: string }).code = "EBUSY";
      throw error;
    }
    if (plan.dedupe) this.#seen = new Set();
    const config = guard?.gates
      ? { ...plan.config, flags: plan.config.flags | WALK.GATE }
      : plan.config;
    const engine = this.#engine = startEngine(core, config, plan);
    if (plan.signal) {
      this.#onAbort = () => engine.cancel();
      plan.signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    this.rested();
  }

  /** The thread was just let go (the event loop ran): step() may hold it again. */
  rested(): void {
    this.#since = performance.now();
  }

  /** Whether the next step() may return an entry of the current batch at once. */
  get ready(): boolean {
    return this.#batch !== null && !this.#plan!.signal?.aborted && !this.#engine!.cancelled;
  }

  /**
   * The next entry, or WAIT, BREATHE or DONE.
   *
   * @throws The walk's first error without onError, the signal's reason, an
   *   error when the queue is cancelled or closed: the caller then ends it.
   */
  step(): WalkEntry | typeof WAIT | typeof BREATHE | typeof DONE {
    while (!this.done) {
      const plan = this.#plan!;
      plan.signal?.throwIfAborted();
      if (this.#due) {
        const [error, path] = this.#due;
        this.#due = null;
        this.#report(error, path);
      }
      const engine = this.#engine!;
      if (engine.cancelled) {
        // Cancelled through the queue: stop now, even inside a batch
        throw this.#why(osError(-LAYOUT.EINTR, "walk"));
      }
      if (this.#batch) {
        const entry = this.#take();
        if (entry) return entry;
        if (this.#batch) return BREATHE;
        continue;
      }
      let event;
      try {
        event = engine.next();
      } catch (error) {
        throw this.#why(error);
      }
      if (event.kind === "batch") {
        this.#open(event.batch);
      } else if (event.kind === "ask") {
        this.#answer(engine);
      } else if (event.kind === "end") {
        this.done = true;
        const left = this.#refused ?? [];
        this.#refused = null;
        for (const [path, errors] of left) for (const error of errors) this.#report(error, path);
      } else {
        return WAIT;
      }
    }
    return DONE;
  }

  /**
   * Answers the gates: a directory `skip` matches is not entered, nor one
   * the program may not read (its error waits for the walk to reach it).
   */
  #answer(engine: Engine): void {
    const { skip } = this.#plan!;
    const guard = this.#guard;
    const gates = engine.asked();
    const enter = gates.map((gate) => {
      const path = decoder.decode(gate.path);
      if (skip && !include(path, undefined, undefined, skip)) return false;
      const error = guard?.enter(path);
      if (error) {
        const refused = this.#refused ??= new Map();
        refused.set(path, [...refused.get(path) ?? [], error]);
      }
      return error === undefined;
    });
    engine.decide(gates.map((gate) => gate.id), enter);
  }

  /** Waits off the event loop until the engine has more. */
  wait(): Promise<number> {
    return this.#engine!.wait();
  }

  /** Waits, blocking this thread, until the engine has more. */
  waitSync(): number {
    return this.#engine!.waitSync();
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

  /** Starts reading a batch. */
  #open(batch: BatchView): void {
    this.#batch = batch;
    this.#i = 0;
    this.#text = batch.front > 0 ? decoder.decode(batch.text.subarray(0, batch.front)) : "";
  }

  /**
   * The next entry of the current batch to yield, or undefined when the
   * batch is done (then released) or the thread is due a rest (the batch is
   * kept).  Errors go to onError or are thrown.
   */
  #take(): WalkEntry | undefined {
    const b = this.#batch!;
    const plan = this.#plan!;
    const { words, bytes } = b;
    const text = this.#text;
    const { match, skip } = plan;
    while (this.#i < b.count) {
      // A refused directory was filtered out: its error first
      if (this.#due) return undefined;
      if (++this.#sinceLook >= BREATH_EVERY) {
        this.#sinceLook = 0;
        if (performance.now() - this.#since >= this.#breathMs) return undefined;
      }
      const i = this.#i++;
      const w = i * WORDS;
      const flags = bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_FLAGS];
      const type = bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_TYPE];
      const unstated = (flags & WALK.REC_ERROR) !== 0 && this.#unstated(b, i, flags, type);
      if ((flags & WALK.REC_ERROR) && !unstated) {
        this.#error(b, i);
        continue;
      }
      let path: string;
      if (unstated) {
        // (an error's path is kept apart from the text decoded up front)
        path = decoder.decode(b.text.subarray(words[w], words[w] + words[w + 1]));
      } else {
        const off16 = words[w + 3];
        path = text.slice(off16, off16 + words[w + 4]);
      }
      if (this.#refused?.size && this.#reached(path, flags)) continue;
      if (flags & WALK.REC_ROOT) {
        // @std/fs filters the root as given
        if (
          plan.filterRoot && (!plan.includeDirs || !include(plan.given, plan.exts, match, skip))
        ) {
          continue;
        }
      } else if ((match || skip) && !include(path, undefined, match, skip)) {
        continue;
      }
      if (this.#seen) {
        if (this.#seen.has(path)) continue;
        this.#seen.add(path);
      }
      // Its stat's error first (thrown without onError), then the entry
      if (unstated) this.#error(b, i);
      const entry: WalkEntry = {
        path,
        name: unstated ? basename(path) : path.slice(words[w + 5]),
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

  /**
   * Whether an error record is a listed entry that `stat: true` could not
   * stat (gone, or in a directory that is readable but not searchable):
   * yielded without a stat, after its error.  Not the root, not an entry
   * whose type even the listing did not give, not a link that could not be
   * followed: those are errors only.
   */
  #unstated(b: BatchView, i: number, flags: number, type: number): boolean {
    const { config } = this.#plan!;
    return (config.flags & WALK.STAT) !== 0 && (flags & WALK.REC_ROOT) === 0 &&
      b.bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_OP] === WALK.OP_STAT &&
      type !== DT.UNKNOWN &&
      !(type === DT.LNK && config.follow === WALK.FOLLOW_ALWAYS);
  }

  /**
   * A refused directory's error is due once its entry has gone by.
   *
   * @returns Whether the entry is dropped: a symlink followed to a refused
   *   target, which `@std/fs` walk does not yield either (its lstat of the
   *   target is refused).
   */
  #reached(path: string, flags: number): boolean {
    const errors = this.#refused!.get(path);
    if (errors === undefined) return false;
    if (errors.length === 1) this.#refused!.delete(path);
    this.#due = [errors.shift()!, path];
    return (flags & WALK.REC_FOLLOWED) !== 0;
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
        ancestor(path, up, plan.shown)
      }'`;
    }
    this.#report(error, path);
  }

  /** An error to onError, or thrown without one. */
  #report(error: Error, path: string): void {
    const { onError } = this.#plan!;
    if (!onError) throw error;
    onError(error, path);
  }

  /** What ending holds: stop listening to the signal, forget the batch. */
  #stop(): void {
    this.done = true;
    this.started = true;
    this.#batch = null;
    if (this.#onAbort) this.#plan?.signal?.removeEventListener("abort", this.#onAbort);
    this.#onAbort = null;
  }

  /** Ends the walk: stops the engine, frees it, closes a queue of its own.  Idempotent. */
  async end(): Promise<void> {
    this.#stop();
    const engine = this.#engine;
    this.#engine = null;
    try {
      await engine?.close();
    } finally {
      const own = this.#own;
      this.#own = null;
      if (own) await own[Symbol.asyncDispose]();
    }
  }

  /** end(), blocking: for walkSync(), where no wait can be pending. */
  endSync(): void {
    this.#stop();
    const engine = this.#engine;
    this.#engine = null;
    try {
      engine?.closeSync();
    } finally {
      const own = this.#own;
      this.#own = null;
      own?.close();
    }
  }
}

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
