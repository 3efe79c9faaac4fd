/**
 * `glob()` and `globSync()`: `@std/fs` `expandGlob` with the pattern
 * steering a walk in C: names matched per directory on the worker threads,
 * literal names looked up without listing their directory, directories no
 * pattern can match below never opened, `exclude` patterns pruned in C.
 * Patterns that start in the same directory share one walk.
 *
 * @module
 */

import { type GlobOptions, planGlob, planWalk, resolve, type SplitPattern } from "./glob_plan.ts";
import { asyncWalkQueueOptions, IoQueue } from "./queue.ts";
import type { WalkPlan } from "./walk_options.ts";
import { WalkIterator, WalkSyncIterator } from "./walk_iterator.ts";
import type { WalkEntry } from "./walk_run.ts";
import { walk, walkSync } from "./walk.ts";

export type { GlobOptions };

/** Patterns as `glob()` takes them. */
export type GlobPattern = string | URL | (string | URL)[];

/** The patterns as a list. */
function patternList(pattern: GlobPattern): (string | URL)[] {
  return Array.isArray(pattern) ? pattern : [pattern];
}

/**
 * Yields every path matching a glob pattern (or any of several), as
 * `@std/fs` `expandGlob` does: the same entries, with absolute paths (and
 * ioq's `depth` below the walk's start, and `stat` when asked).  The walk
 * runs in C: a pattern such as `src/**\/*.ts` opens `src` directly and
 * lists only what can match; `*\/*.json` opens the first level only.
 * Entries come in walk order (breadth-first), not sorted.  A pattern whose
 * literal part runs through a file matches nothing (`expandGlob` throws
 * `NotADirectory` there); see `GlobOptions.exclude` for how excludes
 * depart from it.
 *
 * @param pattern A glob (`*`, `?`, `[...]` with POSIX classes, `{a,b}`,
 *   `**`, extended globs), a `file:` URL, or a list of them.
 * @param options See `GlobOptions`.
 * @returns An async iterator of `WalkEntry`.
 * @throws {TypeError} From the first `next()`, for an option of the wrong
 *   type, or a pattern the engine refuses (with the reason).
 * @throws {Deno.errors.PermissionDenied} (and other OS errors) When a
 *   directory that can match cannot be read and no `onError` is given.
 * @throws {Deno.errors.NotCapable} Deno's own error, when read access is
 *   scoped and does not cover the directory the patterns start from or one
 *   that can match, and no `onError` is given (as for `walk()`).
 *
 * @example The TypeScript files below src, and the JSON files one level down
 * ```ts
 * import { glob } from "@ioq/ioq";
 *
 * for await (const entry of glob(["src/**\/*.ts", "*\/*.json"], { exclude: ["**\/node_modules"] })) {
 *   console.log(entry.path);
 * }
 * ```
 */
export function glob(
  pattern: GlobPattern,
  options: GlobOptions = {},
): AsyncIterableIterator<WalkEntry> {
  return globAll(patternList(pattern), options);
}

/**
 * The walks of the patterns, then the patterns they cannot steer, each
 * path once; several walks share one queue (the caller's, or one of their
 * own, closed at the end).
 */
async function* globAll(
  patterns: (string | URL)[],
  options: GlobOptions,
): AsyncGenerator<WalkEntry> {
  const plan = planGlob(patterns, options);
  const several = plan.walks.length + plan.levelled.length > 1;
  await using own = several ? ownQueue(options, true) : undefined;
  const o = own ? { ...options, queue: own } : options;
  const seen = several ? new Set<string>() : undefined;
  const fresh = (path: string) => !seen || (!seen.has(path) && !!seen.add(path));
  for (const walkPlan of plan.walks) {
    for await (const entry of new WalkIterator(() => ({ ...walkPlan, queue: o.queue }))) {
      if (fresh(entry.path)) yield entry;
    }
  }
  for (const p of plan.levelled) {
    for await (const entry of levelGlob(p, o)) {
      if (fresh(entry.path)) yield entry;
    }
  }
}

/** A queue for several walks, unless the caller gave one (as walk()'s own, for an async glob). */
function ownQueue(options: GlobOptions, async: boolean): IoQueue | undefined {
  if (options.queue instanceof IoQueue) return undefined;
  return new IoQueue(async ? asyncWalkQueueOptions(options.queue) : options.queue);
}

