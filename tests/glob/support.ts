/**
 * What the glob tests share: running `glob()` and `globSync()` to their
 * end, comparing them with the real `@std/fs` `expandGlob` and
 * `expandGlobSync` (tests/std_walk.ts says which copy), and `@std/fs`'s
 * own test data for them.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { globToRegExp, isGlob, resolve } from "@std/path";
import { glob, type GlobOptions, globSync, IoQueue, type WalkEntry } from "../../mod.ts";
import { Engine, type EngineConfig, type EngineItem } from "../../lib/engine.ts";
import { planGlob } from "../../lib/glob_plan.ts";
import { queueCore } from "../../lib/queue.ts";
import type { Backend } from "../helpers.ts";
import {
  stdExpandGlob,
  stdExpandGlobSync,
  type StdGlobOptions,
  type StdWalkEntry,
} from "../std_walk.ts";
import { flags, withCwd } from "../walk/support.ts";

export { withCwd };

/** An entry as compared: type flags, path and name. */
export function globKey(e: Deno.DirEntry & { path: string }): string {
  return `${flags(e)} ${JSON.stringify(e.path)} ${JSON.stringify(e.name)}`;
}

/** Options as text, for messages. */
export function describe(pattern: string | string[], options: GlobOptions): string {
  const { queue: _queue, ...rest } = options;
  return `glob(${JSON.stringify(pattern)}, ${JSON.stringify(rest)})`;
}

/** More entries than any test tree has: a glob past it is endless. */
const ENDLESS = 10_000;

/** Runs glob() to its end. */
export async function ioqGlob(
  pattern: string | string[],
  options: GlobOptions = {},
): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  for await (const e of glob(pattern, options)) {
    out.push(e);
    if (out.length > ENDLESS) throw new Error(`endless glob: over ${ENDLESS} entries`);
  }
  return out;
}

/** Runs globSync() to its end. */
export function ioqGlobSync(pattern: string | string[], options: GlobOptions = {}): WalkEntry[] {
  const out: WalkEntry[] = [];
  for (const e of globSync(pattern, options)) {
    out.push(e);
    if (out.length > ENDLESS) throw new Error(`endless glob: over ${ENDLESS} entries`);
  }
  return out;
}

/**
 * The options of glob() that std's expandGlob has, for `pattern`.  ioq
 * resolves excludes from `root` (the cwd by default) for every pattern; std
 * from "/" for an absolute pattern without a root: given as the cwd, its
 * root only sets where its excludes start, as ioq's does.
 */
function stdOptions(pattern: string, options: GlobOptions): StdGlobOptions {
  const { root, exclude, includeDirs, followSymlinks, canonicalize } = options;
  const { extended, globstar, caseInsensitive } = options;
  const out: StdGlobOptions = {
    root: root ?? (pattern.startsWith("/") && exclude?.length ? Deno.cwd() : undefined),
    exclude,
    includeDirs,
    followSymlinks,
    canonicalize,
    extended,
    globstar,
    caseInsensitive,
  };
  for (const k of Object.keys(out) as (keyof StdGlobOptions)[]) {
    if (out[k] === undefined) delete out[k];
  }
  return out;
}

/**
 * Whether std would leave out an entry of a pattern without glob syntax:
 * it yields such a path even when an exclude pattern matches it, where ioq
 * applies excludes to every path; this is the test std applies to others.
 */
function stdExcludes(pattern: string, options: GlobOptions): (path: string) => boolean {
  const segments = pattern.replace(/^\/+|\/+$/g, "").split(/\/+/);
  if (!options.exclude?.length || segments.some((s) => isGlob(s))) return () => false;
  const { extended = true, globstar = true, caseInsensitive = false } = options;
  const root = resolve(options.root ?? Deno.cwd());
  const regexps = options.exclude.map((e) =>
    globToRegExp(resolve(root, e), { extended, globstar, caseInsensitive })
  );
  return (path) => regexps.some((r) => r.test(path));
}

/**
 * The sorted keys of what std's expandGlob and expandGlobSync give (they
 * must agree), as ioq's rules for excludes give them (see `stdOptions()`,
 * `stdExcludes()`), or none when std throws NotADirectory: it does when a
 * pattern's literal part runs through a file, where ioq finds nothing, as
 * for a path that does not exist.
 */
