/**
 * `WalkOptions`: what `walk()` takes, checked, with `@std/fs` walk's
 * defaults, and turned into the engine's configuration.
 *
 * @module
 */

import type { EngineConfig, EngineItem } from "./engine.ts";
import { checkArray, describeValue } from "./errors.ts";
import { DT, WALK, WALK_LAYOUT } from "./layout.ts";
import { basename, childPrefixBytes, normalizeBytes, rootBytes } from "./path.ts";
import { IoQueue, type IoQueueOptions } from "./queue.ts";

/**
 * Options for `walk()`.  The first nine are those of `@std/fs` `walk`, with
 * the same defaults and meaning.
 *
 * @example Markdown files, depth first, on a queue of two threads, with a time limit
 * ```ts
 * import { walk, type WalkOptions } from "@ioq/ioq";
 *
 * const options: WalkOptions = {
 *   maxDepth: 3,
 *   exts: [".md"],
 *   skip: [/node_modules/, /\.git$/],
 *   order: "dfs",
 *   onError: (error, path) => console.error(path, error.message),
 *   signal: AbortSignal.timeout(10_000),
 *   queue: { threads: 2 },
 * };
 * for await (const entry of walk(".", options)) console.log(entry.path);
 * ```
 */
export interface WalkOptions {
  /**
   * The deepest level to yield: the root is 0, its entries 1.
   *
   * @default {Infinity}
   */
  maxDepth?: number;
  /**
   * Yield files (and other non-directories: FIFOs, sockets, devices).
   *
   * @default {true}
   */
  includeFiles?: boolean;
  /**
   * Yield directories, the root included.
   *
   * @default {true}
   */
  includeDirs?: boolean;
  /**
   * Yield symlinks (when not following them).
   *
   * @default {true}
   */
  includeSymlinks?: boolean;
  /**
   * Follow symlinks: descend into linked directories and yield linked files
   * at their target.  A link back to a directory being walked is reported
   * as an error (`Deno.errors.FilesystemLoop`, code `ELOOP`) and not
   * descended; a broken link is yielded as a symlink.
   *
   * @default {false}
   */
  followSymlinks?: boolean;
  /**
   * When following symlinks, show paths through them resolved to their
   * canonical path (as `Deno.realPath` gives it) rather than as found.  The
   * resolution works on bytes, relative to the directory holding the link,
   * so names that are not UTF-8 (see `pathBytes`) and paths longer than
   * `PATH_MAX` resolve too.
   *
   * @default {true}
   */
  canonicalize?: boolean;
  /**
   * Yield only paths ending in one of these extensions (`".ts"` or `"ts"`).
   *
   * @default {undefined}
   */
  exts?: string[];
  /**
   * Yield only paths matching one of these patterns.
   *
   * @default {undefined}
   */
  match?: RegExp[];
  /**
   * Skip paths matching one of these patterns; a skipped directory is not
   * descended.
   *
   * @default {undefined}
   */
  skip?: RegExp[];
  /**
   * `"bfs"`: breadth-first, every directory's entries, directories in the
   * order they were found (shallow before deep).  `"dfs"`: depth-first, as
   * `find` lists a tree: each subdirectory's subtree right after the
   * subdirectory's own entry.  Either way the order is the same whatever
   * the number of threads, and a directory comes before its contents.
   *
   * @default {"bfs"}
   */
  order?: "bfs" | "dfs";
  /**
   * Give each directory's entries in byte order of their names, so two
   * walks of the same tree yield the same sequence.
   *
   * @default {false}
   */
  sort?: boolean;
  /**
   * Leave out what ignore files name, with git's rules: `.gitignore` files
   * inside a git repository (and its `.git/info/exclude`), and `.ignore`
   * files anywhere (they win over `.gitignore`, as in fd and ripgrep).  An
   * ignored directory is never opened, and a repository's `.git` is left
   * out.  A walk that starts inside a repository applies the ignore files
   * of the directories above it, up to the repository's root.  An ignore
   * file that cannot be read is reported (onError) and counts as empty.
   *
   * @default {false}
   */
  gitignore?: boolean;
  /**
   * Stops the walk: the iterator throws the signal's reason, and everything
   * the walk opened is closed.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Called for an error (a directory that cannot be read, a loop, an entry
   * that vanished, the root itself); the walk goes on.  Without it, the
   * first error is thrown and the walk ends, as `@std/fs` `walk` does.
   *
   * @default {undefined}
   */
  onError?: (error: Error, path: string) => void;
  /**
   * Give every entry its `stat` (an lstat; the target's stat for followed
   * symlinks), fetched on the worker threads.  An entry that is listed but
   * cannot be stat'ed (it vanished, or its directory is readable but not
   * searchable) has its error reported, as `find` reports it, and is still
   * yielded right after, with the type its directory's listing gave and no
   * `stat` (a directory so yielded is not entered).  Without `onError`, that
   * error is thrown like any other.
   *
   * @default {false}
   */
  stat?: boolean;
  /**
   * Do not descend into directories on another file system than the root
   * (mount points are yielded, not entered), as `find -xdev`.
   *
   * @default {false}
   */
  sameFilesystem?: boolean;
  /**
   * The queue to use (the walk uses its workers alone while it runs, and
   * leaves it open; its other calls and a second walk meanwhile throw
   * `Deno.errors.Busy`), or options for a queue of its own, closed when the
   * walk ends.  Without a `threads` count, `walk()`'s own queue has one
   * worker fewer than the CPUs (at least one), so the event loop keeps a
   * CPU while the workers are busy; `walkSync()`'s has one per CPU.
   *
   * @default {{} (a new queue with default options)}
   */
  queue?: IoQueue | IoQueueOptions;
}

