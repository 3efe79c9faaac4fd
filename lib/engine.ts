/**
 * The C traversal engine (csrc/walk.h), bound: a walk made from a
 * configuration, its batches mapped once, the wait for the next one off the
 * event loop, gates, cancellation and teardown.  Internal: `walk()` and the
 * CLI build on it.
 *
 * @module
 */

import { osError } from "./errors.ts";
import { ffi, type Symbols } from "./ffi.ts";
import { LAYOUT, WALK, WALK_COUNTERS, WALK_LAYOUT } from "./layout.ts";
import type { QueueCore } from "./core.ts";

/** How long one off-thread wait lasts before it looks again, in microseconds. */
const WAIT_US = 500_000;

/** What `ioq_walk_config` holds, as `EngineConfig` spells it. */
export interface EngineConfig {
  /** `WALK.STAT | WALK.XDEV | ...`. */
  flags: number;
  /** `WALK.BFS`, `WALK.DFS` or `WALK.POST`. */
  order: number;
  /** `WALK.FOLLOW_*`. */
  follow: number;
  /** Report nothing shallower. */
  minDepth: number;
  /** Report and enter nothing deeper (`WALK_LAYOUT.NO_MAX` for no limit). */
  maxDepth: number;
  /** Bit mask of the DT_* types to report. */
  types: number;
  /** The byte after each path in a batch. */
  terminator: number;
  /** The most descriptors the walk may hold, 0 for automatic. */
  fdLimit: number;
}

/** An item of the walk's spec: the root, globs, suffixes (see `enum ioq_walk_item`). */
export interface EngineItem {
  kind: number;
  flags?: number;
  bytes: Uint8Array;
}

/** Packs spec items as ioq_walk_create() reads them. */
function packSpec(items: EngineItem[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const item of items) size += 8 + ((item.bytes.length + 3) & ~3);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const { kind, flags = 0, bytes } of items) {
    out[pos] = kind;
    out[pos + 1] = flags;
    view.setUint32(pos + 4, bytes.length, true);
    out.set(bytes, pos + 8);
    pos += 8 + ((bytes.length + 3) & ~3);
  }
  return out;
}

/** The mapped views of one batch buffer. */
export interface BatchView {
  /** Which batch. */
  index: number;
  /** Its records, as words and bytes. */
  words: Uint32Array;
  ints: Int32Array;
  bytes: Uint8Array;
  /** Its text. */
  text: Uint8Array;
  /** Its stats, when the walk stats. */
  stats: DataView | null;
  /** How many records. */
  count: number;
  /** Bytes of reported paths at the start of the text. */
  front: number;
  /** Records that are reported entries. */
  reported: number;
  /** Whether it is the walk's last batch. */
  last: boolean;
}

/** A gated directory waiting for an answer (see `Engine.asked()`). */
export interface Gate {
  /** For `Engine.decide()`. */
  id: number;
  /** Its path. */
  path: Uint8Array;
  /** Its depth. */
  depth: number;
}

/** What `next()` gives: a batch, the gates to answer, the end, or nothing yet. */
export type EngineEvent =
  | { kind: "batch"; batch: BatchView }
  | { kind: "ask" }
  | { kind: "end" }
  | { kind: "none" };

/** Reads a pointer-sized field as a pointer object. */
function pointerAt(view: DataView, at: number): Deno.PointerObject | null {
  return Deno.UnsafePointer.create(view.getBigUint64(at, true));
}

/** A walk running in C.  One use; close it (idempotent) to free everything. */
export class Engine implements Disposable {
  readonly #sym: Symbols;
  #ptr: Deno.PointerObject | null;
  readonly #core: QueueCore;
  /** The batch headers, mapped once. */
  readonly #headers: DataView;
  /** Per batch: the generation mapped, and its views. */
  readonly #views: (BatchView & { gen: number })[] = [];
  /** The off-thread wait in progress. */
  #waiting: Promise<number> | null = null;
  /** Whether cancel() was called. */
  #cancelled = false;
  /** Whether stats come with the records. */
  readonly #stats: boolean;
  /** Scratch for gates. */
  #askText = new Uint8Array(64 * 1024);
  #askMeta = new Uint32Array(3 * 1024);

