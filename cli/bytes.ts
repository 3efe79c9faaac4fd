/**
 * Paths as bytes: where a root's name starts, trailing slashes, keys for
 * maps of directories, byte order.
 *
 * @module
 */

import type { FindEntry } from "./entry.ts";

/** Where a root's name starts, as `%f` shows it: after the last "/" that is not trailing. */
export function rootNameStart(path: Uint8Array): number {
  const end = trimSlashes(path, path.length);
  // Only slashes: the name is the last one
  if (end <= 1 && path[0] === 0x2f) return Math.max(0, path.length - 1);
  return path.subarray(0, end).lastIndexOf(0x2f) + 1;
}

/** `end` moved back over trailing slashes (not past the first byte after `start`). */
export function trimSlashes(path: Uint8Array, end: number, start = 0): number {
  while (end > start + 1 && path[end - 1] === 0x2f) end--;
  return end;
}

/** The key of the directory at `path[start, end)`: its bytes without trailing slashes. */
export function dirKey(path: Uint8Array, start: number, end: number): string {
  return keyOf(path, start, trimSlashes(path, end, start));
}

/** The key of the directory holding the entry at `path[start, ...)` whose name starts at `nameStart`. */
export function parentKey(path: Uint8Array, start: number, nameStart: number): string {
  return keyOf(path, start, trimSlashes(path, Math.max(nameStart - 1, start + 1), start));
}

/** A Map key for bytes (one char per byte). */
export function keyOf(bytes: Uint8Array, start: number, end: number): string {
  // windows-1252 (WHATWG's "latin1") maps every byte to its own character
  return byteChars.decode(bytes.subarray(start, end));
}

const byteChars = new TextDecoder("latin1");

/** Orders byte strings. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** `%f`: the entry's name; for a root, with one of its trailing slashes (as find's base_name). */
export function baseName(e: FindEntry): Uint8Array {
  const name = e.path.subarray(e.nameStart);
  if (e.depth > 0 || name.length <= 1) return name;
  let end = name.length;
  while (end > 1 && name[end - 1] === 0x2f) end--;
  return name.subarray(0, Math.min(name.length, end + 1));
}
