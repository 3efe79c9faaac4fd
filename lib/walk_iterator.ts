/**
 * The iterators `walk()` and `walkSync()` return, on one `WalkRun`: the
 * async one waits off the event loop and lets the event loop run at least
 * every millisecond; the sync one blocks its thread while it waits.
 *
 * @module
 */

import { BREATHE, DONE, WAIT, type WalkEntry, WalkRun } from "./walk_run.ts";
import type { WalkPlan } from "./walk_options.ts";
import { setImmediate } from "node:timers";

/** How long a step may hold the event loop, in milliseconds. */
const BREATH_MS = 1;

/** Lets the event loop run (timers, I/O) before going on. */
function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** What `walk()` returns. */
export class WalkIterator implements AsyncIterableIterator<WalkEntry> {
  readonly #run: WalkRun;
  /** The end in progress, shared by concurrent callers. */
  #ending: Promise<void> | null = null;

  /** An iterator over the walk `planner` plans (called by the first next()). */
  constructor(planner: () => WalkPlan) {
    this.#run = new WalkRun(planner, BREATH_MS);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WalkEntry> {
    return this;
  }

  /** See `AsyncIterator.next`. */
  next(): Promise<IteratorResult<WalkEntry>> {
    const run = this.#run;
    if (run.ready) {
      // The common case: an entry of a batch at hand, no await needed
      try {
        const entry = run.step();
        if (typeof entry === "object") return Promise.resolve({ value: entry, done: false });
      } catch (error) {
        return this.#fail(error);
      }
    }
    return this.#slow();
  }

  /** Ends the walk early (`break`, `return`): closes everything it opened. */
  async return(value?: unknown): Promise<IteratorResult<WalkEntry>> {
    await this.#end();
    return { value: value as WalkEntry, done: true };
  }

  /** Ends the walk and rethrows. */
  async throw(error?: unknown): Promise<IteratorResult<WalkEntry>> {
    await this.#end();
    throw error;
  }

  /** Ends the walk, then rejects with `error`. */
  async #fail(error: unknown): Promise<never> {
    await this.#end();
    throw error;
  }

  /** Everything that may wait: starting, waiting for batches, breathing. */
  async #slow(): Promise<IteratorResult<WalkEntry>> {
    const run = this.#run;
    try {
      if (!run.started) {
        run.start();
        // Loading the library and starting the threads took a while the first time
        await breathe();
        run.rested();
      }
      while (true) {
        const step = run.step();
        if (typeof step === "object") return { value: step, done: false };
        if (step === DONE) break;
        if (step === WAIT) await run.wait();
        else if (step === BREATHE) await breathe();
        run.rested();
      }
    } catch (error) {
      await this.#end();
      throw error;
    }
    await this.#end();
    return { value: undefined, done: true };
  }

  /** Ends the walk once. */
  #end(): Promise<void> {
    return this.#ending ??= this.#run.end();
  }
}

/** What `walkSync()` returns. */
export class WalkSyncIterator implements IterableIterator<WalkEntry> {
  readonly #run: WalkRun;

  /** An iterator over the walk `planner` plans (called by the first next()). */
  constructor(planner: () => WalkPlan) {
    this.#run = new WalkRun(planner, Infinity);
  }

  [Symbol.iterator](): IterableIterator<WalkEntry> {
    return this;
  }

  /** See `Iterator.next`. */
  next(): IteratorResult<WalkEntry> {
    const run = this.#run;
    try {
      if (!run.started) run.start();
      while (true) {
        const step = run.step();
        if (typeof step === "object") return { value: step, done: false };
        if (step === DONE) break;
        if (step === WAIT) run.waitSync();
      }
    } catch (error) {
      run.endSync();
      throw error;
    }
    run.endSync();
    return { value: undefined, done: true };
  }

  /** Ends the walk early (`break`, `return`): closes everything it opened. */
  return(value?: unknown): IteratorResult<WalkEntry> {
    this.#run.endSync();
    return { value: value as WalkEntry, done: true };
  }

  /** Ends the walk and rethrows. */
  throw(error?: unknown): IteratorResult<WalkEntry> {
    this.#run.endSync();
    throw error;
  }
}
