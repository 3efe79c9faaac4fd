/**
 * `IoQueue`: the asynchronous I/O queue of bfs, for Deno.
 *
 * @module
 */

import { QueueCore } from "./core.ts";
import { Dir, dirHandle, retireDir } from "./dir.ts";
import { osError } from "./errors.ts";
import { ffi } from "./ffi.ts";
import { BACKEND, LAYOUT } from "./layout.ts";
import { displayPath, encodePath, joinPath, type PathLike } from "./path.ts";
import { type ReadScope, readScope } from "./permissions.ts";
import { readStat } from "./stat.ts";

/**
 * A queue backend: what `IoQueue.backend` says is in use.
 *
 * @example Which backend "auto" picked
 * ```ts
 * import { type Backend, IoQueue } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * const backend: Backend = q.backend;
 * console.log(backend); // "io_uring" where the kernel allows it, else "threads"
 * ```
 */
export type Backend = "io_uring" | "threads";

/**
 * Options for `new IoQueue()`.
 *
 * @example A small queue on two threads, without io_uring
 * ```ts
 * import { IoQueue, type IoQueueOptions } from "@ioq/ioq";
 *
 * const options: IoQueueOptions = { depth: 64, threads: 2, backend: "threads" };
 * await using q = new IoQueue(options);
 * console.log(q.depth, q.threads, q.backend); // 64 2 "threads"
 * ```
 */
export interface IoQueueOptions {
  /**
   * The most requests in flight plus completions popped but not yet
   * released, 1 to 65536.
   *
   * @default {4096}
   */
  depth?: number;
  /**
   * Worker threads, 1 to 1024.
   *
   * @default {the number of CPUs, at most 8}
   */
  threads?: number;
  /**
   * `"io_uring"` (fail if the kernel refuses a ring), `"threads"` (plain
   * syscalls on worker threads), or `"auto"`: io_uring when the kernel
   * allows it, else threads.  `IoQueue.backend` says which is in use.
   *
   * @default {"auto"}
   */
  backend?: "auto" | Backend;
}

/**
 * Options for `IoQueue.opendir()`.
 *
 * @example Open a directory relative to another, with its stat
 * ```ts
 * import { IoQueue } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.opendir("/usr", 1);
 * const [usr] = await q.pop();
 * if (usr.op !== "opendir" || !usr.dir) throw usr.error;
 * using parent = usr.dir;
 * q.opendir("share", 2, { at: parent, stat: true }); // /usr/share, opened with openat
 * const [share] = await q.pop();
 * if (share.op !== "opendir" || !share.dir) throw share.error;
 * using dir = share.dir;
 * console.log(dir.path, share.stat?.isDirectory); // "/usr/share" true
 * ```
 */
export interface OpenDirOptions {
  /**
   * An open directory of the same queue that a relative path is resolved
   * against (openat).  It cannot be closed until this request completes.
   *
   * @default {undefined (the current directory)}
   */
  at?: Dir;
  /**
   * Also stat the opened directory (fstat on its descriptor), for
   * `OpenDirCompletion.stat`.
   *
   * @default {false}
   */
  stat?: boolean;
}

/**
 * Options for `IoQueue.stat()`.
 *
 * @example lstat a symlink
 * ```ts
 * import { IoQueue } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.stat("/proc/self", 1, { followSymlinks: false });
 * const [done] = await q.pop();
 * if (done.op !== "stat" || !done.stat) throw done.error;
 * console.log(done.stat.isSymlink); // true
 * ```
 */
export interface StatOptions {
  /**
   * An open directory of the same queue that a relative path is resolved
   * against.
   *
   * @default {undefined (the current directory)}
   */
  at?: Dir;
  /**
   * Follow a final symlink (stat) or not (lstat).
   *
   * @default {true}
   */
  followSymlinks?: boolean;
}