/** A pattern `match` and `skip` take: a RegExp, or a string as `String.match()` takes it. */
type Pattern = RegExp | string;

/** What a walk does, once its options are checked. */
export interface WalkPlan {
  /** The root as given, as text (for @std/fs's filters on the root). */
  given: string;
  /** The root's path as shown (normalized), and its name. */
  shown: string;
  rootName: string;
  /** Whether @std/fs walk's filters apply to the root (as given) in JavaScript. */
  filterRoot: boolean;
  /** Yield each path once only (a glob following links can reach a directory twice). */
  dedupe?: boolean;
  /** The engine's configuration and items. */
  config: EngineConfig;
  items: EngineItem[];
  /** Filters on yielded paths, in JavaScript. */
  match: Pattern[] | undefined;
  skip: Pattern[] | undefined;
  exts: string[] | undefined;
  includeDirs: boolean;
  /** Nothing at all to walk (maxDepth < 0). */
  empty: boolean;
  signal: AbortSignal | undefined;
  onError: ((error: Error, path: string) => void) | undefined;
  queue: IoQueue | IoQueueOptions | undefined;
}

/** Checks a boolean option. */
function bool(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`Cannot walk: ${name} must be a boolean, not ${describeValue(value)}`);
  }
  return value;
}

/** Whether a value is a RegExp or a string. */
function isPattern(value: unknown): boolean {
  return value instanceof RegExp || typeof value === "string";
}

/** Whether a value is a string. */
function isString(value: unknown): boolean {
  return typeof value === "string";
}

/** Checks `match`/`skip`: an array of RegExps (or strings, as @std/fs takes them). */
function patterns(name: string, value: unknown): Pattern[] | undefined {
  if (value === undefined) return undefined;
  checkArray("walk", name, value, "a RegExp or a string", isPattern);
  return value as Pattern[];
}

/**
 * Whether a path matches, as `path.match(pattern)` says (as @std/fs tests
 * it): a global RegExp is searched from the start each time, not from its
 * lastIndex, as `test()` would.
 */
function matches(pattern: Pattern, path: string): boolean {
  if (typeof pattern === "string" || pattern.global) return path.match(pattern) !== null;
  return pattern.test(path);
}

