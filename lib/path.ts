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
const strict = new TextDecoder("utf-8", { fatal: true });

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

/**
 * The bytes of a walk's root: a string's UTF-8, or a `file:` URL's path
 * decoded as `IoQueue` decodes it (raw bytes for escapes such as `%FF`).
 *
 * @throws {TypeError} For anything else, a URL of another scheme or host.
 */
export function rootBytes(root: string | URL): Uint8Array {
  if (typeof root === "string") return encoder.encode(root);
  if (root instanceof URL) return urlBytes(root);
  throw new TypeError(
    `Cannot walk ${root === null ? "null" : typeof root}: the root must be a string or a file: URL`,
  );
}

/**
 * A `file:` URL's path as text, for what works on text (glob patterns):
 * decoded as `rootBytes` decodes it, and refused when its bytes are not
 * UTF-8 (an escape such as `%FF`), which text cannot hold.
 *
 * @throws {TypeError} For a URL of another scheme or host, or bytes that are not UTF-8.
 */
export function urlText(url: URL): string {
  const bytes = urlBytes(url);
  try {
    return strict.decode(bytes);
  } catch {
    throw new TypeError(
      `Cannot use URL '${url.href}' as text: its path is not UTF-8 (a glob matches names as text)`,
    );
  }
}

/** The byte of "/" and ".". */
const SLASH = 0x2f;
const DOT = 0x2e;

/**
 * Normalizes a path as `@std/path` `normalize` does, on bytes: `.` and
 * `..` resolved lexically, slashes squeezed, a trailing slash kept.
 */
export function normalizeBytes(path: Uint8Array): Uint8Array {
  if (path.length === 0) return Uint8Array.of(DOT);
  const absolute = path[0] === SLASH;
  const trailing = path[path.length - 1] === SLASH;
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i < path.length && path[i] !== SLASH) continue;
    const seg = path.subarray(start, i);
    start = i + 1;
    if (seg.length === 0 || (seg.length === 1 && seg[0] === DOT)) continue;
    if (seg.length === 2 && seg[0] === DOT && seg[1] === DOT) {
      const last = out[out.length - 1];
      const lastIsUp = last && last.length === 2 && last[0] === DOT && last[1] === DOT;
      if (last && !lastIsUp) out.pop();
      else if (!absolute) out.push(seg);
    } else {
      out.push(seg);
    }
  }
  const parts: number[] = absolute ? [SLASH] : [];
  out.forEach((seg, i) => {
    if (i > 0) parts.push(SLASH);
    for (const b of seg) parts.push(b);
  });
  if (out.length === 0 && !absolute) parts.push(DOT);
  if (trailing && parts[parts.length - 1] !== SLASH) parts.push(SLASH);
  return new Uint8Array(parts);
}

/**
 * What the paths below a directory start with, as `@std/path` `join(dir,
 * name)` would make them: nothing for `.`, the path itself when it ends
 * with a slash, else the path and a slash.
 */
export function childPrefixBytes(dir: Uint8Array): Uint8Array {
  const n = dir.length;
  if ((n === 1 && dir[0] === DOT) || (n === 2 && dir[0] === DOT && dir[1] === SLASH)) {
    return new Uint8Array(0);
  }
  if (dir[n - 1] === SLASH) return dir;
  const out = new Uint8Array(n + 1);
  out.set(dir);
  out[n] = SLASH;
  return out;
}

/** The last segment of a path (trailing slashes ignored); `"/"` for the root. */
export function basename(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === SLASH) end--;
  const trimmed = path.slice(0, end);
  if (trimmed === "/") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** Joins a directory's display path and a name. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}
