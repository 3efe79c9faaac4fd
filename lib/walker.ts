/**
 * The engine behind `walk()`: keeps an `IoQueue` full of directory opens
 * ahead of the reader, reads each directory in batches, and caches open
 * directories (as `openat` anchors for their children) within a descriptor
 * budget, evicting the least recently used.
 *
 * @module
 */

import type { Dir, DirBatch } from "./dir.ts";
import { osError } from "./errors.ts";
import { ffi } from "./ffi.ts";
import { BreadthFirst, DepthFirst, type Frontier } from "./frontier.ts";
import { DT, LAYOUT } from "./layout.ts";
import { Lru, type LruItem } from "./lru.ts";
import { PATH_MAX } from "./path.ts";
import { type Completion, IoQueue, type IoQueueOptions } from "./queue.ts";
import { basename, childPrefix } from "./walk_path.ts";
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

/** `WalkOptions` with defaults applied (see walk.ts). */
export interface WalkConfig {
  maxDepth: number;
  includeFiles: boolean;
  includeDirs: boolean;
  includeSymlinks: boolean;
  followSymlinks: boolean;
  canonicalize: boolean;
  exts: string[] | undefined;
  match: RegExp[] | undefined;
  skip: RegExp[] | undefined;
  order: "bfs" | "dfs";
  signal: AbortSignal | undefined;
  onError: ((error: Error, path: string) => void) | undefined;
  stat: boolean;
  sameFilesystem: boolean;
  /**
   * find(1) semantics instead of @std/fs ones (for the CLI): paths are the
   * root as given joined with "/" (never normalized); the root is lstat'ed
   * unless following and only a directory is descended; followed links are
   * not canonicalized and take their target's type; a link that loops on
   * itself (ELOOP) is an error, not an entry.
   */
  findStyle: boolean;
  /**
   * For the CLI: receives directory listings as ready-made paths, so no
   * entry object or string is made for them (only with findStyle, and
   * without stat, exts, match or skip).  Entries that need a stat to be
   * classified still come through the iterator.
   */
  sink?: PathSink;
}

/** Receives directory listings as ready-made paths (see `WalkConfig.sink`). */
export interface PathSink {
  /** The byte after each path (newline or NUL). */
  readonly end: number;
  /** Every entry of one batch of a directory, at `depth`, as paths in `batch.records`. */
  paths(batch: DirBatch, depth: number): void;
}

/** An empty batch result, shared. */
const NONE: WalkEntry[] = [];

/**
 * Whether a path matches, as `path.match(pattern)` says (as @std/fs tests
 * it): a global RegExp is searched from the start each time, not from its
 * lastIndex, as `test()` would.
 */
function matches(pattern: RegExp, path: string): boolean {
  return pattern.global ? path.match(pattern) !== null : pattern.test(path);
}