/** `@std/fs` walk's filter: extensions, then match, then skip. */
export function include(
  path: string,
  exts: string[] | undefined,
  match: Pattern[] | undefined,
  skip: Pattern[] | undefined,
): boolean {
  if (exts && !exts.some((ext) => path.endsWith(ext))) return false;
  if (match && !match.some((pattern) => matches(pattern, path))) return false;
  if (skip && skip.some((pattern) => matches(pattern, path))) return false;
  return true;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The DT_* types `includeFiles` covers: everything but directories and symlinks. */
const FILE_TYPES = [DT.UNKNOWN, DT.FIFO, DT.CHR, DT.BLK, DT.REG, DT.SOCK];

/**
 * Checks the options and plans the walk.  Nothing is opened here.
 *
 * @throws {TypeError} For an option of the wrong type, naming it.
 */
export function plan(root: string | URL, options: WalkOptions): WalkPlan {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot walk: the options must be an object, not ${describeValue(options)}`,
    );
  }
  const {
    maxDepth = Infinity,
    includeFiles = true,
    includeDirs = true,
    includeSymlinks = true,
    followSymlinks = false,
    canonicalize = true,
    order = "bfs",
    sort = false,
    stat = false,
    sameFilesystem = false,
    gitignore = false,
    signal,
    onError,
    queue,
  } = options;
  const bytes = rootBytes(root);
  if (bytes.includes(0)) {
    throw new TypeError(`Cannot walk '${decoder.decode(bytes)}': the path contains a NUL byte`);
  }
  if (typeof maxDepth !== "number" || Number.isNaN(maxDepth)) {
    throw new TypeError(`Cannot walk: maxDepth must be a number, not ${describeValue(maxDepth)}`);
  }
  for (
    const [name, value] of Object.entries({
      includeFiles,
      includeDirs,
      includeSymlinks,
      followSymlinks,
      canonicalize,
      sort,
      stat,
      sameFilesystem,
      gitignore,
    })
  ) bool(name, value);
  if (order !== "bfs" && order !== "dfs") {
    throw new TypeError(`Cannot walk: order must be "bfs" or "dfs", not ${describeValue(order)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`Cannot walk: signal must be an AbortSignal, not ${describeValue(signal)}`);
  }
  if (onError !== undefined && typeof onError !== "function") {
    throw new TypeError(`Cannot walk: onError must be a function, not ${describeValue(onError)}`);
  }
  if (
    queue !== undefined && !(queue instanceof IoQueue) &&
    (queue === null || typeof queue !== "object" || Array.isArray(queue))
  ) {
    throw new TypeError(
      `Cannot walk: queue must be an IoQueue or IoQueueOptions, not ${describeValue(queue)}`,
    );
  }
  const { exts } = options;
  if (exts !== undefined) checkArray("walk", "exts", exts, "a string", isString);
  const match = patterns("match", options.match);
  const skip = patterns("skip", options.skip);
  const dotted = exts?.map((ext) => ext.startsWith(".") ? ext : `.${ext}`);

  // The root as @std/fs shows it (normalized) and filters it (as given)
  const given = typeof root === "string" ? root : decoder.decode(bytes);
  const shownBytes = normalizeBytes(bytes);
  const shown = decoder.decode(shownBytes);

  // @std/fs yields the root if it passes the filters, and enters it unless skipped
  const enterRoot = maxDepth >= 1 && include(given, undefined, undefined, skip);
  const depth = enterRoot ? Math.min(Math.floor(maxDepth), WALK_LAYOUT.NO_MAX - 1) : 0;

  let types = 0;
  if (includeFiles) { for (const t of FILE_TYPES) types |= 1 << t; }
  if (includeDirs) types |= 1 << DT.DIR;
  if (includeSymlinks) types |= 1 << DT.LNK;

  const items: EngineItem[] = [
    { kind: WALK.ITEM_ROOT, bytes },
    // "" names nothing (ENOENT, as find says): its error shows it as given, not as "."
    { kind: WALK.ITEM_ROOT_SHOWN, bytes: bytes.length === 0 ? bytes : shownBytes },
    { kind: WALK.ITEM_ROOT_PREFIX, bytes: childPrefixBytes(shownBytes) },
  ];
  for (const ext of dotted ?? []) items.push({ kind: WALK.ITEM_EXT, bytes: encoder.encode(ext) });

  let flags = WALK.STD;
  if (stat) flags |= WALK.STAT;
  if (sameFilesystem) flags |= WALK.XDEV;
  if (sort) flags |= WALK.SORT;
  if (skip) flags |= WALK.GATE;
  if (gitignore) flags |= WALK.GITIGNORE;
  if (followSymlinks && canonicalize) flags |= WALK.CANON;

  return {
    given,
    shown,
    rootName: basename(shown),
    filterRoot: true,
    config: {
      flags,
      order: order === "dfs" ? WALK.DFS : WALK.BFS,
      follow: followSymlinks ? WALK.FOLLOW_ALWAYS : WALK.FOLLOW_ROOT,
      minDepth: 0,
      maxDepth: maxDepth === Infinity && enterRoot ? WALK_LAYOUT.NO_MAX : depth,
      types,
      terminator: 0x0a,
      fdLimit: 0,
    },
    items,
    match,
    skip,
    exts: dotted,
    includeDirs,
    empty: maxDepth < 0,
    signal,
    onError,
    queue,
  };
}
