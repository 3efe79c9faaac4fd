/**
 * Directories opened through an `IoQueue`: their entries, read in batches.
 *
 * @module
 */

import type { QueueCore } from "./core.ts";
import { osError } from "./errors.ts";
import { DT, LAYOUT, META } from "./layout.ts";
import { displayPath, encodePath, joinPath, PATH_MAX, type PathLike } from "./path.ts";

/**
 * What kind of file a directory entry is, as the directory says.
 *
 * @example Count entries by type
 * ```ts
 * import { type EntryType, IoQueue } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.opendir("/dev", 1);
 * const [done] = await q.pop();
 * if (done.op !== "opendir" || !done.dir) throw done.error;
 * using dir = done.dir;
 * const counts = new Map<EntryType, number>();
 * for (const entry of dir) counts.set(entry.type, (counts.get(entry.type) ?? 0) + 1);
 * console.log(counts); // Map { "char" => 30, "dir" => 4, "symlink" => 5, ... }
 * ```
 */
export type EntryType =
  | "file"
  | "dir"
  | "symlink"
  | "fifo"
  | "socket"
  | "char"
  | "block"
  | "unknown";

/** Entry types by DT_* value. */
const TYPES: readonly EntryType[] = (() => {
  const types: EntryType[] = new Array(16).fill("unknown");
  types[DT.FIFO] = "fifo";
  types[DT.CHR] = "char";
  types[DT.DIR] = "dir";
  types[DT.BLK] = "block";
  types[DT.REG] = "file";
  types[DT.LNK] = "symlink";
  types[DT.SOCK] = "socket";
  return types;
})();

/**
 * One directory entry: a `Deno.DirEntry` plus its type and, when the name is
 * not valid UTF-8, its raw bytes.
 *
 * @example Names as bytes when they are not UTF-8
 * ```ts
 * import { type DirEntry, IoQueue } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.opendir("/", 1);
 * const [done] = await q.pop();
 * if (done.op !== "opendir" || !done.dir) throw done.error;
 * using dir = done.dir;
 * const entries: DirEntry[] = dir.readAll();
 * for (const { name, nameBytes, type } of entries) {
 *   console.log(nameBytes ?? name, type); // "usr" "dir", ...
 * }
 * ```
 */
export interface DirEntry extends Deno.DirEntry {
  /** The entry's type; `"unknown"` when the file system does not say. */
  type: EntryType;
  /** The raw name, present only when it is not valid UTF-8 (`name` then has U+FFFD). */
  nameBytes?: Uint8Array;
}

const decoder = new TextDecoder();

/** ioq_realpath(): the path needs a bigger buffer. */

/** The longest canonical path Dir.realPath() makes room for (4 MiB). */
const REALPATH_MAX = 4 << 20;

/**
 * A batch of entries from one `Dir.readBatch()` or `Dir.readPaths()` call:
 * names decoded at once (or on demand for path batches), and per-entry
 * metadata read on demand.  Every method reads buffers the queue reuses: use
 * a batch before the next read on the same queue.
 *
 * @example Count the subdirectories of a directory
 * ```ts
 * import { IoQueue } from "@ioq/ioq";
 *
 * using q = new IoQueue();
 * q.opendir(".", 0);
 * const [done] = await q.pop();
 * if (done.op !== "opendir" || !done.dir) throw done.error;
 * using dir = done.dir;
 * let subdirs = 0;
 * for (let batch = dir.readBatch(); batch; batch = dir.readBatch()) {
 *   for (let i = 0; i < batch.count; i++) if (batch.type(i) === 4) subdirs++;
 * }
 * console.log(subdirs);
 * ```
 */
export class DirBatch {
  /** How many entries the batch holds. */
  readonly count: number;
  /**
   * The records back to back: for `readBatch()` each name and a NUL byte, for
   * `readPaths()` the prefix, the name and the terminator.
   */
  readonly records: Uint8Array;
  /** Bytes of prefix before each name in `records` (0 for `readBatch()`). */
  readonly prefixLength: number;
  /** Whether the directory has no entries after these (the next read gives `null`). */
  readonly last: boolean;
  /** The queue's meta words: [bytes used, entry 0, entry 1, ...]. */
  readonly #meta: Uint32Array;
  /** The names, once decoded. */
  #names: string[] | undefined;
  /** Byte offset of each record, computed on first use. */
  #offsets: Uint32Array | undefined;

