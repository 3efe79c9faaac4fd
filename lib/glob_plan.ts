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
import { DT, WALK, WALK_LAYOUT } from "./layout.ts";
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
   * Patterns of paths to leave out (relative to `root`): neither yielded
   * nor entered.
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
   * The queue to use, or options for one of the walk's own.
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
  /** It ended with a slash: directories only. */
  dirsOnly: boolean;
}

/** Splits a pattern as `expandGlob` does, from its root. */
export function splitPattern(
  pattern: string,
  root: string | undefined,
  globstar: boolean,
): SplitPattern {
  const absolute = pattern.startsWith("/");
  const dirsOnly = /\/+$/.test(pattern);
  const segments = pattern.replace(/^\/+|\/+$/g, "").split(/\/+/);
  const base = absolute ? "/" : resolve(root ?? Deno.cwd());
  let fixed = absolute ? "/" : base;
  let i = 0;
  while (i < segments.length && !isGlob(segments[i])) {
    fixed = joinSegment(fixed, unescapeSegment(segments[i++]), globstar);
  }
  return { fixed, rest: segments.slice(i).filter((s) => s !== ""), dirsOnly };
}

/** The deepest directory above (or at) every one of some absolute paths. */
function commonRoot(paths: string[]): string {
  const parts = paths.map((p) => p.split("/").filter((s) => s !== ""));
  const first = parts[0];
  let n = 0;
  while (n < first.length && parts.every((p) => p[n] === first[n])) n++;
  return `/${first.slice(0, n).join("/")}`;
}

/** Escapes a literal name for a glob segment. */
function escapeName(name: string): string {
  return name.replace(/[*?{}[\]()|+@!\\]/g, (c) => `\\${c}`);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A value, for a message. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object" || typeof value === "function") return `a ${typeof value}`;
  return String(value);
}

/** What `glob()` does, once its patterns and options are checked. */
export interface GlobPlan extends WalkPlan {
  /** Patterns with `..` after a glob segment, which the engine cannot steer (done level by level). */
  levelled: SplitPattern[];
}

/**
 * Checks the patterns and options and plans one walk for them all.
 *
 * @throws {TypeError} For an option or pattern of the wrong type, naming it.
 */
export function planGlob(patterns: (string | URL)[], options: GlobOptions): GlobPlan {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot glob: the options must be an object, not ${describe(options)}`);
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
    queue,
  } = options;
  if (root !== undefined && typeof root !== "string") {
    throw new TypeError(`Cannot glob: root must be a string, not ${describe(root)}`);
  }
  if (!Array.isArray(exclude) || exclude.some((e) => typeof e !== "string")) {
    throw new TypeError(
      `Cannot glob: exclude must be an array of strings, not ${describe(exclude)}`,
    );
  }
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
      throw new TypeError(`Cannot glob: ${name} must be a boolean, not ${describe(value)}`);
    }
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`Cannot glob: signal must be an AbortSignal, not ${describe(signal)}`);
  }
  if (onError !== undefined && typeof onError !== "function") {
    throw new TypeError(`Cannot glob: onError must be a function, not ${describe(onError)}`);
  }

  const split = patterns.map((pattern) => {
    if (typeof pattern !== "string" && !(pattern instanceof URL)) {
      throw new TypeError(
        `Cannot glob: a pattern must be a string or a file: URL, not ${describe(pattern)}`,
      );
    }
    const text = typeof pattern === "string" ? pattern : urlText(pattern);
    if (text.includes("\0")) {
      throw new TypeError(`Cannot glob '${text}': the pattern contains a NUL byte`);
    }
    return splitPattern(text, root, globstar);
  });
  const steered = split.filter((p) => !p.rest.includes(".."));
  const levelled = split.filter((p) => p.rest.includes(".."));

  let flags = WALK.STD;
  if (stat) flags |= WALK.STAT;
  if (sort) flags |= WALK.SORT;
  if (followSymlinks && canonicalize) flags |= WALK.CANON;
  if (gitignore) flags |= WALK.GITIGNORE;
  let itemFlags = 0;
  if (caseInsensitive) itemFlags |= WALK.ITEM_CASEFOLD;
  if (extended) itemFlags |= WALK.ITEM_EXTGLOB;
  if (globstar) itemFlags |= WALK.ITEM_GLOBSTAR;

  // One walk from the fixed roots' common ancestor: what lies between it
  // and a pattern's fixed root becomes literal segments of that pattern
  const base = steered.length ? commonRoot(steered.map((p) => p.fixed)) : "/";
  const baseBytes = encoder.encode(base);
  const items: EngineItem[] = [
    { kind: WALK.ITEM_ROOT, bytes: baseBytes },
    { kind: WALK.ITEM_ROOT_SHOWN, bytes: baseBytes },
    { kind: WALK.ITEM_ROOT_PREFIX, bytes: encoder.encode(base === "/" ? "/" : `${base}/`) },
    { kind: WALK.ITEM_BASE, bytes: baseBytes },
  ];
  for (const p of steered) {
    const between = p.fixed.slice(base.length).split("/").filter((s) => s !== "").map(escapeName);
    // (A pattern that is all literal has no segment left: it matches the root itself)
    items.push({
      kind: WALK.ITEM_GLOB,
      flags: itemFlags | (p.dirsOnly ? WALK.ITEM_DIRS : 0),
      bytes: encoder.encode([...between, ...p.rest].join("/")),
    });
  }
  const absRoot = resolve(root ?? Deno.cwd());
  for (const e of exclude) {
    items.push({
      kind: WALK.ITEM_EXCLUDE,
      flags: itemFlags,
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
    empty: steered.length === 0,
    signal,
    onError,
    queue,
    levelled,
    dedupe: followSymlinks,
  };
}