/**
 * Fields every completion has.
 *
 * @example Match completions to requests by tag; read errors
 * ```ts
 * import { IoQueue } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.stat("/", 1);
 * q.stat("/no/such/file", 2);
 * for (const done of await q.pop()) {
 *   console.log(done.op, done.tag, done.error?.name); // "stat" 2 "NotFound", ...
 * }
 * ```
 */
export interface CompletionBase<Op extends string> {
  /** The operation. */
  readonly op: Op;
  /** The tag given with the request. */
  readonly tag: number;
  /**
   * Set when the operation failed: a `Deno.errors.*` instance where one fits
   * (`NotFound`, `PermissionDenied`, `NotADirectory`, `Interrupted` after
   * `cancel()`, ...), with `code` (`"ENOENT"`), `errno`, `op` and `path`.
   */
  readonly error?: Error;
}

/**
 * A completed `nop()`: a request that does nothing, to measure the queue.
 *
 * @example
 * ```ts
 * import { IoQueue, type NopCompletion } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.nop(1);
 * const [done] = await q.pop();
 * const nop: NopCompletion | undefined = done.op === "nop" ? done : undefined;
 * console.log(nop?.tag); // 1
 * ```
 */
export type NopCompletion = CompletionBase<"nop">;
/**
 * A completed `close(fd, tag)`.
 *
 * @example
 * ```ts
 * import { type CloseCompletion, IoQueue } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.close(1_000_000, 1); // not an open descriptor
 * const [done] = await q.pop();
 * const closed: CloseCompletion | undefined = done.op === "close" ? done : undefined;
 * console.log(closed?.error?.message); // "Bad file descriptor ..."
 * ```
 */
export type CloseCompletion = CompletionBase<"close">;
/**
 * A completed `closedir()`.
 *
 * @example
 * ```ts
 * import { type CloseDirCompletion, IoQueue } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.opendir("/", 1);
 * const [opened] = await q.pop();
 * if (opened.op !== "opendir" || !opened.dir) throw opened.error;
 * q.closedir(opened.dir, 2); // closed on a worker
 * const [done] = await q.pop();
 * const closed: CloseDirCompletion | undefined = done.op === "closedir" ? done : undefined;
 * console.log(closed?.tag, opened.dir.closed); // 2 true
 * ```
 */
export type CloseDirCompletion = CompletionBase<"closedir">;

/**
 * A completed `opendir()`.
 *
 * @example
 * ```ts
 * import { IoQueue, type OpenDirCompletion } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.opendir("/", 1);
 * const [done] = await q.pop();
 * const opened = done as OpenDirCompletion;
 * if (!opened.dir) throw opened.error;
 * using dir = opened.dir;
 * console.log(dir.readAll().length > 0); // true
 * ```
 */
export interface OpenDirCompletion extends CompletionBase<"opendir"> {
  /** The open directory, unless `error` is set. */
  readonly dir?: Dir;
  /** The directory's stat, when requested with `{ stat: true }`. */
  readonly stat?: Deno.FileInfo;
}

/**
 * A completed `stat()`.
 *
 * @example
 * ```ts
 * import { IoQueue, type StatCompletion } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.stat("/", 1);
 * const [done] = await q.pop();
 * const { stat, error } = done as StatCompletion;
 * if (!stat) throw error;
 * console.log(stat.isDirectory); // true
 * ```
 */
export interface StatCompletion extends CompletionBase<"stat"> {
  /** The file's stat, unless `error` is set. */
  readonly stat?: Deno.FileInfo;
}

/**
 * A completed request, by operation: narrow it with `op`.
 *
 * @example
 * ```ts
 * import { type Completion, IoQueue } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.opendir("/", 1);
 * q.stat("/etc", 2);
 * q.nop(3);
 * let pending = 3;
 * while (pending > 0) {
 *   const batch: Completion[] = await q.pop();
 *   pending -= batch.length;
 *   for (const done of batch) {
 *     if (done.error) console.error(done.op, done.error.message);
 *     else if (done.op === "opendir") done.dir?.close();
 *     else if (done.op === "stat") console.log(done.stat?.isDirectory); // true
 *   }
 * }
 * ```
 */
