/**
 * The real `@std/fs` `walk`, `walkSync`, `expandGlob` and `expandGlobSync`,
 * for the tests that compare `walk()`, `walkSync()`, `glob()` and
 * `globSync()` with them.
 *
 * Loaded from the first of:
 *
 * 1. `$IOQ_STD`: a folder laid out like the Deno standard library's
 *    repository (`fs/walk.ts`, `fs/expand_glob.ts`, `path/...`), for trying
 *    another version;
 * 2. `../shared/reference/std` beside the repository, when it is there;
 * 3. `jsr:@std/fs` (the range `@std/fs` has in deno.json).
 *
 * A folder's own modules come from the folder; the `@std/path` and
 * `@std/internal` they import resolve through deno.json's import map.
 * Which source was used is printed once, when this module loads.
 *
 * @module
 */

import type { ExpandGlobOptions } from "@std/fs/expand-glob";
import type { WalkEntry, WalkOptions } from "@std/fs/walk";

export type {
  ExpandGlobOptions as StdGlobOptions,
  WalkEntry as StdWalkEntry,
  WalkOptions as StdWalkOptions,
};

/** `@std/fs` `walk`'s signature. */
export type StdWalk = (root: string | URL, options?: WalkOptions) => AsyncIterableIterator<
  WalkEntry
>;

/** `@std/fs` `walkSync`'s signature. */
export type StdWalkSync = (root: string | URL, options?: WalkOptions) => IterableIterator<
  WalkEntry
>;

/** `@std/fs` `expandGlob`'s signature. */
export type StdExpandGlob = (
  glob: string | URL,
  options?: ExpandGlobOptions,
) => AsyncIterableIterator<WalkEntry>;

/** `@std/fs` `expandGlobSync`'s signature. */
export type StdExpandGlobSync = (
  glob: string | URL,
  options?: ExpandGlobOptions,
) => IterableIterator<WalkEntry>;

/** What is loaded, and from where. */
interface Loaded {
  walk: StdWalk;
  walkSync: StdWalkSync;
  expandGlob: StdExpandGlob;
  expandGlobSync: StdExpandGlobSync;
  source: string;
}

/** A std checkout beside the repository (tests/ is one level below it). */
const BESIDE = new URL("../../shared/reference/std/", import.meta.url);

/** The modules taken from a folder. */
const MODULES = ["fs/walk.ts", "fs/expand_glob.ts"];

/** Whether a folder holds std's walk and expandGlob modules. */
function hasModules(folder: URL): boolean {
  try {
    return MODULES.every((m) => Deno.statSync(new URL(m, folder)).isFile);
  } catch {
    return false;
  }
}

/** Imports the modules from a folder. */
async function fromFolder(folder: URL, source: string): Promise<Loaded> {
  const [{ walk, walkSync }, { expandGlob, expandGlobSync }] = await Promise.all(
    MODULES.map((m) => import(new URL(m, folder).href)),
  );
  return { walk, walkSync, expandGlob, expandGlobSync, source };
}

/** Imports the modules from the first source that has them; says which. */
async function load(): Promise<Loaded> {
  const env = Deno.env.get("IOQ_STD");
  if (env) {
    const folder = new URL(`${env.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`);
    if (!hasModules(folder)) {
      throw new Error(`IOQ_STD=${env}: no ${MODULES.join(" and ")} in ${folder.pathname}`);
    }
    return fromFolder(folder, `IOQ_STD (${folder.pathname})`);
  }
  if (hasModules(BESIDE)) return fromFolder(BESIDE, BESIDE.pathname);
  const [{ walk, walkSync }, { expandGlob, expandGlobSync }] = await Promise.all([
    import("@std/fs/walk"),
    import("@std/fs/expand-glob"),
  ]);
  return {
    walk,
    walkSync,
    expandGlob,
    expandGlobSync,
    source: import.meta.resolve("@std/fs/walk"),
  };
}

const loaded = await load();
console.error(`NOTE: @std/fs walk and expandGlob from ${loaded.source}`);

/** `@std/fs` `walk` itself. */
export const stdWalk: StdWalk = loaded.walk;

/** `@std/fs` `walkSync` itself. */
export const stdWalkSync: StdWalkSync = loaded.walkSync;

/** `@std/fs` `expandGlob` itself. */
export const stdExpandGlob: StdExpandGlob = loaded.expandGlob;

/** `@std/fs` `expandGlobSync` itself. */
export const stdExpandGlobSync: StdExpandGlobSync = loaded.expandGlobSync;

/** Where they came from (a folder, or the walk module's resolved URL). */
export const STD_SOURCE: string = loaded.source;

/** What a std walk gave: its entries, and the error it threw, if it threw. */
export interface StdWalked {
  entries: WalkEntry[];
  thrown: Error | undefined;
}

/** Runs std's walk to its end (or its first error, which it throws: caught here). */
export async function stdWalkAll(root: string | URL, options?: WalkOptions): Promise<StdWalked> {
  const entries: WalkEntry[] = [];
  try {
    for await (const entry of stdWalk(root, options)) entries.push(entry);
  } catch (error) {
    return { entries, thrown: error as Error };
  }
  return { entries, thrown: undefined };
}