  /** Internal: built by `Dir.readBatch()` and `Dir.readPaths()`. */
  constructor(
    count: number,
    records: Uint8Array,
    prefixLength: number,
    meta: Uint32Array,
    names?: string[],
  ) {
    this.count = count;
    this.records = records;
    this.prefixLength = prefixLength;
    this.last = (meta[0] & LAYOUT.DIR_END) !== 0;
    this.#meta = meta;
    this.#names = names;
  }

  /** The names, decoded as UTF-8 (invalid bytes become U+FFFD). */
  get names(): string[] {
    if (!this.#names) {
      const names = new Array<string>(this.count);
      for (let i = 0; i < this.count; i++) names[i] = this.name(i);
      this.#names = names;
    }
    return this.#names;
  }

  /** Returns the DT_* type of entry `i` (0 = unknown, 4 = dir, 8 = file, 10 = symlink, ...). */
  type(i: number): number {
    return this.#meta[i + 1] & META.TYPE_MASK;
  }

  /** Returns whether entry `i`'s name is valid UTF-8 (so `names[i]` is exact). */
  isUtf8(i: number): boolean {
    return (this.#meta[i + 1] & META.NOT_UTF8) === 0;
  }

  /** Returns the length in bytes of entry `i`'s name. */
  nameLength(i: number): number {
    return this.#meta[i + 1] >>> META.LEN_SHIFT;
  }

  /** Returns where entry `i`'s record starts in `records`. */
  offset(i: number): number {
    if (!this.#offsets) {
      const offsets = new Uint32Array(this.count);
      const meta = this.#meta;
      const extra = this.prefixLength + 1;
      let at = 0;
      for (let j = 0; j < offsets.length; j++) {
        offsets[j] = at;
        at += (meta[j + 1] >>> META.LEN_SHIFT) + extra;
      }
      this.#offsets = offsets;
    }
    return this.#offsets[i];
  }

  /** Returns entry `i`'s name, decoded as UTF-8. */
  name(i: number): string {
    if (this.#names) return this.#names[i];
    const start = this.offset(i) + this.prefixLength;
    return decoder.decode(this.records.subarray(start, start + this.nameLength(i)));
  }

  /** Returns a copy of entry `i`'s raw name bytes. */
  bytes(i: number): Uint8Array {
    const start = this.offset(i) + this.prefixLength;
    return this.records.slice(start, start + this.nameLength(i));
  }

  /** Returns entry `i` as a `DirEntry`. */
  entry(i: number): DirEntry {
    const dt = this.type(i);
    const entry: DirEntry = {
      name: this.name(i),
      isFile: dt === DT.REG,
      isDirectory: dt === DT.DIR,
      isSymlink: dt === DT.LNK,
      type: TYPES[dt] ?? "unknown",
    };
    if (!this.isUtf8(i)) entry.nameBytes = this.bytes(i);
    return entry;
  }
}

/** Reads a Dir's native handle (for the queue's `at` and `closedir`). */
let handleOf: (dir: Dir, op: string, core: QueueCore) => number;
/** Marks a Dir closed without closing it (its closedir request is queued). */
let retire: (dir: Dir) => void;

/**
 * An open directory, from an `"opendir"` completion of an `IoQueue`.  Its
 * first entries were read when it was opened.  Close it with `close()` (now)
 * or `IoQueue.closedir()` (through the queue); closing the queue closes it too.
 *
 * @example List a directory
 * ```ts
 * import { IoQueue } from "@ioq/ioq";
 *
 * using q = new IoQueue();
 * q.opendir("/", 1);
 * const [c] = await q.pop();
 * if (c.op === "opendir" && c.dir) {
 *   using dir = c.dir;
 *   for (const entry of dir) console.log(entry.name, entry.type);
 * }
 * ```
 */
export class Dir implements Disposable, Iterable<DirEntry> {
  /** The queue's shared state. */
  readonly #core: QueueCore;
  /** The native handle. */
  readonly #handle: number;
  /** How it was named when opened. */
  readonly #name: PathLike;
  /** The directory it was opened relative to, if any. */
  readonly #parent: Dir | undefined;
  /** The path, once computed. */
  #path: string | undefined;
  /** Whether it is closed (or being closed through the queue). */
  #closed = false;
  /**
   * The entries of the batch an iteration is going through (copied out: the
   * batch's buffers are the queue's, reused by its next read), and the next
   * one to give: an iteration left early leaves the rest to the next one.
   */
  #batch: DirEntry[] = [];
  #next = 0;

  static {
    handleOf = (dir, op, core) => {
      if (!(#core in dir) || dir.#core !== core) {
        throw new TypeError(`Cannot ${op}: the directory must be one of this queue's`);
      }
      return dir.#check(op);
    };
    retire = (dir) => {
      dir.#closed = true;
    };
  }

  /** Internal: directories come from `IoQueue` completions. */
  constructor(core: QueueCore, handle: number, name: PathLike, parent?: Dir) {
    this.#core = core;
    this.#handle = handle;
    this.#name = name;
    this.#parent = parent;
  }

  /** The path it was opened with, joined to its parent's path when opened relative to one. */
  get path(): string {
    this.#path ??= this.#parent
      ? joinPath(this.#parent.path, displayPath(this.#name))
      : displayPath(this.#name);
    return this.#path;
  }

  /** Whether it has been closed (directly, through the queue, or with its queue). */
  get closed(): boolean {
    return this.#closed || this.#core.closed;
  }

  /** The handle, for an operation on an open directory. */
  #check(op: string): number {
    this.#core.check(op);
    if (this.#closed) {
      throw new Deno.errors.BadResource(`Cannot ${op}: directory '${this.path}' is closed`);
    }
    return this.#handle;
  }

  /**
   * Resolves a path relative to this directory to its canonical absolute
   * path, following every symlink (as `Deno.realPath` does for the cwd), as
   * raw bytes: names that are not UTF-8 survive, and the lookup is relative
   * to this directory, however deep it is.  Synchronous: openat, then the
   * kernel's name for the file from /proc/self/fd, or, for a path longer than
   * PATH_MAX, a climb through `..` that reads each ancestor.
   *
   * @param path The path (a string, a `file:` URL or raw bytes), relative to this directory.
   * @returns The canonical path's bytes.
   * @throws {Deno.errors.NotFound} (and other OS errors, with `code`) When it cannot be resolved.
   * @throws {Deno.errors.BadResource} When the directory or its queue is closed.
   * @throws {TypeError} For a path with a NUL byte.
   *
   * @example Where a link in /usr points
   * ```ts
   * import { IoQueue } from "@ioq/ioq";
   *
   * using q = new IoQueue();
   * q.opendir("/usr", 0);
   * const [done] = await q.pop();
   * if (done.op !== "opendir" || !done.dir) throw done.error;
   * using usr = done.dir;
   * console.log(new TextDecoder().decode(usr.realPath("bin")));
   * ```
   */
  realPath(path: PathLike): Uint8Array {
    const handle = this.#check("resolve path");
    const core = this.#core;
    const { bytes, length } = encodePath(path);
    if (bytes.subarray(0, length).includes(0)) {
      throw new TypeError(`Cannot resolve '${displayPath(path)}': the path contains a NUL byte`);
    }
    for (let out = new Uint8Array(PATH_MAX);; out = new Uint8Array(out.length * 4)) {
      const n = core.sym.ioq_realpath(
        core.check("resolve path"),
        handle,
        bytes,
        length,
        out,
        out.length,
      );
      if (n >= 0) return out.slice(0, n);
      // A path deeper than PATH_MAX: retry with room for it
      if (n === -LAYOUT.ERANGE && out.length < REALPATH_MAX) continue;
      throw osError(n, "realpath", joinPath(this.path, displayPath(path)));
    }
  }

  /**
   * The directory's file descriptor (owned by the directory: do not close it).
   *
   * @throws {Deno.errors.BadResource} When the directory or its queue is closed.
   */
  get fd(): number {
    const handle = this.#check("get fd");
    const fd = this.#core.sym.ioq_dir_fd(this.#core.check("get fd"), handle);
    if (fd < 0) throw osError(fd, "fd", this.path);
    return fd;
  }

  /**
   * Reads the next batch of entries (`.` and `..` are skipped).  Small
   * directories need no syscall: their entries were read when opened.
   *
   * @returns The batch, or `null` at the end.
   * @throws {Deno.errors.BadResource} When the directory or queue is closed.
   * @throws {Error} An OS error from getdents64, with `code`.
   */
  readBatch(): DirBatch | null {
    const handle = this.#check("read directory");
    const core = this.#core;
    const { names, meta } = core;
    const n = core.sym.ioq_dir_read(
      core.check("read directory"),
      handle,
      names,
      names.length,
      meta,
      meta.length,
    );
    if (n < 0) throw osError(n, "readdir", this.path);
    if (n === 0) return null;
    const used = meta[0] & ~LAYOUT.DIR_END;
    const records = names.subarray(0, used);
    // One decode for the whole batch; the last NUL is left out so split()
    // gives exactly n names
    const text = decoder.decode(names.subarray(0, used - 1));
    return new DirBatch(n, records, 0, meta, text.split("\0"));
  }

  /**
   * Reads the next batch of entries as ready-made paths: each record is
   * `prefix`, the entry's name and the byte `end`, back to back in
   * `DirBatch.records`, so a program that prints paths needs no string per
   * entry.  Names are decoded only when asked for.
   *
   * @param prefix The bytes to put before each name (say, the directory's path and "/").
   * @param end The byte after each name: 10 (newline) or 0.
   * @returns The batch, or `null` at the end.
   * @throws {RangeError} For a prefix longer than 60 KiB or an `end` outside 0-255.
   * @throws {Deno.errors.BadResource} When the directory or queue is closed.
   *
   * @example Print a directory's paths
   * ```ts
   * import { IoQueue } from "@ioq/ioq";
   *
   * using q = new IoQueue();
   * q.opendir("/usr", 0);
   * const [done] = await q.pop();
   * if (done.op !== "opendir" || !done.dir) throw done.error;
   * using dir = done.dir;
   * const prefix = new TextEncoder().encode("/usr/");
   * for (let batch = dir.readPaths(prefix, 10); batch; batch = dir.readPaths(prefix, 10)) {
   *   Deno.stdout.writeSync(batch.records);
   * }
   * ```
   */
  readPaths(prefix: Uint8Array, end: number): DirBatch | null {
    const handle = this.#check("read directory");
    const core = this.#core;
    const { names, meta } = core;
    if (prefix.length > names.length - 4096 || !(end >= 0 && end <= 255)) {
      throw new RangeError("Cannot read paths: the prefix must be under 60 KiB and end a byte");
    }
    const n = core.sym.ioq_dir_read_paths(
      core.check("read directory"),
      handle,
      prefix,
      prefix.length,
      end,
      names,
      names.length,
      meta,
      meta.length,
    );
    if (n < 0) throw osError(n, "readdir", this.path);
    if (n === 0) return null;
    return new DirBatch(n, names.subarray(0, meta[0] & ~LAYOUT.DIR_END), prefix.length, meta);
  }

  /** Reads every remaining entry (those an iteration left first). */
  readAll(): DirEntry[] {
    return [...this];
  }

  /**
   * Iterates over the remaining entries.  Each batch is copied out when it
   * is read, so other reads on the queue may come between two steps; a loop
   * left early (`break`) leaves the entries it did not reach to the next
   * iteration or `readAll()`.  `readBatch()` and `readPaths()` go on after
   * the last batch an iteration read.
   *
   * @throws {Deno.errors.BadResource} When the directory or queue is closed.
   */
  *[Symbol.iterator](): IterableIterator<DirEntry> {
    this.#check("read directory");
    for (;;) {
      if (this.#next === this.#batch.length) {
        const batch = this.readBatch();
        if (!batch) return;
        this.#batch = Array.from({ length: batch.count }, (_, i) => batch.entry(i));
        this.#next = 0;
      }
      yield this.#batch[this.#next++];
    }
  }

  /**
   * Closes the directory now, on this thread.  Idempotent; a no-op once its
   * queue is closed (which closed it).
   *
   * @throws {Deno.errors.Busy} While requests relative to it are in flight.
   */
  close(): void {
    if (this.closed) return;
    const core = this.#core;
    const ret = core.sym.ioq_dir_close(core.check("close directory"), this.#handle);
    if (ret === -LAYOUT.EBUSY) throw osError(ret, "closedir", this.path);
    this.#closed = true;
    this.#batch = [];
    this.#next = 0;
    if (ret < 0) throw osError(ret, "closedir", this.path);
  }

  /** Closes the directory (see `close()`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Internal: the native handle of an open directory of the queue `core`.
 *
 * @throws {TypeError} When it is not a directory of that queue.
 * @throws {Deno.errors.BadResource} When it or its queue is closed.
 */
export function dirHandle(dir: Dir, op: string, core: QueueCore): number {
  return handleOf(dir, op, core);
}

/** Internal: marks a directory closed once its closedir request is queued. */
export function retireDir(dir: Dir): void {
  retire(dir);
}
