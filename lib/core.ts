/**
 * The state a queue shares with its directories: the native pointer, the
 * mapped entry arena and the read buffers.  Internal: not exported by mod.ts.
 *
 * @module
 */

import { ffi, type Symbols } from "./ffi.ts";

/** What a queue needs to know of a walk running on it (see lib/engine.ts). */
export interface Walking {
  /** Stops the walk; its own close() frees it. */
  cancel(): void;
}

/** Bytes of names one directory read can return. */
const NAMES_BYTES = 64 * 1024;
/** Entries one directory read can return. */
const META_WORDS = 4096 + 1;

/** A live native queue, or a closed one. */
export class QueueCore {
  /** The native functions. */
  readonly sym: Symbols;
  /** The native queue, or null once destroyed. */
  #ptr: Deno.PointerObject | null;
  /** Whether the queue was closed by its owner (the pointer may live a little longer). */
  #closed = false;
  /** The walk using the queue's workers, if one is. */
  #walk: Walking | null = null;
  /** Names written by directory reads; shared by every directory of the queue. */
  readonly names: Uint8Array = new Uint8Array(NAMES_BYTES);
  /** Meta words written by directory reads. */
  readonly meta: Uint32Array = new Uint32Array(META_WORDS);

  /** Wraps a native queue created by the caller. */
  constructor(ptr: Deno.PointerObject) {
    this.sym = ffi();
    this.#ptr = ptr;
  }

  /** Whether the queue is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The native pointer, for an operation that needs a live queue.
   *
   * @throws {Deno.errors.BadResource} When the queue is closed.
   */
  check(op: string): Deno.PointerObject {
    if (this.#closed || this.#ptr === null) {
      throw new Deno.errors.BadResource(`Cannot ${op}: the queue is closed`);
    }
    return this.#ptr;
  }

  /** Marks the queue closed; the pointer stays until destroy(). */
  markClosed(): void {
    this.#closed = true;
  }

  /** The walk using the queue, if one is. */
  get walk(): Walking | null {
    return this.#walk;
  }

  /**
   * Checks that the queue is open and not lent to a walk.
   *
   * @throws {Deno.errors.BadResource} When the queue is closed.
   * @throws {Deno.errors.Busy} While a walk uses it.
   */
  idle(op: string): Deno.PointerObject {
    const ptr = this.check(op);
    if (this.#walk) {
      const error = new Deno.errors.Busy(`Cannot ${op}: a walk is using the queue`);
      (error as Error & { code: string }).code = "EBUSY";
      throw error;
    }
    return ptr;
  }

  /** A walk starts using the queue. */
  attach(walk: Walking): void {
    this.#walk = walk;
  }

  /** The walk is over: a queue closed meanwhile is destroyed now. */
  detach(walk: Walking): void {
    if (this.#walk !== walk) return;
    this.#walk = null;
    if (this.#closed) this.destroy();
  }

  /** The pointer even when closed, for teardown; null once destroyed. */
  get raw(): Deno.PointerObject | null {
    return this.#ptr;
  }

  /** Destroys the native queue (once). */
  destroy(): void {
    if (this.#ptr !== null) {
      this.sym.ioq_destroy(this.#ptr);
      this.#ptr = null;
    }
    this.#closed = true;
  }

  /**
   * Destroys the native queue (once) on another thread: joining the workers
   * and tearing down io_uring rings can take milliseconds, which the event
   * loop need not wait for.
   */
  async destroyAsync(): Promise<void> {
    const ptr = this.#ptr;
    this.#ptr = null;
    this.#closed = true;
    if (ptr !== null) await this.sym.ioq_destroy_async(ptr);
  }
}