/** `@std/fs` walk's filter: extensions, then match, then skip. */
export function include(
  path: string,
  exts: string[] | undefined,
  match: RegExp[] | undefined,
  skip: RegExp[] | undefined,
): boolean {
  if (exts && !exts.some((ext) => path.endsWith(ext))) return false;
  if (match && !match.some((pattern) => matches(pattern, path))) return false;
  if (skip && skip.some((pattern) => matches(pattern, path))) return false;
  return true;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** The last component of a path's bytes, when it is not UTF-8. */
function lastName(path: Uint8Array): Uint8Array | undefined {
  const name = path.subarray(path.lastIndexOf(0x2f) + 1);
  return isUtf8(name) ? undefined : name.slice();
}

/** Whether bytes are valid UTF-8. */
function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictDecoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Longest relative path an open request may carry (PATH_MAX less the NUL). */
const PATH_LIMIT = PATH_MAX - 1;

/** Longest prefix `Dir.readPaths()` takes (60 KiB): longer paths go through the iterator. */
const SINK_PREFIX_MAX = 60 * 1024;

/** A directory of the walk. */
class Node implements LruItem<Node> {
  lruPrev: Node | null = null;
  lruNext: Node | null = null;
  inLru = false;
  /** The open directory, or null. */
  dir: Dir | null = null;
  /** An open request is in flight. */
  opening = false;
  /** The open request completed (or failed): the frontier may hand it out. */
  settled = false;
  /** Its entries have been read. */
  read = false;
  /** Subdirectories found in it and not yet opened. */
  pending = 0;
  /** Requests in flight relative to its directory. */
  pins = 0;
  /** Descendants waiting for it to reopen, so they can open relative to it. */
  waiters: Node[] | null = null;
  /** The node its open request is relative to. */
  anchor: Node | null = null;
  /** Device and inode, once known (following symlinks, same-file-system walks). */
  dev = -1;
  ino = -1;

  /** A directory named `name` (raw bytes `raw` when not UTF-8) in `parent`. */
  constructor(
    readonly parent: Node | null,
    readonly name: string,
    readonly raw: Uint8Array | undefined,
    readonly path: string,
    readonly rawPath: Uint8Array | undefined,
    readonly depth: number,
  ) {}

  /** Whether its directory can serve as an `at` anchor now. */
  get anchorable(): boolean {
    return this.dir !== null;
  }

  /** The name's length in bytes. */
  get byteLength(): number {
    return this.raw ? this.raw.length : encoder.encode(this.name).length;
  }
}

/** A listed entry, held while stats it needs are in flight. */
interface Pending {
  /** The name (U+FFFD for bytes that are not UTF-8). */
  name: string;
  /** The raw name, when it is not UTF-8. */
  raw: Uint8Array | undefined;
  /** The DT_* type from the directory, replaced by the stat's type once known. */
  dt: number;
  /** The stat result, once it arrived. */
  stat?: Deno.FileInfo;
  /** The stat error, once it arrived. */
  error?: Error;
  /** Whether the stat followed a symlink. */
  followed: boolean;
}

/** What a tag refers to: an open, or a stat of an entry of `node` (null: the root). */
type Slot =
  /** `held`: the descriptors the walk held (or was closing) when the open was sent. */
  | { kind: "open"; node: Node; held: number }
  | { kind: "stat"; pending: Pending; node: Node | null };

/** The DT_* type of a stat. */
function statType(stat: Deno.FileInfo): number {
  if (stat.isDirectory) return DT.DIR;
  if (stat.isFile) return DT.REG;
  if (stat.isSymlink) return DT.LNK;
  if (stat.isFifo) return DT.FIFO;
  if (stat.isSocket) return DT.SOCK;
  if (stat.isCharDevice) return DT.CHR;
  if (stat.isBlockDevice) return DT.BLK;
  return DT.UNKNOWN;
}

/**
 * Errors of a followed stat that mean "a broken link", not a failure.  find
 * reports a link that loops on itself (ELOOP) as an error.
 */
function brokenLink(error: Error, findStyle: boolean): boolean {
  const code = (error as Error & { code?: string }).code;
  return code === "ENOENT" || code === "ENOTDIR" || (code === "ELOOP" && !findStyle);
}

/** Concatenates byte strings. */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** What a walk is given, once its arguments are checked. */
export interface WalkSetup {
  /** The root, as given (opened as such). */
  root: string;
  /** The root as @std/fs shows it: normalized. */
  display: string;
  /** The options with defaults. */
  cfg: WalkConfig;
  /** A queue to use, or options for one of its own. */
  queue: IoQueue | IoQueueOptions | undefined;
}

/** The callers' queues a walk is using now. */
const walking = new WeakSet<IoQueue>();

/** Opens after which a walk reserves its descriptor table (see #open). */
const RESERVE_AFTER = 64;

/** Descriptors a walk leaves free for the rest of the process. */
const HOST_SLACK = 16;

/** Walks one tree.  One use. */
export class Walker {
  /** Checks the arguments (called by run(), so errors surface on the first next()). */
  readonly #setup: () => WalkSetup;
  #q!: IoQueue;
  #cfg!: WalkConfig;
  #root = "";
  #display = "";
  #frontier!: Frontier<Node>;
  readonly #lru = new Lru<Node>();
  readonly #slots: (Slot | undefined)[] = [];
  readonly #freeSlots: number[] = [];
  /** Descriptors held or about to be: open directories, opens and closes in flight. */
  #fds = 0;
  /** The descriptor budget. */
  #budget = 0;
  /** Opens to keep in flight or settled-unread ahead of the reader. */
  #window = 0;
  /** Opens to keep in flight: the refill batch. */
  #batch = 0;
  /** Opens in flight. */
  #opening = 0;
  /** Whether the walk is breadth-first. */
  #bfs = true;
  /** Opens requested so far. */
  #opens = 0;
  /** The descriptor-table reservation in progress, if any. */
  #reserving: Promise<number> | undefined;
  /** Whether there are descriptors enough to reserve the table (see #begin). */
  #mayReserve = false;
  /** Opens in flight plus settled directories not yet read. */
  #ahead = 0;
  /** Requests in flight. */
  #inFlight = 0;
  /** Stats in flight. */
  #stats = 0;
  /** Whether opens must also stat the directory. */
  #statDirs = false;
  /** Whether listings go to cfg.sink as paths. */
  #sinking = false;
  /** The root's device, for sameFilesystem. */
  #rootDev = -1;
  /** When the walk last let the event loop run. */
  #lastBreath = 0;

  /** Prepares a walk; `setup` checks and supplies its arguments. */
  constructor(setup: () => WalkSetup) {
    this.#setup = setup;
  }

  /** Applies the setup: options, queue, budget. */
  #begin(queue: IoQueue, setup: WalkSetup): void {
    const { cfg } = setup;
    this.#q = queue;
    this.#cfg = cfg;
    this.#root = setup.root;
    this.#display = setup.display;
    this.#frontier = cfg.order === "dfs" ? new DepthFirst<Node>() : new BreadthFirst<Node>();
    this.#statDirs = cfg.followSymlinks || cfg.sameFilesystem;
    this.#sinking = cfg.sink !== undefined && cfg.findStyle && !cfg.stat && !cfg.exts &&
      !cfg.match && !cfg.skip && cfg.includeFiles && cfg.includeDirs && cfg.includeSymlinks;
    const headroom = ffi().ioq_fd_headroom();
    // Leave the host some descriptors; an open needs at most one at a time.
    // (A negative headroom is an error: the count is unknown.)
    const room = headroom >= 0 ? headroom - HOST_SLACK : 64;
    // Reserving the table takes two descriptors for a moment, on another
    // thread: only where the host's slack has them, or it can make one of
    // the walk's own opens fail with EMFILE
    this.#mayReserve = headroom > HOST_SLACK;
    // Open anchors take no queue entries, but a small queue says "use little".
    // With almost no descriptors free the walk still goes on, one directory
    // at a time (and an EMFILE lowers the budget further: see #complete)
    this.#budget = Math.max(1, Math.min(room, 4 * queue.depth, 16384));

    this.#bfs = cfg.order !== "dfs";
    this.#window = Math.max(1, Math.min(this.#budget - 2, 512));
    this.#batch = Math.max(1, Math.min(this.#window, 128));
  }

  /** Reports an error: onError when given, else throws.  Dropped once the walk is over. */
  #error(error: Error, path: string): void {
    if (this.#over) return;
    if (this.#cfg.onError) this.#cfg.onError(error, path);
    else throw error;
  }

  /** The walk has ended (it is releasing what it holds). */
  #over = false;

  /** A tag for a slot. */
  #tag(slot: Slot): number {
    const tag = this.#freeSlots.length > 0 ? this.#freeSlots.pop()! : this.#slots.length;
    this.#slots[tag] = slot;
    return tag;
  }

  /** Takes back a tag. */
  #untag(tag: number): Slot {
    const slot = this.#slots[tag]!;
    this.#slots[tag] = undefined;
    this.#freeSlots.push(tag);
    return slot;
  }

  /** Waits for completions and handles them. */
  async #pump(): Promise<void> {
    let done = this.#q.tryPop();
    if (done.length === 0) done = await this.#q.pop();
    this.#completeAll(done);
  }

  /**
   * Handles popped completions, every one of them even when an error is
   * thrown for one (they are off the queue: dropping them would lose their
   * directories and leave them counted in flight); then throws the first.
   */
  #completeAll(done: Completion[]): void {
    let failure: { error: unknown } | undefined;
    for (const c of done) {
      try {
        this.#complete(c);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** Handles whatever completions are ready, without waiting. */
  #poll(): void {
    this.#completeAll(this.#q.tryPop());
  }

  /** Handles one completion. */
  #complete(c: Completion): void {
    if (c.op === "closedir") {
      this.#inFlight--;
      this.#fds--;
      return;
    }
    const slot = this.#untag(c.tag);
    this.#inFlight--;
    const anchor = slot.kind === "open" ? slot.node.anchor : slot.node;
    if (anchor) this.#unpin(anchor);

    if (slot.kind === "stat") {
      this.#stats--;
      if (c.op === "stat") {
        if (c.error) slot.pending.error = c.error;
        else slot.pending.stat = c.stat;
      }
      return;
    }

    const node = slot.node;
    node.opening = false;
    this.#opening--;
    node.anchor = null;
    if (c.op !== "opendir") return;
    if (!c.dir) {
      this.#fds--;
      if (node.read) {
        // A reopened anchor failed: its waiters cannot be opened either
        const waiters = node.waiters ?? [];
        node.waiters = null;
        for (const w of waiters) {
          this.#settle(w);
          this.#error(c.error!, w.path);
        }
        return;
      }
      if (slot.kind === "open" && this.#outOfDescriptors(c.error!, slot.held)) {
        // The process has fewer descriptors than the budget thought: hold
        // fewer, and open this one again once one is free
        this.#budget = Math.max(1, this.#fds);
        this.#ahead--;
        this.#retry.push(node);
        this.#room();
        return;
      }
      this.#settle(node);
      this.#error(c.error!, node.path);
      return;
    }
    node.dir = c.dir;
    this.#opened.add(node);
    if (c.stat) {
      node.dev = c.stat.dev;
      node.ino = c.stat.ino ?? -1;
    }
    if (node.read) {
      // Reopened as an anchor for waiting descendants
      this.#lru.touch(node);
      const waiters = node.waiters ?? [];
      node.waiters = null;
      for (const w of waiters) this.#open(w);
      this.#maybeRelease(node);
      return;
    }
    this.#settle(node);
  }

  /**
   * Whether an open failed for want of descriptors (EMFILE, ENFILE) while the
   * walk itself held some it can give back, so it is worth retrying.  What it
   * held when the open was sent counts, not what it holds now: a closedir
   * sent before the open may complete (and be counted off) before the open's
   * EMFILE arrives, though the open ran while that directory was still open.
   */
  #outOfDescriptors(error: Error, held: number): boolean {
    const code = (error as Error & { code?: string }).code;
    return (code === "EMFILE" || code === "ENFILE") && (held > 0 || this.#fds > 0);
  }

  /** An open request settled: the parent has one fewer pending child. */
  #settle(node: Node): void {
    node.settled = true;
    if (!node.read) this.#frontier.settle(node);
    const parent = node.parent;
    if (parent && !node.read) {
      parent.pending--;
      this.#maybeRelease(parent);
    }
  }

  /** Drops a pin; a directory nobody needs any more is closed. */
  #unpin(node: Node): void {
    node.pins--;
    this.#maybeRelease(node);
  }

  /** Closes a read directory once no child needs it as an anchor. */
  #maybeRelease(node: Node): void {
    if (node.read && node.dir && node.pins === 0 && node.pending === 0 && !node.waiters) {
      this.#close(node, false);
    }
  }

  /** Closes a node's directory: through the queue, or now when evicting. */
  #close(node: Node, now: boolean): void {
    const dir = node.dir!;
    node.dir = null;
    this.#opened.delete(node);
    this.#lru.remove(node);
    if (!now && this.#inFlight < this.#q.depth) {
      this.#q.closedir(dir, -1);
      this.#inFlight++;
    } else {
      dir.close();
      this.#fds--;
    }
  }

  /** Makes room for one more descriptor, evicting cached anchors.  @returns Whether there is room. */
  #room(): boolean {
    while (this.#fds >= this.#budget) {
      // Evict the anchor whose children will be opened last: breadth-first
      // opens children in the order their parents were read, so that is the
      // most recently read one; depth-first, the least recently used.
      // (Least recently used in both orders made 79,000 of 100,000 opens on
      // a 1,000,000-entry tree go through paths of 6 names on average.)
      const unpinned = (n: Node) => n.pins === 0;
      const victim = this.#bfs ? this.#lru.newest(unpinned) : this.#lru.oldest(unpinned);
      if (!victim) return false;
      this.#close(victim, true);
    }
    return true;
  }

  /** Pins an anchor for a request relative to it. */
  #pin(anchor: Node): void {
    anchor.pins++;
    // Breadth-first ranks anchors by when they were read, not used
    if (!this.#bfs) this.#lru.touch(anchor);
  }

  /**
   * Requests opening a node: relative to its parent when that is open, else to
   * the nearest open ancestor (or the cwd), reopening an ancestor as a bridge
   * when the relative path would be too long.
   */
  #open(node: Node): void {
    const parent = node.parent;
    let anchor: Node | null = parent;
    let path: string | Uint8Array;
    if (parent === null) {
      path = this.#root;
    } else if (parent.anchorable) {
      path = node.raw ?? node.name;
    } else {
      // Collect the chain from the nearest open ancestor down to the node
      const chain: Node[] = [node];
      let length = node.byteLength;
      anchor = parent;
      while (anchor && !anchor.anchorable) {
        chain.push(anchor);
        length += 1 + (anchor.parent ? anchor.byteLength : encoder.encode(this.#root).length);
        anchor = anchor.parent;
      }
      if (length > PATH_LIMIT) {
        this.#bridge(node, chain);
        return;
      }
      path = this.#relative(chain);
    }

    const tag = this.#tag({ kind: "open", node, held: this.#fds });
    try {
      this.#q.opendir(path, tag, { at: anchor?.dir ?? undefined, stat: this.#statDirs });
    } catch (error) {
      // Refused (say, after the caller's cancel()): nothing to wait for
      this.#untag(tag);
      throw error;
    }
    node.opening = true;
    this.#opening++;
    if (++this.#opens === RESERVE_AFTER && this.#mayReserve) {
      // A walk big enough to matter: grow the descriptor table once, now,
      // rather than step by step under the workers' feet (ioq_fd_reserve);
      // off this thread, as growing a table that threads share waits for an
      // RCU grace period (10-25 ms here), and not for small walks at all
      this.#reserving = ffi().ioq_fd_reserve_async(this.#budget + 64);
    }
    node.anchor = anchor;
    if (anchor) this.#pin(anchor);
    this.#fds++;
    this.#inFlight++;
  }

  /** The relative path through a chain (deepest node first). */
  #relative(chain: Node[]): string | Uint8Array {
    const parts = chain.map((n) => n.parent ? n : null);
    const names = chain.map((n, i) => parts[i] ? n.name : this.#root).reverse();
    if (!chain.some((n) => n.raw)) return names.join("/");
    let out = new Uint8Array(0);
    for (let i = chain.length - 1; i >= 0; i--) {
      const n = chain[i];
      const bytes = n.parent ? (n.raw ?? encoder.encode(n.name)) : encoder.encode(this.#root);
      const next = new Uint8Array(out.length + (out.length ? 1 : 0) + bytes.length);
      next.set(out);
      if (out.length) next[out.length] = 0x2f;
      next.set(bytes, out.length + (out.length ? 1 : 0));
      out = next;
    }
    return out;
  }

  /**
   * A node's path from the nearest open ancestor is too long: reopen the
   * deepest ancestor on the chain that is within reach, and open the node
   * relative to it once it is open.
   */
  #bridge(node: Node, chain: Node[]): void {
    // chain[chain.length - 1] is just below the open ancestor (or the root)
    let length = 0;
    let pick = chain.length - 1;
    for (let i = chain.length - 1; i >= 1; i--) {
      const n = chain[i];
      length += (length ? 1 : 0) + (n.parent ? n.byteLength : encoder.encode(this.#root).length);
      if (length > PATH_LIMIT) break;
      pick = i;
    }
    const bridge = chain[pick];
    (bridge.waiters ??= []).push(node);
    if (!bridge.opening && !bridge.dir) this.#open(bridge);
  }

  /**
   * Requests opens: what the reader needs now, then ahead within the window
   * and budget.  While a directory is being read (`reading`), nothing is
   * needed now: its subdirectories, not yet known, may come first (dfs).
   */
  #fill(reading = false): void {
    const urgent = reading ? null : this.#frontier.urgent();
    if (urgent) {
      if (this.#inFlight >= this.#q.depth || !this.#room()) {
        // The queue is full of closes, or everything is pinned: the requests
        // in flight will free a slot or release descriptors
        this.#unfetch(urgent);
      } else {
        this.#ahead++;
        this.#open(urgent);
      }
    }
    // Keep the workers supplied: refill once the opens in flight fall to a
    // quarter of the batch, then request a whole batch in one go, within
    // the read-ahead window (opens in flight plus directories opened and not
    // yet read).  Topping up one open per directory read made workers sleep
    // and wake per request; waiting for half the window to drain left them
    // idle a third of the time (65-70 ms of a 220 ms walk, two workers).
    if (this.#opening > this.#batch >> 2) return;
    while (
      this.#opening < this.#batch && this.#ahead < this.#window &&
      this.#inFlight < this.#q.depth - 1 && this.#fds < this.#budget - 2
    ) {
      const node = this.#frontier.prefetch();
      if (!node) break;
      if (!this.#room()) {
        this.#unfetch(node);
        break;
      }
      this.#ahead++;
      this.#open(node);
    }
  }

  /** Puts back a node the frontier handed out but that cannot be opened yet. */
  #unfetch(node: Node): void {
    // Rare (every descriptor pinned): keep it, and retry after completions
    this.#retry.push(node);
  }

  /** Nodes to open once descriptors free up. */
  readonly #retry: Node[] = [];

  /** Nodes whose directory is open. */
  readonly #opened = new Set<Node>();

  /** Opens retried nodes while there is room. */
  #drainRetry(): void {
    while (this.#retry.length > 0 && this.#inFlight < this.#q.depth && this.#room()) {
      this.#ahead++;
      this.#open(this.#retry.shift()!);
    }
  }

  /**
   * Lets the event loop run (timers, I/O callbacks) once the walk has kept it
   * busy for 2 ms: completions are often ready without a real wait, and
   * promises alone never give timers a turn.  setImmediate costs about 13 us
   * here; setTimeout(0) would pause about 2 ms each time.
   */
  async #breathe(): Promise<void> {
    if (performance.now() - this.#lastBreath > 1) {
      await new Promise((resolve) => setImmediate(resolve));
      this.#lastBreath = performance.now();
    }
  }

  /** Whether an identity is one of a node's ancestors (or itself): a symlink loop. */
  #isLoop(node: Node, dev: number, ino: number): boolean {
    for (let n: Node | null = node; n; n = n.parent) {
      if (n.dev === dev && n.ino === ino) return true;
    }
    return false;
  }

  /** Builds an entry. */
  #entry(
    path: string,
    name: string,
    isFile: boolean,
    isDirectory: boolean,
    isSymlink: boolean,
    depth: number,
  ): WalkEntry {
    return { path, name, isFile, isDirectory, isSymlink, depth };
  }

  /** Walks the tree: sets up, walks, and releases everything however it ends. */
  async *run(): AsyncGenerator<WalkEntry> {
    this.#lastBreath = performance.now();
    const setup = this.#setup();
    const cfg = setup.cfg;
    const { maxDepth, exts, match, skip } = cfg;
    if (maxDepth < 0) return;
    const given = setup.queue;
    const owned = !(given instanceof IoQueue);
    if (!owned) {
      // A walk pops every completion of its queue: two at once would take
      // each other's
      if (walking.has(given)) {
        throw new Deno.errors.Busy("Cannot walk: the queue is in use by another walk");
      }
      walking.add(given);
    }
    const queue = given instanceof IoQueue ? given : new IoQueue(given);
    try {
      this.#begin(queue, setup);
      // Loading the library and making the queue took a while the first time
      await this.#breathe();

      // The root, stat'ed following a symlink, as @std/fs does
      const display = this.#display;
      // (find: lstat'ed unless following, and only a directory is descended)
      const rootStat = await this.#statRoot(!cfg.findStyle || cfg.followSymlinks);
      if (!rootStat) return;
      // @std/fs filters the root as given (its path is shown normalized)
      if (cfg.findStyle || (cfg.includeDirs && include(this.#root, exts, match, skip))) {
        const entry = this.#entry(
          display,
          basename(display),
          rootStat.isFile,
          rootStat.isDirectory,
          rootStat.isSymlink,
          0,
        );
        if (cfg.stat) entry.stat = rootStat;
        cfg.signal?.throwIfAborted();
        yield entry;
      }
      if (maxDepth < 1 || !include(this.#root, undefined, undefined, skip)) return;
      if (cfg.findStyle && !rootStat.isDirectory) return;

      const root = new Node(null, this.#root, undefined, display, undefined, 0);
      root.dev = this.#rootDev = rootStat.dev;
      root.ino = rootStat.ino ?? -1;
      this.#frontier.push([root]);

      while (true) {
        cfg.signal?.throwIfAborted();
        this.#drainRetry();
        this.#fill();
        const node = this.#frontier.next();
        if (node) {
          this.#ahead--;
          if (!node.dir) {
            // Its open failed (and was reported)
            node.read = true;
            continue;
          }
          const reading = this.#startRead(node);
          for (
            let entries = await this.#readBatch(reading);
            entries;
            entries = await this.#readBatch(reading)
          ) {
            if (Array.isArray(entries)) {
              for (let i = 0; i < entries.length; i++) {
                // Aborted while the caller held an entry: stop before the next
                cfg.signal?.throwIfAborted();
                yield entries[i];
              }
              continue;
            }
            for (let i = 0; i < entries.count; i++) {
              const entry = this.#make(reading, entries, i);
              if (!entry) continue;
              cfg.signal?.throwIfAborted();
              yield entry;
            }
          }
          this.#finishRead(reading);
          continue;
        }
        if (this.#frontier.empty && this.#retry.length === 0) break;
        if (this.#inFlight === 0) {
          throw new Error("Cannot walk: no directory can be opened (every descriptor is in use)");
        }
        await this.#pump();
      }
      // Let the last closes complete
      while (this.#inFlight > 0) await this.#pump();
    } finally {
      // A reservation still running would keep the process alive anyway
      await this.#reserving;
      if (owned) await queue[Symbol.asyncDispose]();
      else {
        try {
          await this.#release();
        } finally {
          walking.delete(queue);
        }
      }
    }
  }

  /**
   * Releases what the walk holds on a queue it does not own: waits for its
   * requests, then closes its directories.
   */
  async #release(): Promise<void> {
    this.#over = true;
    while (this.#inFlight > 0) await this.#pump();
    for (const node of this.#opened) {
      if (node.dir) {
        node.dir.close();
        node.dir = null;
      }
    }
    this.#opened.clear();
  }

  /** Stats the root through the queue.  @returns Its stat, or undefined after reporting an error. */
  async #statRoot(follow: boolean): Promise<Deno.FileInfo | undefined> {
    const pending: Pending = { name: this.#root, raw: undefined, dt: DT.UNKNOWN, followed: follow };
    this.#requestStat(null, pending, this.#root, follow);
    while (this.#stats > 0) await this.#pump();
    if (pending.error) {
      this.#error(pending.error, this.#display);
      return undefined;
    }
    return pending.stat;
  }

  /** Requests a stat for a pending entry of `node` (null: the root, relative to the cwd). */
  #requestStat(
    node: Node | null,
    pending: Pending,
    path: string | Uint8Array,
    follow: boolean,
  ): void {
    const tag = this.#tag({ kind: "stat", pending, node });
    try {
      this.#q.stat(path, tag, { at: node?.dir ?? undefined, followSymlinks: follow });
    } catch (error) {
      this.#untag(tag);
      throw error;
    }
    pending.followed = follow;
    if (node) this.#pin(node);
    this.#inFlight++;
    this.#stats++;
  }

  /** Waits until every stat in flight has completed. */
  async #waitStats(): Promise<void> {
    while (this.#stats > 0) await this.#pump();
  }

  /** Waits until the queue has room for one more request. */
  async #capacity(): Promise<void> {
    while (this.#inFlight >= this.#q.depth) await this.#pump();
  }

  /** Begins reading a directory. */
  #startRead(node: Node): Reading {
    const cfg = this.#cfg;
    const skipIt = cfg.sameFilesystem && node.parent !== null && node.dev !== this.#rootDev;
    const prefix = cfg.findStyle
      ? (node.path.endsWith("/") ? node.path : `${node.path}/`)
      : childPrefix(node.path);
    const rawPrefix = node.rawPath
      ? concat(node.rawPath, encoder.encode(node.rawPath.at(-1) === 0x2f ? "" : "/"))
      : undefined;
    return {
      node,
      prefix,
      rawPrefix,
      pathPrefix: this.#sinking ? (rawPrefix ?? encoder.encode(prefix)) : undefined,
      depth: node.depth + 1,
      children: [],
      // A mount point: shown by its parent, not descended
      done: skipIt,
    };
  }

  /** Ends reading a directory: queue its subdirectories, release it if unneeded. */
  #finishRead(reading: Reading): void {
    const { node, children } = reading;
    node.read = true;
    node.pending += children.length;
    this.#frontier.push(children);
    if (node.pending > 0) this.#lru.touch(node);
    this.#maybeRelease(node);
  }

  /** Reads one batch of a directory.  @returns Its entries to yield, or null at the end. */
  /**
   * Reads one batch of a directory.
   *
   * @returns Entries to yield; or the batch itself, whose entries the caller
   *   makes one at a time with #make() as it yields them (so each dies young:
   *   a whole batch of entries made at once outlived the young generation and
   *   grew the heap); or null at the end.
   */
  async #readBatch(reading: Reading): Promise<WalkEntry[] | DirBatch | null> {
    if (reading.done) return null;
    const { node } = reading;
    const cfg = this.#cfg;
    // (a directory whose path is too long for readPaths() is read as entries)
    const sink = this.#sinking && reading.pathPrefix!.length <= SINK_PREFIX_MAX
      ? cfg.sink!
      : undefined;
    let batch: DirBatch | null;
    try {
      batch = sink ? node.dir!.readPaths(reading.pathPrefix!, sink.end) : node.dir!.readBatch();
    } catch (error) {
      reading.done = true;
      this.#error(error as Error, node.path);
      return null;
    }
    if (!batch) {
      reading.done = true;
      return null;
    }

    let out: WalkEntry[] | DirBatch = NONE;
    const n = batch.count;
    if (cfg.stat || this.#anyDeferred(batch)) {
      out = [];
      await this.#visitWithStats(reading, batch, out);
    } else if (sink) {
      sink.paths(batch, reading.depth);
      if (reading.depth < cfg.maxDepth) {
        for (let i = 0; i < n; i++) {
          if (batch.type(i) !== DT.DIR) continue;
          const name = batch.name(i);
          const raw = batch.isUtf8(i) ? undefined : batch.bytes(i);
          reading.children.push(this.#child(reading, name, raw, reading.prefix + name));
        }
      }
    } else {
      // Only the subdirectories now; the entries as they are yielded
      out = batch;
      if (cfg.maxDepth - reading.depth >= 1) {
        const { names } = batch;
        const { skip } = cfg;
        for (let i = 0; i < n; i++) {
          if (batch.type(i) !== DT.DIR) continue;
          const path = reading.prefix + names[i];
          if (!include(path, undefined, undefined, skip)) continue;
          const raw = batch.isUtf8(i) ? undefined : batch.bytes(i);
          reading.children.push(this.#child(reading, names[i], raw, path));
        }
      }
    }

    // The directory said this was all: no need to ask again
    if (batch.last) reading.done = true;

    // Keep the workers busy while the caller works through this batch
    this.#poll();
    this.#fill(true);
    await this.#breathe();
    return out;
  }

  /** Whether some entry of a batch needs a stat to be classified. */
  #anyDeferred(batch: DirBatch): boolean {
    const follow = this.#cfg.followSymlinks;
    for (let i = 0; i < batch.count; i++) {
      const dt = batch.type(i);
      if (dt === DT.UNKNOWN || (follow && dt === DT.LNK)) return true;
    }
    return false;
  }

  /** Visits a batch whose entries need stats: request them all, wait, visit in order. */
  async #visitWithStats(reading: Reading, batch: DirBatch, out: WalkEntry[]): Promise<void> {
    const cfg = this.#cfg;
    const { node } = reading;
    const pendings: Pending[] = [];
    for (let i = 0; i < batch.count; i++) {
      const raw = batch.isUtf8(i) ? undefined : batch.bytes(i);
      const dt = batch.type(i);
      const p: Pending = { name: batch.name(i), raw, dt, followed: false };
      pendings.push(p);
      const follow = cfg.followSymlinks && dt === DT.LNK;
      if (cfg.stat || dt === DT.UNKNOWN || follow) {
        await this.#capacity();
        this.#requestStat(node, p, raw ?? p.name, follow);
      }
    }
    await this.#waitStats();

    // An lstat that found a symlink, when following: stat through it
    if (cfg.followSymlinks) {
      for (const p of pendings) {
        if (!p.followed && p.stat?.isSymlink) {
          await this.#capacity();
          this.#requestStat(node, p, p.raw ?? p.name, true);
        }
      }
      await this.#waitStats();
    }

    // A broken link is yielded as itself: its lstat, for `stat`
    if (cfg.followSymlinks && cfg.stat) {
      for (const p of pendings) {
        if (p.followed && p.error && !p.stat && brokenLink(p.error, cfg.findStyle)) {
          p.error = undefined;
          await this.#capacity();
          this.#requestStat(node, p, p.raw ?? p.name, false);
        }
      }
      await this.#waitStats();
    }

    for (const p of pendings) {
      const path = reading.prefix + p.name;
      // (followed: the stat through a link, after an lstat when the type was unknown)
      if (p.error && !(p.followed && brokenLink(p.error, cfg.findStyle))) {
        // It vanished or cannot be stat'ed: report it and go on
        this.#error(p.error, path);
        continue;
      }
      if (p.followed && p.stat && !p.error) {
        this.#visitFollowed(reading, p, path, out);
        continue;
      }
      // A broken link when following, else the type from the stat or listing
      const dt = p.error ? DT.LNK : p.stat ? statType(p.stat) : p.dt;
      this.#visit(reading, p.name, p.raw, dt, p.stat, out);
    }
  }

  /** Visits a symlink that was followed to a working target. */
  #visitFollowed(
    reading: Reading,
    p: Pending,
    path: string,
    out: WalkEntry[],
  ): void {
    const cfg = this.#cfg;
    const { exts, match, skip } = cfg;
    const stat = p.stat!;
    let shown = path;
    // The canonical path's bytes: null when they are UTF-8 (the path needs
    // no bytes), undefined when the path is not canonicalized
    let shownRaw: Uint8Array | null | undefined;
    if (cfg.canonicalize && !cfg.findStyle) {
      // Resolved relative to the directory being read, as bytes: names that
      // are not UTF-8 and directories past PATH_MAX resolve too
      try {
        const bytes = reading.node.dir!.realPath(p.raw ?? p.name);
        shown = decoder.decode(bytes);
        shownRaw = isUtf8(bytes) ? null : bytes;
      } catch (error) {
        this.#error(error as Error, path);
        return;
      }
    }
    if (!stat.isDirectory) {
      // @std/fs: the link's own entry, at the (canonical) path; find: the target's type
      if (cfg.includeFiles && include(shown, exts, match, skip)) {
        const entry = cfg.findStyle
          ? this.#entry(shown, p.name, stat.isFile, false, false, reading.depth)
          : this.#entry(shown, p.name, false, false, true, reading.depth);
        this.#extras(reading, entry, p.name, p.raw, stat, shownRaw);
        out.push(entry);
      }
      return;
    }
    // A link back to an ancestor only loops if the walk goes into it: at the
    // last depth, or skipped, @std/fs just yields it (find reports it anyway)
    const descend = cfg.maxDepth - reading.depth >= 1 && include(shown, undefined, undefined, skip);
    const ino = stat.ino ?? -1;
    for (let n: Node | null = reading.node; n && (descend || cfg.findStyle); n = n.parent) {
      if (n.dev === stat.dev && n.ino === ino) {
        const error = osError(LAYOUT.ELOOP, "walk", path);
        error.message = `File system loop (os error 40): '${path}' leads back to '${n.path}'`;
        this.#error(error, path);
        return;
      }
    }
    if (cfg.includeDirs && include(shown, exts, match, skip)) {
      const name = cfg.findStyle ? p.name : basename(shown);
      const entry = this.#entry(shown, name, false, true, false, reading.depth);
      // Named after the canonical path's last component, bytes and all
      const nameRaw = shownRaw === undefined ? p.raw : shownRaw && lastName(shownRaw);
      this.#extras(reading, entry, name, nameRaw ?? undefined, stat, shownRaw);
      out.push(entry);
    }
    if (descend) reading.children.push(this.#child(reading, p.name, p.raw, shown, shownRaw));
  }

  /** The entry for entry `i` of a batch read by #readBatch(), if it is to be yielded. */
  #make(reading: Reading, batch: DirBatch, i: number): WalkEntry | undefined {
    const cfg = this.#cfg;
    const { exts, match, skip } = cfg;
    const dt = batch.type(i);
    const name = batch.names[i];
    const path = reading.prefix + name;
    let entry: WalkEntry;
    if (dt === DT.DIR) {
      if (!cfg.includeDirs || !include(path, exts, match, skip)) return undefined;
      entry = this.#entry(path, name, false, true, false, reading.depth);
    } else if (dt === DT.LNK) {
      if (!cfg.includeSymlinks || !include(path, exts, match, skip)) return undefined;
      entry = this.#entry(path, name, false, false, true, reading.depth);
    } else {
      if (!cfg.includeFiles || !include(path, exts, match, skip)) return undefined;
      entry = this.#entry(path, name, dt === DT.REG, false, false, reading.depth);
    }
    if (reading.rawPrefix || !batch.isUtf8(i)) {
      this.#extras(reading, entry, name, batch.isUtf8(i) ? undefined : batch.bytes(i));
    }
    return entry;
  }

  /** Visits one entry of known type (std semantics).  Pushes what to yield onto `out`. */
  #visit(
    reading: Reading,
    name: string,
    raw: Uint8Array | undefined,
    dt: number,
    stat: Deno.FileInfo | undefined,
    out: WalkEntry[],
  ): void {
    const cfg = this.#cfg;
    const { exts, match, skip } = cfg;
    const path = reading.prefix + name;
    let entry: WalkEntry | undefined;
    if (dt === DT.DIR) {
      if (cfg.includeDirs && include(path, exts, match, skip)) {
        entry = this.#entry(path, name, false, true, false, reading.depth);
      }
      if (cfg.maxDepth - reading.depth >= 1 && include(path, undefined, undefined, skip)) {
        reading.children.push(this.#child(reading, name, raw, path));
      }
    } else if (dt === DT.LNK) {
      if (cfg.includeSymlinks && include(path, exts, match, skip)) {
        entry = this.#entry(path, name, false, false, true, reading.depth);
      }
    } else if (cfg.includeFiles && include(path, exts, match, skip)) {
      entry = this.#entry(path, name, dt === DT.REG, false, false, reading.depth);
    }
    if (entry) {
      if (raw || reading.rawPrefix || stat) this.#extras(reading, entry, name, raw, stat);
      out.push(entry);
    }
  }

  /** Adds raw bytes and stat to an entry when it has them. */
  #extras(
    reading: Reading,
    entry: WalkEntry,
    name: string,
    raw: Uint8Array | undefined,
    stat?: Deno.FileInfo,
    rawPath?: Uint8Array | null,
  ): void {
    if (raw) entry.nameBytes = raw;
    if (rawPath !== undefined) {
      // A canonicalized path: its bytes when they are not UTF-8
      if (rawPath) entry.pathBytes = rawPath;
    } else if (raw || reading.rawPrefix) {
      entry.pathBytes = concat(
        reading.rawPrefix ?? encoder.encode(reading.prefix),
        raw ?? encoder.encode(name),
      );
    }
    if (stat) entry.stat = stat;
  }

  /** A subdirectory node. */
  #child(
    reading: Reading,
    name: string,
    raw: Uint8Array | undefined,
    path: string,
    canonicalRaw?: Uint8Array | null,
  ): Node {
    // A canonicalized path's bytes (null: UTF-8), else the path as found
    const rawPath = canonicalRaw !== undefined
      ? canonicalRaw ?? undefined
      : raw || reading.rawPrefix
      ? concat(reading.rawPrefix ?? encoder.encode(reading.prefix), raw ?? encoder.encode(name))
      : undefined;
    return new Node(reading.node, name, raw, path, rawPath, reading.depth);
  }
}

/** A directory being read. */
interface Reading {
  /** The directory. */
  node: Node;
  /** What its entries' paths start with. */
  prefix: string;
  /** The raw bytes of `prefix`, when some part of it is not UTF-8. */
  rawPrefix: Uint8Array | undefined;
  /** The bytes of `prefix`, when listings go to a PathSink. */
  pathPrefix: Uint8Array | undefined;
  /** Its entries' depth. */
  depth: number;
  /** Subdirectories to descend into. */
  children: Node[];
  /** Whether reading is over. */
  done: boolean;
}

// --- The find(1)-style walk of the CLI (moving to the engine) ---

import type { WalkOptions } from "./walk_options.ts";

/** Applies defaults and checks option types. */
function configure(options: WalkOptions): WalkConfig {
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