export async function stdGlobKeys(pattern: string, options: GlobOptions): Promise<string[]> {
  const label = describe(pattern, options);
  const std = stdOptions(pattern, options);
  let entries: StdWalkEntry[];
  let syncEntries: StdWalkEntry[];
  try {
    entries = await Array.fromAsync(stdExpandGlob(pattern, std));
    syncEntries = [...stdExpandGlobSync(pattern, std)];
  } catch (error) {
    if (error instanceof Deno.errors.NotADirectory) return [];
    throw new Error(`@std/fs expandGlob threw for ${label}: ${error}: no reference`);
  }
  const keys = entries.map(globKey).sort();
  assertEquals(syncEntries.map(globKey).sort(), keys, `${label}: std's sync and async forms`);
  const excluded = stdExcludes(pattern, options);
  return entries.filter((e) => !excluded(e.path)).map(globKey).sort();
}

/** What std gives for one pattern or another, each path once. */
async function unionKeys(patterns: string[], options: GlobOptions): Promise<string[]> {
  const keys = new Set<string>();
  for (const p of patterns) for (const k of await stdGlobKeys(p, options)) keys.add(k);
  const paths = [...keys].map((k) => k.slice(4, k.lastIndexOf(" ")));
  assertEquals(new Set(paths).size, paths.length, "std gives a path as two different entries");
  return [...keys].sort();
}

/** Checks that no path comes twice. */
export function assertOnce(entries: WalkEntry[], label: string): void {
  const seen = new Set<string>();
  for (const e of entries) {
    assert(!seen.has(e.path), `${label}: ${JSON.stringify(e.path)} yielded twice`);
    seen.add(e.path);
  }
}

/**
 * Globs with glob() and globSync() (on `backend`) and with std, and checks
 * they give the same entries, each path once.  Several patterns give what
 * std gives for one or another.  Runs in `cwd` when given.
 */
export async function expectStdGlob(
  pattern: string | string[],
  options: GlobOptions,
  backend: Backend,
  cwd?: string,
): Promise<WalkEntry[]> {
  const body = async () => {
    const label = describe(pattern, options);
    const want = await unionKeys(typeof pattern === "string" ? [pattern] : pattern, options);
    const queued = { ...options, queue: { backend } };
    const got = await ioqGlob(pattern, queued);
    assertOnce(got, label);
    assertEquals(got.map(globKey).sort(), want, label);
    const gotSync = ioqGlobSync(pattern, queued);
    assertOnce(gotSync, `${label} (sync)`);
    assertEquals(gotSync.map(globKey).sort(), want, `${label} (sync)`);
    return got;
  };
  return cwd === undefined ? await body() : await withCwd(cwd, body);
}

/**
 * `@std/fs`'s test data for expandGlob (fs/testdata/glob), built in a new
 * temporary directory: abc, abcdef, abcdefghi, a[b]c/foo, subdir/abc, and
 * link -> ./subdir.
 */
export async function stdTestdata(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ioq-glob-" });
  await Deno.mkdir(`${root}/a[b]c`);
  await Deno.mkdir(`${root}/subdir`);
  for (const f of ["abc", "abcdef", "abcdefghi", "a[b]c/foo", "subdir/abc"]) {
    await Deno.writeTextFile(`${root}/${f}`, "");
  }
  await Deno.symlink("./subdir", `${root}/link`);
  return root;
}

/**
 * Runs planned walks on the engine alone (no permission gates: run with
 * read access everywhere) and returns how many directories they opened.
 */
export async function engineOpens(
  walks: { config: EngineConfig; items: EngineItem[] }[],
): Promise<number> {
  let opens = 0;
  await using queue = new IoQueue();
  for (const plan of walks) {
    using engine = new Engine(queueCore(queue), plan.config, plan.items);
    while (true) {
      const event = engine.next();
      if (event.kind === "batch") engine.release(event.batch);
      else if (event.kind === "none") await engine.wait();
      else if (event.kind === "end") break;
      else throw new Error("the engine asked about a gate: run with read access everywhere");
    }
    opens += engine.counters().opens;
  }
  return opens;
}

/** How many directories a glob's walks open (see `engineOpens()`). */
export function globOpens(pattern: string[], options: GlobOptions = {}): Promise<number> {
  return engineOpens(planGlob(pattern, options).walks);
}