/**
 * `glob()`, blocking: the same patterns, options and entries, for scripts
 * and build tools.
 *
 * @param pattern A glob, a `file:` URL, or a list of them.
 * @param options See `GlobOptions`.
 * @returns An iterator of `WalkEntry`.
 * @throws {TypeError} From the first `next()`, for an option of the wrong type.
 * @throws {Deno.errors.NotCapable} Deno's own error, when read access is
 *   scoped and does not cover the directory the patterns start from or one
 *   that can match, and no `onError` is given (as for `walk()`).
 *
 * @example The Markdown files of a tree, sorted
 * ```ts
 * import { globSync } from "@ioq/ioq";
 *
 * const docs = Array.from(globSync("**\/*.md"), (e) => e.path).sort();
 * console.log(docs.length);
 * ```
 */
export function globSync(
  pattern: GlobPattern,
  options: GlobOptions = {},
): IterableIterator<WalkEntry> {
  return globAllSync(patternList(pattern), options);
}

/** globAll(), blocking. */
function* globAllSync(patterns: (string | URL)[], options: GlobOptions): Generator<WalkEntry> {
  const plan = planGlob(patterns, options);
  const several = plan.walks.length + plan.levelled.length > 1;
  using own = several ? ownQueue(options, false) : undefined;
  const o = own ? { ...options, queue: own } : options;
  const seen = several ? new Set<string>() : undefined;
  const fresh = (path: string) => !seen || (!seen.has(path) && !!seen.add(path));
  for (const walkPlan of plan.walks) {
    for (const entry of new WalkSyncIterator(() => ({ ...walkPlan, queue: o.queue }))) {
      if (fresh(entry.path)) yield entry;
    }
  }
  for (const p of plan.levelled) {
    for (const entry of levelGlobSync(p, o)) {
      if (fresh(entry.path)) yield entry;
    }
  }
}

/**
 * A pattern with `..` after a glob segment, expanded as `expandGlob` does
 * it, a segment at a time (each step a walk of its own).
 */
async function* levelGlob(p: SplitPattern, options: GlobOptions): AsyncGenerator<WalkEntry> {
  let matches = await rootEntry(p.fixed, options);
  for (const segment of p.rest) {
    const next = new Map<string, WalkEntry>();
    for (const m of matches) {
      if (!m.isDirectory) continue;
      for await (const e of new WalkIterator(() => planStep(m.path, segment, options))) {
        next.set(e.path, e);
      }
    }
    matches = [...next.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  yield* finish(matches, p, options);
}

/** levelGlob(), blocking. */
function* levelGlobSync(p: SplitPattern, options: GlobOptions): Generator<WalkEntry> {
  let matches = rootEntrySync(p.fixed, options);
  for (const segment of p.rest) {
    const next = new Map<string, WalkEntry>();
    for (const m of matches) {
      if (!m.isDirectory) continue;
      for (const e of new WalkSyncIterator(() => planStep(m.path, segment, options))) {
        next.set(e.path, e);
      }
    }
    matches = [...next.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  yield* finish(matches, p, options);
}

/**
 * One step of a levelled pattern from the directory `dir`: what `segment`
 * matches among its entries (a glob, even without glob syntax), or for
 * `..` its parent; either way unless excluded.  Directories are kept for
 * the next step (finish() filters the last).  Excludes stay relative to
 * the first root.
 */
function planStep(dir: string, segment: string, options: GlobOptions): WalkPlan {
  const root = resolve(options.root ?? Deno.cwd());
  const step: SplitPattern = segment === ".."
    ? { fixed: resolve(dir, ".."), rest: [], restAt: [], dirsOnly: false }
    : { fixed: dir, rest: [segment], restAt: [0], dirsOnly: false };
  return planWalk([step], {
    ...options,
    includeDirs: true,
    exclude: options.exclude?.map((e) => resolve(root, e)),
  });
}

/**
 * The fixed root's entry, or none when it does not exist (or a file is on
 * its way, as the steered walk finds nothing there).
 */
async function rootEntry(path: string, options: GlobOptions): Promise<WalkEntry[]> {
  try {
    const out: WalkEntry[] = [];
    for await (const e of walk(path, { maxDepth: 0, queue: options.queue })) out.push(e);
    return out;
  } catch (error) {
    if (missing(error)) return [];
    throw error;
  }
}

/** rootEntry(), blocking. */
function rootEntrySync(path: string, options: GlobOptions): WalkEntry[] {
  try {
    return Array.from(walkSync(path, { maxDepth: 0, queue: options.queue }));
  } catch (error) {
    if (missing(error)) return [];
    throw error;
  }
}

/** Whether an error says a path is not there (ENOENT, or ENOTDIR for a file on the way). */
function missing(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory;
}

/** The last level's matches, filtered as `expandGlob` filters them. */
function finish(matches: WalkEntry[], p: SplitPattern, options: GlobOptions): WalkEntry[] {
  let out = matches;
  if (p.dirsOnly) out = out.filter((e) => e.isDirectory);
  if (options.includeDirs === false) out = out.filter((e) => !e.isDirectory);
  return out;
}
