/**
 * The real `@std/fs` `walk` and `walkSync`, for the tests that compare
 * `walk()` and `walkSync()` with them.
 *
 * Loaded from the first of:
 *
 * 1. `$IOQ_STD`: a folder laid out like the Deno standard library's
 *    repository (`fs/walk.ts`, `path/...`), for trying another version;
 * 2. `../shared/reference/std` beside the repository, when it is there;
 * 3. `jsr:@std/fs` (the range `@std/fs` has in deno.json).
 *
 * A folder's own modules come from the folder; the `@std/path` they import
 * resolves through deno.json's import map.  Which source was used is printed
 * once, when this module loads.
 *
 * @module
 */

import type { WalkEntry, WalkOptions } from "@std/fs/walk";

export type { WalkEntry as StdWalkEntry, WalkOptions as StdWalkOptions };

/** `@std/fs` `walk`'s signature. */
export type StdWalk = (root: string | URL, options?: WalkOptions) => AsyncIterableIterator<
  WalkEntry
>;

/** `@std/fs` `walkSync`'s signature. */
export type StdWalkSync = (root: string | URL, options?: WalkOptions) => IterableIterator<
  WalkEntry
>;

/** The module's two walkers. */
interface StdModule {
  walk: StdWalk;
  walkSync: StdWalkSync;
}

/** A std checkout beside the repository (tests/ is one level below it). */
const BESIDE = new URL("../../shared/reference/std/", import.meta.url);

/** Whether a folder holds std's walk module. */
function hasWalk(folder: URL): boolean {
  try {
    return Deno.statSync(new URL("fs/walk.ts", folder)).isFile;
  } catch {
    return false;
  }
}

/** Imports `walk` and `walkSync` from the first source that has them; says which. */
async function load(): Promise<{ module: StdModule; source: string }> {
  const env = Deno.env.get("IOQ_STD");
  if (env) {
    const folder = new URL(`${env.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`);
    if (!hasWalk(folder)) throw new Error(`IOQ_STD=${env}: no fs/walk.ts in ${folder.pathname}`);
    const module = await import(new URL("fs/walk.ts", folder).href);
    return { module, source: `IOQ_STD (${folder.pathname})` };
  }
  if (hasWalk(BESIDE)) {
    return { module: await import(new URL("fs/walk.ts", BESIDE).href), source: BESIDE.pathname };
  }
  return { module: await import("@std/fs/walk"), source: import.meta.resolve("@std/fs/walk") };
}

const loaded = await load();
console.error(`NOTE: @std/fs walk from ${loaded.source}`);

/** `@std/fs` `walk` itself. */
export const stdWalk: StdWalk = loaded.module.walk;

/** `@std/fs` `walkSync` itself. */
export const stdWalkSync: StdWalkSync = loaded.module.walkSync;

/** Where `stdWalk` came from (a folder, or the module's resolved URL). */
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
