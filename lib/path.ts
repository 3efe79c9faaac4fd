/**
 * Paths as the C side wants them: bytes, without a terminating NUL.
 *
 * @module
 */

/**
 * A path: a string, a `file:` URL, or raw bytes (for names that are not UTF-8).
 *
 * @example Three ways to name the same directory
 * ```ts
 * import { IoQueue, type PathLike } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * const paths: PathLike[] = ["/tmp", new URL("file:///tmp"), new TextEncoder().encode("/tmp")];
 * paths.forEach((path, tag) => q.stat(path, tag));
 * for (const done of await q.pop()) {
 *   if (done.op === "stat") console.log(done.tag, done.stat?.isDirectory); // 0 true, ...
 * }
 * ```
 */
export type PathLike = string | URL | Uint8Array;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The longest path the kernel takes (PATH_MAX), in bytes, NUL included. */
export const PATH_MAX = 4096;

/** Reused for encoding: room for any string path the kernel could accept. */
const scratch = new Uint8Array(PATH_MAX * 3);

/** The bytes of a `file:` URL's path, percent-escapes decoded to raw bytes. */
function urlBytes(url: URL): Uint8Array {
  if (url.protocol !== "file:") {
    throw new TypeError(`Cannot use URL as a path: it must be a file: URL, not ${url.protocol}`);
  }
  if (url.hostname !== "" && url.hostname !== "localhost") {
    throw new TypeError(`Cannot use URL as a path: it names host '${url.hostname}'`);
  }
  const text = url.pathname;
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      out.push(c);
    } else {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) i++;
      out.push(...encoder.encode(String.fromCodePoint(cp)));
    }
  }
  return new Uint8Array(out);
}

/**
 * Encodes a path to bytes.  The result may be a shared scratch buffer: use
 * it before encoding another path.
 *
 * @returns The bytes and their length (the array may be longer).
 * @throws {TypeError} For a non-`file:` URL or a value that is not a path.
 */
export function encodePath(path: PathLike): { bytes: Uint8Array; length: number } {
  if (typeof path === "string") {
    if (path.length <= PATH_MAX) {
      const { written } = encoder.encodeInto(path, scratch);
      return { bytes: scratch, length: written };
    }
    const bytes = encoder.encode(path);
    return { bytes, length: bytes.length };
  }
  if (path instanceof Uint8Array) return { bytes: path, length: path.length };
  if (path instanceof URL) {
    const bytes = urlBytes(path);
    return { bytes, length: bytes.length };
  }
  throw new TypeError(`Cannot use ${typeof path} as a path: expected a string, URL or Uint8Array`);
}

/** A path as text, for messages (invalid UTF-8 shows as U+FFFD). */
export function displayPath(path: PathLike): string {
  if (typeof path === "string") return path;
  if (path instanceof Uint8Array) return decoder.decode(path);
  return decoder.decode(urlBytes(path));
}

/** Joins a directory's display path and a name. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}