export type Completion =
  | NopCompletion
  | CloseCompletion
  | OpenDirCompletion
  | CloseDirCompletion
  | StatCompletion;

/** Microseconds `pop()` waits on its own thread before handing the wait to another. */
const SPIN_US = 50;
/** Microseconds one off-thread wait lasts before it is renewed. */
const WAIT_US = 1_000_000;
/** Completions one pop can return. */
const POP_MAX = 1024;
/** EINVAL, as C returns it for a path with a NUL byte. */

/**
 * The options of a queue an async walk (`walk()`, `glob()`) makes for
 * itself: the caller's, with one worker fewer than the CPUs when they name
 * no count.  The JavaScript thread consumes the walk while the workers
 * produce it; a worker on every CPU keeps them all busy, and the event loop
 * then waits for a CPU (on 2 CPUs its 1 ms timer fired a third as often,
 * tens of milliseconds late).  A blocking walk (`walkSync()`, the CLI) has
 * no event loop to keep and takes every CPU.
 */
export function asyncWalkQueueOptions(options: IoQueueOptions = {}): IoQueueOptions {
  if (options.threads !== undefined) return options;
  return { ...options, threads: Math.max(1, defaultThreads() - 1) };
}

/** The default worker count: the CPUs, 1 to 8. */
function defaultThreads(): number {
  // Workers make the syscalls while the caller's thread runs JavaScript: on
  // 2 CPUs two workers walked a 200,000-entry tree in 172-222 ms against
  // 194-261 ms for one (in-process walk(), threads and io_uring)
  return Math.min(navigator.hardwareConcurrency || 1, 8);
}

