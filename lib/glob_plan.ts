/**
 * `GlobOptions` and how `glob()` turns patterns into one walk: the patterns
 * are split into segments as `@std/fs` `expandGlob` splits them, their
 * leading literal segments joined into fixed roots, and what is left handed
 * to the engine as glob items below the fixed roots' common ancestor, with
 * the exclude patterns as absolute globs.
 *
 * @module
 */

import type { EngineItem } from "./engine.ts";
import { checkArray, describeValue, osError } from "./errors.ts";
import { ffi } from "./ffi.ts";
import { DT, LAYOUT, WALK, WALK_LAYOUT } from "./layout.ts";
import { basename, normalizeBytes, urlText } from "./path.ts";
import type { IoQueue, IoQueueOptions } from "./queue.ts";
import type { WalkPlan } from "./walk_options.ts";

/**
 * Options for `glob()`: those of `@std/fs` `expandGlob`, with the same
 * defaults and meaning, and some of `walk()`'s.
 */
export interface GlobOptions {
  /**
   * The directory relative patterns start from.
   *
   * @default {Deno.cwd()}
   */
  root?: string;
  /**
   * Patterns of paths to leave out, relative to `root`: an excluded path is
   * neither yielded nor entered (`dir/**` leaves out what is below `dir`,
   * `dir` leaves out `dir` and so all of it).  Two departures from
   * `expandGlob`: they apply to a pattern without glob syntax too (it
   * yields such a path even when excluded), and they are relative to
   * `root`, the cwd by default, for every pattern (for an absolute pattern
   * without `root`, it resolves them from `/`).
   *
   * @default {[]}
   */
  exclude?: string[];
  /**
   * Yield directories.
   *
   * @default {true}
   */
  includeDirs?: boolean;
  /**
   * Follow symlinks.
   *
   * @default {false}
   */
  followSymlinks?: boolean;
  /**
   * With `followSymlinks`, show paths through links at their canonical path.
   *
   * @default {true}
   */
  canonicalize?: boolean;
  /**
   * Extended globs: `?(a|b)`, `*(a|b)`, `+(a|b)`, `@(a|b)`, `!(a|b)`.
   *
   * @default {true}
   */
  extended?: boolean;
  /**
   * `**` matches any number of directories (else one, as `*`).
   *
   * @default {true}
   */
  globstar?: boolean;
  /**
   * Match names regardless of case.
   *
   * @default {false}
   */
  caseInsensitive?: boolean;
  /**
   * Leave out what ignore files name (see `WalkOptions.gitignore`): ignored
   * directories are never opened.
   *
   * @default {false}
   */
  gitignore?: boolean;
  /**
   * Give every entry its `stat`, fetched on the worker threads (see `WalkOptions.stat`).
   *
   * @default {false}
   */
  stat?: boolean;
  /**
   * Each directory's entries in byte order of their names.
   *
   * @default {false}
   */
  sort?: boolean;
  /**
   * Stops the walk: the iterator throws the signal's reason.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Called for an error (a directory that cannot be read); the walk goes
   * on.  Without it, the first error is thrown, as `expandGlob` does.
   *
   * @default {undefined}
   */
  onError?: (error: Error, path: string) => void;
  /**
   * The queue to use, or options for one of the walk's own (as
   * `WalkOptions.queue`: without a `threads` count, `glob()`'s has one
   * worker fewer than the CPUs, `globSync()`'s one per CPU).
   *
   * @default {{}}
   */
  queue?: IoQueue | IoQueueOptions;
}

/** The characters a backslash escapes in a glob segment. */
const METACHARS = "*?{}[]()|+@!";

/**
 * Whether a segment has glob syntax, as `@std/path` `isGlob` reads it: a
 * wildcard, a set, a brace or extglob group, a leading `!`; escaped
 * characters do not count.
 */
