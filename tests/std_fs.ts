/**
 * `@std/fs` 1.0.x's walk types and path functions, rewritten: used by the
 * benchmarks' std walk (bench/std_walk.ts), so that it builds paths exactly
 * as std does, at std's cost (`normalize` scans the whole string).  The
 * tests compare with the real `@std/fs` (tests/std_walk.ts).
 *
 * @module
 */

import type { WalkOptions } from "../mod.ts";

/** An entry as `@std/fs` `walk` yields it. */
export interface StdWalkEntry {
  path: string;
  name: string;
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
}

/** The options of `@std/fs` `walk` (ioq's `WalkOptions` has the same ones, same defaults). */
export type StdWalkOptions = Pick<
  WalkOptions,
  | "maxDepth"
  | "includeFiles"
  | "includeDirs"
  | "includeSymlinks"
  | "followSymlinks"
  | "canonicalize"
  | "exts"
  | "match"
  | "skip"
>;

const SLASH = 47;
const DOT = 46;

/**
 * Normalizes a POSIX path: collapses slashes, resolves `.` and `..` (a
 * leading `..` of a relative path stays), keeps one trailing slash; `""`
 * becomes `"."`.  Scans the whole string, as std's `normalize` does.
 */
export function stdNormalize(path: string): string {
  if (typeof path !== "string") throw new TypeError(`Path must be a string, got ${typeof path}`);
  if (path.length === 0) return ".";
  const absolute = path.charCodeAt(0) === SLASH;
  const trailing = path.charCodeAt(path.length - 1) === SLASH;
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i < path.length && path.charCodeAt(i) !== SLASH) continue;
    const len = i - start;
    if (len === 1 && path.charCodeAt(start) === DOT) {
      // "." adds nothing
    } else if (len === 2 && path.charCodeAt(start) === DOT && path.charCodeAt(start + 1) === DOT) {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push("..");
    } else if (len > 0) {
      parts.push(path.slice(start, i));
    }
    start = i + 1;
  }
  let out = parts.join("/");
  if (out.length === 0 && !absolute) out = ".";
  if (out.length > 0 && trailing) out += "/";
  return absolute ? `/${out}` : out;
}

/** Joins POSIX path segments (empty ones dropped) and normalizes the result, as std's `join`. */
export function stdJoin(...paths: string[]): string {
  for (const p of paths) {
    if (typeof p !== "string") throw new TypeError(`Path must be a string, got ${typeof p}`);
  }
  const joined = paths.filter((p) => p.length > 0).join("/");
  return joined === "" ? "." : stdNormalize(joined);
}

/** std's posix `basename`: the last segment, trailing slashes dropped; "/" for "/". */
export function stdBasename(path: string): string {
  let end = path.length;
  let start = 0;
  let matched = false;
  for (let i = path.length - 1; i >= 0; i--) {
    if (path[i] === "/") {
      if (matched) {
        start = i + 1;
        break;
      }
    } else if (!matched) {
      matched = true;
      end = i + 1;
    }
  }
  const segment = path.slice(start, end);
  if (segment.length <= 1) return segment;
  let stop = segment.length;
  for (let i = segment.length - 1; i > 0 && segment[i] === "/"; i--) stop = i;
  return segment.slice(0, stop);
}

/** std's `toPathString`: a `file:` URL's path (percent escapes decoded), or the string. */
export function stdToPathString(root: string | URL): string {
  if (typeof root === "string") return root;
  if (root.protocol !== "file:") throw new TypeError("Must be a file URL.");
  return decodeURIComponent(root.pathname.replace(/%(?![0-9A-Fa-f]{2})/g, "%25"));
}

/** std's filter: extensions, then match, then skip. */
export function stdInclude(
  path: string,
  exts?: string[],
  match?: RegExp[],
  skip?: RegExp[],
): boolean {
  if (exts && !exts.some((ext) => path.endsWith(ext))) return false;
  if (match && !match.some((pattern) => !!path.match(pattern))) return false;
  if (skip && skip.some((pattern) => !!path.match(pattern))) return false;
  return true;
}