/** Checks an integer option. */
function intOption(name: string, value: number, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot create IoQueue: ${name} must be an integer from ${min} to ${max}, not ${value}`,
    );
  }
  return value;
}

/** Checks a tag. */
function checkTag(op: string, tag: number): void {
  if (typeof tag !== "number") {
    throw new TypeError(`Cannot ${op}: the tag must be a number, not ${typeof tag}`);
  }
}

/** Each queue's shared state, for the walks that run on it (see `queueCore`). */
const cores = new WeakMap<IoQueue, QueueCore>();

/**
 * Internal: the state of a queue, for a walk that runs on its workers.
 *
 * @throws {TypeError} For an object that is not an `IoQueue`.
 */
export function queueCore(queue: IoQueue): QueueCore {
  const core = cores.get(queue);
  if (!core) throw new TypeError("Cannot walk: the queue option is not an IoQueue");
  return core;
}

/**
 * An asynchronous I/O queue: requests (open a directory, stat a path, close)
 * run on worker threads, through io_uring where the kernel allows it, and
 * their completions are popped in batches.  Nothing blocks the event loop:
 * `pop()` waits on another thread.
 *
 * Closing the queue (`close()`, `using`, `await using`) closes every
 * directory it opened, popped or not, and wakes a pending `pop()`, which
 * resolves with `[]`.
 *
 * @example Open a directory and list it
 * ```ts
 * import { IoQueue } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.opendir(".", 1);
 * for (const c of await q.pop()) {
 *   if (c.op !== "opendir" || !c.dir) throw c.error;
 *   using dir = c.dir;
 *   for (const entry of dir) console.log(entry.name, entry.type);
 * }
 * ```
 */
export class IoQueue implements Disposable, AsyncDisposable {
  /** Shared with this queue's directories. */
  readonly #core: QueueCore;
  /** The entry arena, mapped once. */
  readonly #view: DataView;
  /** The entry indices of a pop. */
  readonly #popped = new Uint32Array(POP_MAX);
  /** Per entry: the path of its request (for messages and `Dir.path`). */
  readonly #paths: (PathLike | undefined)[];
  /** Per entry: the directory its path is relative to (closedir: the directory closed). */
  readonly #ats: (Dir | undefined)[];
  /** The off-thread wait in progress, shared by concurrent `pop()` calls. */
  #waiting: Promise<number> | null = null;
  readonly #depth: number;
  readonly #threads: number;
  readonly #backend: Backend;
  /** Read access: scoped, `null` when granted everywhere (looked at once, on the first request). */
  #reads: ReadScope | null | undefined;

  /**
   * Creates a queue and starts its worker threads.
   *
   * @param options Depth, threads and backend; see `IoQueueOptions`.
   * @throws {RangeError} For a depth or thread count out of range.
   * @throws {TypeError} For an unknown backend.
   * @throws {Error} When `backend: "io_uring"` is refused by the kernel (with
   *   its errno `code`), or the native library cannot be loaded.
   */
  constructor(options: IoQueueOptions = {}) {
    const { depth = 4096, threads = defaultThreads(), backend = "auto" } = options;
    intOption("depth", depth, 1, 65536);
    intOption("threads", threads, 1, 1024);
    if (!Object.hasOwn(BACKEND, backend)) {
      throw new TypeError(
        `Cannot create IoQueue: backend must be "auto", "io_uring" or "threads", not ${backend}`,
      );
    }

    const sym = ffi();
    const err = new Int32Array(1);
    const ptr = sym.ioq_create(depth, threads, BACKEND[backend], err);
    if (ptr === null) {
      throw osError(err[0], `create IoQueue (backend ${backend})`);
    }
    this.#core = new QueueCore(ptr);
    cores.set(this, this.#core);
    this.#depth = depth;
    this.#threads = threads;
    this.#backend = sym.ioq_backend(ptr) === BACKEND.io_uring ? "io_uring" : "threads";
    const arena = sym.ioq_entries(ptr)!;
    this.#view = new DataView(
      Deno.UnsafePointerView.getArrayBuffer(arena, depth * LAYOUT.ENT_SIZE),
    );
    this.#paths = new Array(depth);
    this.#ats = new Array(depth);
  }

  /** The backend in use: `"io_uring"` or `"threads"`. */
  get backend(): Backend {
    return this.#backend;
  }

  /** The depth given at creation. */
  get depth(): number {
    return this.#depth;
  }

  /** The number of worker threads. */
  get threads(): number {
    return this.#threads;
  }

  /**
   * How many more requests fit: depth minus requests in flight.
   *
   * @throws {Deno.errors.BadResource} When the queue is closed.
   */
  get capacity(): number {
    return this.#core.sym.ioq_capacity(this.#core.check("get capacity"));
  }

  /**
   * Requests made and not yet popped.
   *
   * @throws {Deno.errors.BadResource} When the queue is closed.
   */
  get inFlight(): number {
    return this.#core.sym.ioq_inflight(this.#core.check("get inFlight"));
  }

  /** Whether the queue is closed. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /** Throws the error for a request C refused. */
  #refuse(ret: number, op: string, path?: PathLike, at?: Dir): never {
    const where = path === undefined
      ? undefined
      : at
      ? joinPath(at.path, displayPath(path))
      : displayPath(path);
    if (ret === -LAYOUT.EINVAL && path !== undefined) {
      throw new TypeError(`Cannot ${op} '${where}': the path contains a NUL byte`);
    }
    throw osError(ret, op, where);
  }

  /**
   * Refuses a path the program may not read, as Deno's calls do (a path
   * relative to `at` is checked joined to it).
   */
  #mayRead(path: PathLike, at: Dir | undefined): void {
    if (this.#reads === undefined) this.#reads = readScope();
    if (this.#reads === null) return;
    const text = displayPath(path);
    this.#reads.check(at && !text.startsWith("/") ? joinPath(at.path, text) : text);
  }

  /** The native handle of an `at` directory, checked to belong to this queue. */
  #at(op: string, at: Dir | undefined): number {
    if (at === undefined) return 0;
    return dirHandle(at, op, this.#core);
  }

  /**
   * Requests a NOP (it measures the queue itself).
   *
   * @param tag A number of yours, returned in the completion.
   * @throws {Deno.errors.WouldBlock} With code `EAGAIN` when the queue is full.
   * @throws {Deno.errors.Interrupted} With code `EINTR` after `cancel()`.
   * @throws {Deno.errors.BadResource} When the queue is closed.
   */
  nop(tag: number): void {
    const ptr = this.#core.idle("nop");
    checkTag("nop", tag);
    const ret = this.#core.sym.ioq_nop(ptr, tag);
    if (ret < 0) this.#refuse(ret, "nop");
  }

  /**
   * Requests opening a directory.  Its completion carries a `Dir` whose first
   * entries are already read.
   *
   * @param path The directory: a string, a `file:` URL or raw bytes.
   * @param tag A number of yours, returned in the completion.
   * @param options `at` (resolve relative to an open directory) and `stat`.
   * @throws {TypeError} For a path with a NUL byte or an `at` of another queue.
   * @throws {Deno.errors.NotCapable} For a path the program may not read
   *   (`--allow-read` given other paths, or `--deny-read`), as Deno's own
   *   calls throw it; nothing is requested.
   * @throws {Deno.errors.WouldBlock} With code `EAGAIN` when the queue is full.
   * @throws {Deno.errors.Interrupted} With code `EINTR` after `cancel()`.
   * @throws {Deno.errors.BadResource} When the queue or `at` is closed.
   */
  opendir(path: PathLike, tag: number, options: OpenDirOptions = {}): void {
    const ptr = this.#core.idle("opendir");
    checkTag("opendir", tag);
    const { at, stat = false } = options;
    const atHandle = this.#at("opendir", at);
    if (this.#reads !== null) this.#mayRead(path, at);
    const { bytes, length } = encodePath(path);
    const flags = stat ? LAYOUT.OPENDIR_STAT : 0;
    const ret = this.#core.sym.ioq_opendir(ptr, atHandle, bytes, length, flags, tag);
    if (ret < 0) this.#refuse(ret, "opendir", path, at);
    this.#paths[ret] = path;
    this.#ats[ret] = at;
  }

  /**
   * Requests closing a directory through the queue.  The `Dir` is closed for
   * use at once; the close itself runs on a worker (always, even after
   * `cancel()`).
   *
   * @param dir An open directory of this queue.
   * @param tag A number of yours, returned in the completion.
   * @throws {Deno.errors.Busy} While requests relative to it are in flight.
   * @throws {Deno.errors.BadResource} When it or the queue is closed.
   * @throws {Deno.errors.WouldBlock} With code `EAGAIN` when the queue is full.
   */
  closedir(dir: Dir, tag: number): void {
    const ptr = this.#core.idle("closedir");
    checkTag("closedir", tag);
    const handle = dirHandle(dir, "closedir", this.#core);
    const ret = this.#core.sym.ioq_closedir(ptr, handle, tag);
    if (ret < 0) this.#refuse(ret, "closedir", dir.path);
    retireDir(dir);
    // Its path is only worked out if the close fails
    this.#paths[ret] = undefined;
    this.#ats[ret] = dir;
  }

  /**
   * Requests a stat (statx) of a path.
   *
   * @param path The path: a string, a `file:` URL or raw bytes.
   * @param tag A number of yours, returned in the completion.
   * @param options `at` and `followSymlinks`.
   * @throws {TypeError} For a path with a NUL byte or an `at` of another queue.
   * @throws {Deno.errors.NotCapable} For a path the program may not read,
   *   as for `opendir()`.
   * @throws {Deno.errors.WouldBlock} With code `EAGAIN` when the queue is full.
   * @throws {Deno.errors.Interrupted} With code `EINTR` after `cancel()`.
   * @throws {Deno.errors.BadResource} When the queue or `at` is closed.
   */
  stat(path: PathLike, tag: number, options: StatOptions = {}): void {
    const ptr = this.#core.idle("stat");
    checkTag("stat", tag);
    const { at, followSymlinks = true } = options;
    const atHandle = this.#at("stat", at);
    if (this.#reads !== null) this.#mayRead(path, at);
    const { bytes, length } = encodePath(path);
    const flags = followSymlinks ? 0 : LAYOUT.STAT_NOFOLLOW;
    const ret = this.#core.sym.ioq_stat(ptr, atHandle, bytes, length, flags, tag);
    if (ret < 0) this.#refuse(ret, "stat", path, at);
    this.#paths[ret] = path;
    this.#ats[ret] = at;
  }

  /**
   * Closes the queue: stops its workers, closes every directory it opened
   * (popped or not) and resolves a pending `pop()` with `[]`; later use
   * throws `Deno.errors.BadResource`.  Idempotent.
   */
  close(): void;
  /**
   * Requests `close(fd)` on a worker.  It always runs, even after `cancel()`.
   *
   * @param fd A file descriptor of yours.
   * @param tag A number of yours, returned in the completion.
   * @throws {RangeError} For an fd that is not a non-negative 32-bit integer.
   * @throws {Deno.errors.WouldBlock} With code `EAGAIN` when the queue is full.
   * @throws {Deno.errors.BadResource} When the queue is closed.
   */
  close(fd: number, tag: number): void;
  close(fd?: number, tag?: number): void {
    if (fd === undefined) {
      if (this.#shutdown()) this.#core.destroy();
      return;
    }
    const ptr = this.#core.idle("close");
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
      throw new RangeError(`Cannot close fd ${fd}: it must be a non-negative 32-bit integer`);
    }
    checkTag("close", tag as number);
    const ret = this.#core.sym.ioq_close(ptr, fd, tag as number);
    if (ret < 0) this.#refuse(ret, "close");
    this.#paths[ret] = undefined;
    this.#ats[ret] = undefined;
  }

  /** Reads `n` popped entries into completions and releases them. */
  #collect(n: number): Completion[] {
    const view = this.#view;
    const popped = this.#popped;
    const out: Completion[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const index = popped[i];
      const base = index * LAYOUT.ENT_SIZE;
      const op = view.getInt32(base + LAYOUT.OP, true);
      const result = view.getInt32(base + LAYOUT.RESULT, true);
      const tag = view.getFloat64(base + LAYOUT.TAG, true);
      const path = this.#paths[index];
      const at = this.#ats[index];
      this.#paths[index] = undefined;
      this.#ats[index] = undefined;
      out[i] = this.#completion(op, result, tag, base, path, at);
    }
    this.#core.sym.ioq_release(this.#core.check("pop"), popped, n);
    return out;
  }

  /** Builds one completion. */
  #completion(
    op: number,
    result: number,
    tag: number,
    base: number,
    path: PathLike | undefined,
    at: Dir | undefined,
  ): Completion {
    const where = () => at ? joinPath(at.path, displayPath(path!)) : displayPath(path!);
    switch (op) {
      case LAYOUT.OP_NOP:
        return { op: "nop", tag };
      case LAYOUT.OP_CLOSE:
        return result < 0
          ? { op: "close", tag, error: osError(result, "close") }
          : { op: "close", tag };
      case LAYOUT.OP_CLOSEDIR:
        return result < 0
          ? { op: "closedir", tag, error: osError(result, "closedir", at!.path) }
          : { op: "closedir", tag };
      case LAYOUT.OP_OPENDIR: {
        if (result < 0) return { op: "opendir", tag, error: osError(result, "opendir", where()) };
        const view = this.#view;
        const dir = new Dir(this.#core, view.getUint32(base + LAYOUT.DIR, true), path!, at);
        if (view.getUint32(base + LAYOUT.FLAGS, true) & LAYOUT.OPENDIR_STAT) {
          return { op: "opendir", tag, dir, stat: readStat(view, base + LAYOUT.STX) };
        }
        return { op: "opendir", tag, dir };
      }
      case LAYOUT.OP_STAT:
        return result < 0
          ? { op: "stat", tag, error: osError(result, "stat", where()) }
          : { op: "stat", tag, stat: readStat(this.#view, base + LAYOUT.STX) };
      default:
        throw new Error(`Cannot read completion: unknown op ${op}`);
    }
  }

  /**
   * Pops the completions that are ready now, without waiting.
   *
   * @returns Up to 1024 completions, in completion order; `[]` if none.
   * @throws {Deno.errors.BadResource} When the queue is closed.
   */
  tryPop(): Completion[] {
    const ptr = this.#core.idle("pop");
    const n = this.#core.sym.ioq_trypop(ptr, this.#popped, POP_MAX);
    return n > 0 ? this.#collect(n) : [];
  }

  /** Starts (or joins) the off-thread wait for a completion. */
  #wait(ptr: Deno.PointerObject): Promise<number> {
    if (!this.#waiting) {
      const sym = this.#core.sym;
      sym.ioq_submit(ptr);
      // The epoch read now makes a cancel() that beats the wait's thread count
      this.#waiting = sym.ioq_wait_async(ptr, WAIT_US, sym.ioq_epoch(ptr)).then((ret) => {
        this.#waiting = null;
        // close() ran while we waited: it left the teardown to us
        if (this.#core.closed) this.#core.destroy();
        return ret;
      });
    }
    return this.#waiting;
  }

  /**
   * Waits for completions and pops them.  The wait runs on another thread,
   * so the event loop stays free.
   *
   * @returns At least one completion; or `[]` when nothing is in flight, when
   *   the queue is closed while waiting, or when `cancel()` wakes it.
   * @throws {Deno.errors.BadResource} When the queue is already closed.
   */
  async pop(): Promise<Completion[]> {
    const core = this.#core;
    let ptr = core.idle("pop");
    // Most completions arrive within microseconds: look, then wait briefly here
    let n = core.sym.ioq_pop(ptr, this.#popped, POP_MAX, SPIN_US);
    while (n === 0 && core.sym.ioq_inflight(ptr) > 0) {
      const ret = await this.#wait(ptr);
      if (core.closed) return [];
      ptr = core.check("pop");
      n = core.sym.ioq_trypop(ptr, this.#popped, POP_MAX);
      // Woken by cancel(): return now; the interrupted requests come later
      if (n === 0 && ret < 0) break;
    }
    return n > 0 ? this.#collect(n) : [];
  }

  /**
   * Cancels the queue: queued requests complete with an `Interrupted` error
   * (code `EINTR`) without running, except closes, which always run; later
   * requests other than closes throw `Interrupted`; a pending `pop()` wakes.
   *
   * @throws {Deno.errors.BadResource} When the queue is closed.
   */
  cancel(): void {
    const ptr = this.#core.check("cancel");
    // A walk on the queue stops too (its iterator throws Interrupted)
    this.#core.walk?.cancel();
    this.#core.sym.ioq_cancel(ptr);
  }

  /**
   * Closes the queue (see `close()`).
   *
   * @returns Whether the native queue may be destroyed now (else a walk or
   *   a wait destroys it when it ends).
   */
  #shutdown(): boolean {
    const core = this.#core;
    if (core.closed) return false;
    core.markClosed();
    if (core.walk) {
      // A walk holds the workers: it ends, and its end destroys the queue
      core.walk.cancel();
      return false;
    }
    if (this.#waiting) {
      // A wait runs on another thread: end it; its promise destroys the queue
      core.sym.ioq_stop_waits(core.raw!);
      return false;
    }
    return true;
  }

  /** Closes the queue (see `close()`). */
  [Symbol.dispose](): void {
    if (this.#shutdown()) this.#core.destroy();
  }

  /**
   * Closes the queue and waits until a pending wait has ended and everything
   * is released; the workers are joined off the event loop.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#shutdown()) await this.#core.destroyAsync();
    await this.#waiting;
  }
}