export function isGlob(segment: string): boolean {
  if (segment === "") return false;
  const pairs: Record<string, string> = { "{": "}", "(": ")", "[": "]" };
  const syntax =
    /\\(.)|(^!|\*|\?|[\].+)]\?|\[[^[\\\]]+\]|\{[^{\\}]+\}|\(\?[:!=][^\\)]+\)|\([^(|]+\|[^\\)]+\)|@\([^)]+\))/;
  let rest = segment;
  let found: RegExpExecArray | null;
  while ((found = syntax.exec(rest))) {
    if (found[2]) return true;
    let next = found.index + found[0].length;
    // An escaped opener: skip to its closer
    const close = found[1] ? pairs[found[1]] : undefined;
    if (close) {
      const at = rest.indexOf(close, next);
      if (at !== -1) next = at + 1;
    }
    rest = rest.slice(next);
  }
  return false;
}

/** A segment's escapes of glob characters removed. */
function unescapeSegment(segment: string): string {
  let out = "";
  for (let i = 0; i < segment.length; i++) {
    if (segment[i] === "\\" && i + 1 < segment.length && METACHARS.includes(segment[i + 1])) {
      out += segment[++i];
    } else {
      out += segment[i];
    }
  }
  return out;
}

/** Normalizes a path string (`.` and `..` lexically, slashes squeezed, a trailing slash kept). */
function normalize(path: string): string {
  return decoder.decode(normalizeBytes(encoder.encode(path)));
}

/** `@std/path` `resolve`: relative parts from the cwd, normalized, no trailing slash. */
export function resolve(...parts: string[]): string {
  let path = "";
  for (let i = parts.length - 1; i >= 0 && !path.startsWith("/"); i--) {
    if (parts[i]) path = path ? `${parts[i]}/${path}` : parts[i];
  }
  if (!path.startsWith("/")) path = path ? `${Deno.cwd()}/${path}` : Deno.cwd();
  const out = normalize(path);
  return out.length > 1 && out.endsWith("/") ? out.slice(0, -1) : out;
}

/** Joins a fixed root and a literal segment as `joinGlobs` does (normalized). */
function joinSegment(root: string, segment: string, globstar: boolean): string {
  // With globstar, a ".." right after "**" is kept as it is
  const joined = root.endsWith("/") ? root + segment : `${root}/${segment}`;
  if (!globstar || !/(^|\/)\*\*\/\.\.(\/|$)/.test(joined)) return normalize(joined);
  return normalize(joined.replace(/(?<=(^|\/)\*\*\/)\.\.(?=\/|$)/g, "\0")).replace(/\0/g, "..");
}

/** One pattern, split. */
export interface SplitPattern {
  /** Where its literal segments lead (absolute, normalized). */
  fixed: string;
  /** The segments after them, as given (escapes kept). */
  rest: string[];
  /** Where each of those starts in the pattern (a UTF-16 index). */
  restAt: number[];
  /** It ended with a slash: directories only. */
  dirsOnly: boolean;
}

/**
 * Splits a pattern as `expandGlob` does, from its root: the segments up to
 * the first glob joined to the root, literally (an empty pattern is the
 * root itself).
 */
export function splitPattern(
  pattern: string,
  root: string | undefined,
  globstar: boolean,
): SplitPattern {
  const absolute = pattern.startsWith("/");
  const dirsOnly = /\/+$/.test(pattern);
  const segments = [...pattern.matchAll(/[^/]+/g)];
  let fixed = absolute ? "/" : resolve(root ?? Deno.cwd());
  let i = 0;
  while (i < segments.length && !isGlob(segments[i][0])) {
    fixed = joinSegment(fixed, unescapeSegment(segments[i++][0]), globstar);
  }
  const rest = segments.slice(i);
  return { fixed, rest: rest.map((m) => m[0]), restAt: rest.map((m) => m.index), dirsOnly };
}

/**
 * Checks a pattern's glob segments as the engine compiles them.
 *
 * @param label How to name the pattern in a message.
 * @param text The pattern the segments (starting at `at`) come from.
 * @throws {SyntaxError} For one it refuses, with the pattern, the index in
 *   it where the segment goes wrong, and why.
 */