  /**
   * Starts a walk on a queue's workers.
   *
   * @throws {Deno.errors.Busy} When the queue has requests in flight or
   *   another walk.
   */
  constructor(core: QueueCore, config: EngineConfig, items: EngineItem[]) {
    this.#sym = ffi();
    this.#core = core;
    const cfg = new Uint32Array([
      config.flags,
      config.order,
      config.follow,
      config.minDepth,
      config.maxDepth,
      config.types,
      config.terminator,
      config.fdLimit,
    ]);
    const spec = packSpec(items);
    const err = new Int32Array(1);
    const ptr = this.#sym.ioq_walk_create(core.check("walk"), cfg, spec, spec.length, err);
    if (ptr === null) throw osError(err[0], "walk");
    this.#ptr = ptr;
    this.#stats = (config.flags & WALK.STAT) !== 0;
    const count = this.#sym.ioq_walk_batch_count(ptr);
    const headers = this.#sym.ioq_walk_batches(ptr)!;
    this.#headers = new DataView(
      Deno.UnsafePointerView.getArrayBuffer(headers, count * WALK_LAYOUT.BATCH_SIZE),
    );
    core.attach(this);
  }

  /** Whether the walk was closed. */
  get closed(): boolean {
    return this.#ptr === null;
  }

  /** Whether the walk was cancelled (or closed). */
  get cancelled(): boolean {
    return this.#cancelled || this.#ptr === null;
  }

  /** The views of batch `index`, mapped again when its buffers moved. */
  #view(index: number): BatchView {
    const h = this.#headers;
    const base = index * WALK_LAYOUT.BATCH_SIZE;
    const gen = h.getUint32(base + WALK_LAYOUT.BATCH_GEN, true);
    let v = this.#views[index];
    if (!v || v.gen !== gen) {
      const recCap = h.getUint32(base + WALK_LAYOUT.BATCH_REC_CAP, true);
      const cap = h.getUint32(base + WALK_LAYOUT.BATCH_CAP, true);
      const recs = Deno.UnsafePointerView.getArrayBuffer(
        pointerAt(h, base + WALK_LAYOUT.BATCH_RECS)!,
        recCap * WALK_LAYOUT.REC_SIZE,
      );
      const stats = pointerAt(h, base + WALK_LAYOUT.BATCH_STATS);
      v = {
        index,
        gen,
        words: new Uint32Array(recs),
        ints: new Int32Array(recs),
        bytes: new Uint8Array(recs),
        text: new Uint8Array(
          Deno.UnsafePointerView.getArrayBuffer(pointerAt(h, base + WALK_LAYOUT.BATCH_TEXT)!, cap),
        ),
        stats: this.#stats && stats
          ? new DataView(
            Deno.UnsafePointerView.getArrayBuffer(stats, recCap * WALK_LAYOUT.STATX_SIZE),
          )
          : null,
        count: 0,
        front: 0,
        reported: 0,
        last: false,
      };
      this.#views[index] = v;
    }
    v.count = h.getUint32(base + WALK_LAYOUT.BATCH_COUNT, true);
    v.front = h.getUint32(base + WALK_LAYOUT.BATCH_FRONT, true);
    v.reported = h.getUint32(base + WALK_LAYOUT.BATCH_REPORTED, true);
    v.last = (h.getUint32(base + WALK_LAYOUT.BATCH_FLAGS, true) & WALK.BATCH_LAST) !== 0;
    return v;
  }

  /** The native pointer, for a live walk. */
  #live(): Deno.PointerObject {
    if (this.#ptr === null) throw new Deno.errors.BadResource("Cannot walk: the walk is closed");
    return this.#ptr;
  }

  /**
   * What is ready now, without waiting.
   *
   * @throws {Deno.errors.Interrupted} When the walk (or its queue) was cancelled.
   */
  next(): EngineEvent {
    const ret = this.#sym.ioq_walk_next(this.#live());
    if (ret >= 0 && ret < WALK_LAYOUT.END) return { kind: "batch", batch: this.#view(ret) };
    if (ret === WALK_LAYOUT.END) return { kind: "end" };
    if (ret === WALK_LAYOUT.ASK) return { kind: "ask" };
    if (ret === -LAYOUT.EAGAIN) return { kind: "none" };
    throw osError(ret, "walk");
  }

  /** Waits off the event loop until `next()` has something (or a time limit passes). */
  wait(): Promise<number> {
    if (!this.#waiting) {
      this.#waiting = this.#sym.ioq_walk_wait_async(this.#live(), WAIT_US).then((ret) => {
        this.#waiting = null;
        return ret;
      });
    }
    return this.#waiting;
  }

  /** Waits, blocking this thread, until `next()` has something (or a time limit passes). */
  waitSync(): number {
    return this.#sym.ioq_walk_wait(this.#live(), WAIT_US);
  }

  /** Gives a batch back. */
  release(batch: BatchView): void {
    if (this.#ptr !== null) this.#sym.ioq_walk_release(this.#ptr, batch.index);
  }

  /**
   * The gated directories waiting for an answer (each asked about once):
   * an id for `decide()`, the path's bytes (copied) and the depth.
   */
  asked(): Gate[] {
    const ptr = this.#live();
    const out: Gate[] = [];
    while (true) {
      const n = this.#sym.ioq_walk_asked(
        ptr,
        this.#askText,
        this.#askText.length,
        this.#askMeta,
        this.#askMeta.length,
      );
      if (n === -LAYOUT.EINVAL) {
        // A path longer than the buffer: grow it
        this.#askText = new Uint8Array(this.#askText.length * 4);
        continue;
      }
      if (n < 0) throw osError(n, "walk");
      if (n === 0) return out;
      let pos = 0;
      for (let i = 0; i < n; i++) {
        const len = this.#askMeta[3 * i + 1];
        out.push({
          id: this.#askMeta[3 * i],
          path: this.#askText.slice(pos, pos + len),
          depth: this.#askMeta[3 * i + 2],
        });
        pos += len + 1;
      }
    }
  }

  /** Answers gates: whether to enter each (by the ids `asked()` gave). */
  decide(ids: number[], enter: boolean[]): void {
    if (ids.length === 0) return;
    const ret = this.#sym.ioq_walk_decide(
      this.#live(),
      Uint32Array.from(ids),
      Uint8Array.from(enter, (e) => (e ? 1 : 0)),
      ids.length,
    );
    if (ret < 0) throw osError(ret, "walk");
  }

  /** The engine's counters (directories opened, getdents calls, ...). */
  counters(): Record<(typeof WALK_COUNTERS)[number], number> {
    const out = new Float64Array(WALK_COUNTERS.length);
    this.#sym.ioq_walk_counters(this.#live(), out, out.length);
    return Object.fromEntries(WALK_COUNTERS.map((name, i) => [name, out[i]])) as Record<
      (typeof WALK_COUNTERS)[number],
      number
    >;
  }

  /** Stops the walk: `next()` throws `Interrupted` from now on, a pending wait ends. */
  cancel(): void {
    this.#cancelled = true;
    if (this.#ptr !== null) {
      this.#sym.ioq_walk_cancel(this.#ptr);
      this.#sym.ioq_walk_stop_waits(this.#ptr);
    }
  }

  /**
   * Ends the walk and frees it, after a pending wait has returned; the
   * queue is idle again.  Idempotent.
   */
  async close(): Promise<void> {
    if (this.#ptr === null) return;
    this.cancel();
    await this.#waiting;
    this.#destroy();
  }

  /** close(), when no wait can be pending (walkSync). */
  closeSync(): void {
    this.cancel();
    this.#destroy();
  }

  /** Frees the walk now (no wait may be pending). */
  #destroy(): void {
    if (this.#ptr === null) return;
    this.#sym.ioq_walk_destroy(this.#ptr);
    this.#ptr = null;
    this.#core.detach(this);
  }

  /** Frees the walk if no wait is pending; else only cancels it (close() finishes). */
  [Symbol.dispose](): void {
    if (this.#waiting) this.cancel();
    else this.#destroy();
  }
}
