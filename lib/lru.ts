/**
 * An intrusive recency list, for the walker's cache of open directories:
 * evict from either end.
 *
 * @module
 */

/** Something that can sit in an `Lru`. */
export interface LruItem<T> {
  /** The more recently used neighbour, or null. */
  lruPrev: T | null;
  /** The less recently used neighbour, or null. */
  lruNext: T | null;
  /** Whether the item is in a list. */
  inLru: boolean;
}

/** A doubly linked list, most recently used first. */
export class Lru<T extends LruItem<T>> {
  /** The most recently used item. */
  #head: T | null = null;
  /** The least recently used item. */
  #tail: T | null = null;
  /** How many items are in the list. */
  size = 0;

  /** Puts an item at the front (adding it if absent). */
  touch(item: T): void {
    if (item.inLru) {
      if (this.#head === item) return;
      this.remove(item);
    }
    item.lruPrev = null;
    item.lruNext = this.#head;
    if (this.#head) this.#head.lruPrev = item;
    this.#head = item;
    this.#tail ??= item;
    item.inLru = true;
    this.size++;
  }

  /** Takes an item out (no-op when absent). */
  remove(item: T): void {
    if (!item.inLru) return;
    if (item.lruPrev) item.lruPrev.lruNext = item.lruNext;
    else this.#head = item.lruNext;
    if (item.lruNext) item.lruNext.lruPrev = item.lruPrev;
    else this.#tail = item.lruPrev;
    item.lruPrev = item.lruNext = null;
    item.inLru = false;
    this.size--;
  }

  /** The most recently used item for which `ok` holds, or null. */
  newest(ok: (item: T) => boolean): T | null {
    for (let item = this.#head; item; item = item.lruNext) {
      if (ok(item)) return item;
    }
    return null;
  }

  /** The least recently used item for which `ok` holds, or null. */
  oldest(ok: (item: T) => boolean): T | null {
    for (let item = this.#tail; item; item = item.lruPrev) {
      if (ok(item)) return item;
    }
    return null;
  }
}