function checkSegments(
  label: string,
  text: string,
  segments: string[],
  at: number[],
  flags: number,
): void {
  const pos = new Uint32Array(1);
  const msg = new Uint8Array(160);
  for (let k = 0; k < segments.length; k++) {
    const bytes = encoder.encode(segments[k]);
    const ret = ffi().ioq_glob_check(bytes, bytes.length, flags, pos, msg, msg.length);
    if (ret === 0) continue;
    if (ret !== -LAYOUT.EINVAL) throw osError(ret, "glob");
    const index = at[k] + decoder.decode(bytes.subarray(0, pos[0])).length;
    const reason = decoder.decode(msg.subarray(0, msg.indexOf(0)));
    throw new SyntaxError(
      `Cannot glob: ${label} is invalid at index ${index} ` +
        `(${JSON.stringify(text.slice(index))}): ${reason}`,
    );
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What `glob()` does, once its patterns and options are checked. */
export interface GlobPlan {
  /** The walks of the patterns the engine steers: one per fixed root. */
  walks: WalkPlan[];
  /** Patterns with `..` after a glob segment, which the engine cannot steer (done level by level). */
  levelled: SplitPattern[];
}

/**
 * Checks the patterns and options and plans their walks: one per fixed
 * root, which the patterns starting there share.  A pattern's literal part
 * is where its walk starts, reached as `expandGlob` reaches it, by its
 * path (through links, named as written), never by walking down to it.
 *
 * @throws {TypeError} For an option or pattern of the wrong type, naming it.
 */
export function planGlob(patterns: (string | URL)[], options: GlobOptions): GlobPlan {
  checkOptions(options);
  const flags = itemFlags(options);
  const split = patterns.map((pattern) => {
    if (typeof pattern !== "string" && !(pattern instanceof URL)) {
      throw new TypeError(
        `Cannot glob: a pattern must be a string or a file: URL, not ${describeValue(pattern)}`,
      );
    }
    const text = typeof pattern === "string" ? pattern : urlText(pattern);
    if (text.includes("\0")) {
      throw new TypeError(`Cannot glob '${text}': the pattern contains a NUL byte`);
    }
    const split = splitPattern(text, options.root, options.globstar ?? true);
    checkSegments(JSON.stringify(text), text, split.rest, split.restAt, flags);
    return split;
  });
  const root = resolve(options.root ?? Deno.cwd());
  for (const e of options.exclude ?? []) {
    const resolved = resolve(root, e);
    const segments = [...resolved.matchAll(/[^/]+/g)];
    const label = `exclude pattern ${JSON.stringify(e)}` +
      (resolved === e ? "" : `, resolved to ${JSON.stringify(resolved)},`);
    checkSegments(label, resolved, segments.map((m) => m[0]), segments.map((m) => m.index), flags);
  }
  const byRoot = new Map<string, SplitPattern[]>();
  for (const p of split) {
    if (p.rest.includes("..")) continue;
    const group = byRoot.get(p.fixed);
    if (group) group.push(p);
    else byRoot.set(p.fixed, [p]);
  }
  return {
    walks: [...byRoot.values()].map((group) => planWalk(group, options)),
    levelled: split.filter((p) => p.rest.includes("..")),
  };
}

/** The engine's flags for the patterns of these (checked) options. */
function itemFlags(options: GlobOptions): number {
  const { extended = true, globstar = true, caseInsensitive = false } = options;
  let flags = 0;
  if (caseInsensitive) flags |= WALK.ITEM_CASEFOLD;
  if (extended) flags |= WALK.ITEM_EXTGLOB;
  if (globstar) flags |= WALK.ITEM_GLOBSTAR;
  return flags;
}

/** Checks glob()'s options.  @throws {TypeError} For one of the wrong type, naming it. */
function checkOptions(options: GlobOptions): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot glob: the options must be an object, not ${describeValue(options)}`,
    );
  }
  const {
    root,
    exclude = [],
    includeDirs = true,
    followSymlinks = false,
    canonicalize = true,
    extended = true,
    globstar = true,
    caseInsensitive = false,
    stat = false,
    sort = false,
    gitignore = false,
    signal,
    onError,
  } = options;
  if (root !== undefined && typeof root !== "string") {
    throw new TypeError(`Cannot glob: root must be a string, not ${describeValue(root)}`);
  }
  checkArray("glob", "exclude", exclude, "a string", (e) => typeof e === "string");
  for (
    const [name, value] of Object.entries({
      includeDirs,
      followSymlinks,
      canonicalize,
      extended,
      globstar,
      caseInsensitive,
      stat,
      sort,
      gitignore,
    })
  ) {
    if (typeof value !== "boolean") {
      throw new TypeError(`Cannot glob: ${name} must be a boolean, not ${describeValue(value)}`);
    }
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`Cannot glob: signal must be an AbortSignal, not ${describeValue(signal)}`);
  }
  if (onError !== undefined && typeof onError !== "function") {
    throw new TypeError(`Cannot glob: onError must be a function, not ${describeValue(onError)}`);
  }
}

/**
 * Plans the walk of patterns that share a fixed root, with checked
 * options.  (A step of a levelled pattern is such a pattern, split by hand:
 * one segment below a directory, matched as a glob even when it has no
 * glob syntax, as expandGlob matches every segment after the first glob.)
 */
export function planWalk(patterns: SplitPattern[], options: GlobOptions): WalkPlan {
  const {
    root,
    exclude = [],
    includeDirs = true,
    followSymlinks = false,
    canonicalize = true,
    stat = false,
    sort = false,
    gitignore = false,
    signal,
    onError,
    queue,
  } = options;
  let flags = WALK.STD;
  if (stat) flags |= WALK.STAT;
  if (sort) flags |= WALK.SORT;
  if (followSymlinks && canonicalize) flags |= WALK.CANON;
  if (gitignore) flags |= WALK.GITIGNORE;
  const globFlags = itemFlags(options);

  const base = patterns[0].fixed;
  const baseBytes = encoder.encode(base);
  const items: EngineItem[] = [
    { kind: WALK.ITEM_ROOT, bytes: baseBytes },
    { kind: WALK.ITEM_ROOT_SHOWN, bytes: baseBytes },
    { kind: WALK.ITEM_ROOT_PREFIX, bytes: encoder.encode(base === "/" ? "/" : `${base}/`) },
    { kind: WALK.ITEM_BASE, bytes: baseBytes },
  ];
  for (const p of patterns) {
    // (A pattern that is all literal has no segment left: it matches the root itself)
    items.push({
      kind: WALK.ITEM_GLOB,
      flags: globFlags | (p.dirsOnly ? WALK.ITEM_DIRS : 0),
      bytes: encoder.encode(p.rest.join("/")),
    });
  }
  const absRoot = resolve(root ?? Deno.cwd());
  for (const e of exclude) {
    items.push({
      kind: WALK.ITEM_EXCLUDE,
      flags: globFlags,
      bytes: encoder.encode(resolve(absRoot, e)),
    });
  }

  let types = 0;
  for (const t of [DT.UNKNOWN, DT.FIFO, DT.CHR, DT.BLK, DT.REG, DT.SOCK, DT.LNK]) types |= 1 << t;
  if (includeDirs) types |= 1 << DT.DIR;

  return {
    given: base,
    shown: base,
    rootName: basename(base),
    filterRoot: false,
    config: {
      flags,
      order: WALK.BFS,
      follow: followSymlinks ? WALK.FOLLOW_ALWAYS : WALK.FOLLOW_ROOT,
      minDepth: 0,
      maxDepth: WALK_LAYOUT.NO_MAX,
      types,
      terminator: 0x0a,
      fdLimit: 0,
    },
    items,
    match: undefined,
    skip: undefined,
    exts: undefined,
    includeDirs,
    empty: false,
    signal,
    onError,
    queue,
    dedupe: followSymlinks,
  };
}
