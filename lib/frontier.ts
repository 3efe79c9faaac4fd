/**
 * The walker's frontier: which directories to open next and which to read
 * next, breadth-first or depth-first.
 *
 * @module
 */

/** What the frontier needs to know about a directory. */
export interface FrontierNode {
  /** Its open request is done (successfully or not): it can be read or skipped. */
  readonly settled: boolean;
}

/** The order directories are opened and read in. */
export interface Frontier<N extends FrontierNode> {
  /** Adds the subdirectories found in one directory, in listing order. */
  push(children: N[]): void;
  /** The directory the reader needs next, if it is not requested yet. */
  urgent(): N | null;
  /** The next directory to open ahead of time, or null. */
  prefetch(): N | null;
  /** Records that a directory's open request settled. */
  settle(node: N): void;
  /** The next settled directory to read, or null (then wait for completions). */
  next(): N | null;
  /** Whether nothing is left to open or read. */
  readonly empty: boolean;
}

/**
 * Breadth-first: directories open in the order they were found and are read
 * in the order their opens complete.
 */
export class BreadthFirst<N extends FrontierNode> implements Frontier<N> {
  /** Found, not yet requested. */
  #todo: N[] = [];
  /** Index of the next one to request. */
  #head = 0;
  /** Settled, not yet read. */
  #ready: N[] = [];
  /** Index of the next one to read. */
  #readyHead = 0;
  /** Requested, not yet settled. */
  #inFlight = 0;

  /** See `Frontier.push`. */
  push(children: N[]): void {
    for (const child of children) this.#todo.push(child);
  }

  /** Nothing is urgent: any settled directory can be read next. */
  urgent(): N | null {
    return this.#inFlight === 0 && this.#readyHead === this.#ready.length ? this.prefetch() : null;
  }

  /** See `Frontier.prefetch`. */
  prefetch(): N | null {
    if (this.#head === this.#todo.length) return null;
    const node = this.#todo[this.#head++];
    if (this.#head > 4096 && this.#head * 2 > this.#todo.length) {
      this.#todo = this.#todo.slice(this.#head);
      this.#head = 0;
    }
    this.#inFlight++;
    return node;
  }

  /** See `Frontier.settle`. */
  settle(node: N): void {
    this.#inFlight--;
    this.#ready.push(node);
  }

  /** See `Frontier.next`. */
  next(): N | null {
    if (this.#readyHead === this.#ready.length) return null;
    const node = this.#ready[this.#readyHead++];
    if (this.#readyHead > 4096 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    return node;
  }

  /** See `Frontier.empty`. */
  get empty(): boolean {
    return this.#head === this.#todo.length && this.#inFlight === 0 &&
      this.#readyHead === this.#ready.length;
  }
}

/** One directory's subdirectories, in the depth-first stack. */
interface Frame<N> {
  /** The subdirectories. */
  readonly kids: N[];
  /** The next one to read. */
  read: number;
  /** The next one to request. */
  requested: number;
}

/**
 * Depth-first: a directory's subtree is read before its next sibling.  Opens
 * are requested ahead along the same order.
 */
export class DepthFirst<N extends FrontierNode> implements Frontier<N> {
  /** One frame per directory whose subdirectories are not all read. */
  #frames: Frame<N>[] = [];

  /** See `Frontier.push`. */
  push(children: N[]): void {
    if (children.length > 0) this.#frames.push({ kids: children, read: 0, requested: 0 });
  }

  /** The top frame, after dropping finished ones. */
  #top(): Frame<N> | undefined {
    let top = this.#frames[this.#frames.length - 1];
    while (top && top.read === top.kids.length) {
      this.#frames.pop();
      top = this.#frames[this.#frames.length - 1];
    }
    return top;
  }

  /** See `Frontier.urgent`. */
  urgent(): N | null {
    const top = this.#top();
    if (!top || top.requested > top.read) return null;
    top.requested++;
    return top.kids[top.read];
  }

  /** See `Frontier.prefetch`. */
  prefetch(): N | null {
    for (let i = this.#frames.length - 1; i >= 0; i--) {
      const frame = this.#frames[i];
      if (frame.requested < frame.kids.length) return frame.kids[frame.requested++];
    }
    return null;
  }

  /** Nothing to record: reading follows the stack, not completions. */
  settle(_node: N): void {}

  /** See `Frontier.next`. */
  next(): N | null {
    const top = this.#top();
    if (!top || top.read >= top.requested) return null;
    const node = top.kids[top.read];
    if (!node.settled) return null;
    top.read++;
    return node;
  }

  /** See `Frontier.empty`. */
  get empty(): boolean {
    return this.#top() === undefined;
  }
}
