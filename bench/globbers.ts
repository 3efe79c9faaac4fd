/**
 * The globbers bench/probe.ts runs in one Deno process, each counting the
 * paths one pattern matches below a root, directories included, dot files
 * included, no symlink followed (`expandGlob`'s defaults, which the others
 * are set to):
 *
 * - `ioqGlob`: ioq's `glob(pattern, { root })`;
 * - `globOpens`: the same walk on the engine alone (lib/engine.ts with
 *   `glob()`'s plan), for the engine's counter of directories opened;
 * - the real `@std/fs` `expandGlob(pattern, { root })`, npm `tinyglobby`
 *   (`glob(pattern, { cwd, dot, onlyFiles: false, followSymbolicLinks:
 *   false, expandDirectories: false })`) and npm `fast-glob` (`glob(pattern,
 *   { cwd, dot, onlyFiles: false, followSymbolicLinks: false })`), loaded on
 *   demand by `loadGlobbers`.
 *
 * @module
 */

import { glob, IoQueue } from "../mod.ts";
import { Engine } from "../lib/engine.ts";
import { planGlob } from "../lib/glob_plan.ts";
import { queueCore } from "../lib/queue.ts";
import type { Counted } from "./walkers.ts";

/** What a globber found: matches, and symlinks among them when it knows. */
export interface Globbed extends Counted {
  /** Symlinks among the matches (tinyglobby leaves them out: see bench/globs.ts). */
  symlinks?: number;
}

/** A globber: counts what `pattern` matches below `root`. */
export type Globber = (root: string, pattern: string) => Promise<Globbed>;

/** Counts what ioq `glob()` yields, and the symlinks among it. */
export async function ioqGlob(root: string, pattern: string): Promise<Globbed> {
  let count = 0;
  let symlinks = 0;
  for await (const entry of glob(pattern, { root })) {
    count++;
    if (entry.isSymlink) symlinks++;
  }
  return { count, symlinks };
}

/**
 * Runs `glob()`'s plan for `pattern` on the engine alone and takes its
 * batches: the matches it reports and the directories it opened (its
 * counters), over the plan's walks (one per literal start), on one queue.
 * Gates, if any, are all answered "enter".
 */
export async function globOpens(root: string, pattern: string): Promise<Counted> {
  const plan = planGlob([pattern], { root });
  if (plan.levelled.length) {
    throw new Error(`${pattern}: not steered walks (glob() would walk level by level)`);
  }
  await using queue = new IoQueue();
  let count = 0;
  let opens = 0;
  for (const walk of plan.walks) {
    if (walk.empty) continue;
    using engine = new Engine(queueCore(queue), walk.config, walk.items);
    while (true) {
      const event = engine.next();
      if (event.kind === "batch") {
        count += event.batch.reported;
        engine.release(event.batch);
      } else if (event.kind === "none") {
        await engine.wait();
      } else if (event.kind === "ask") {
        const gates = engine.asked();
        engine.decide(gates.map((g) => g.id), gates.map(() => true));
      } else {
        break;
      }
    }
    opens += engine.counters().opens;
  }
  return { count, opens };
}

/** The globbers loaded from outside: each, or why it could not be loaded, with its source. */
export type LoadedGlobbers = Record<
  "std-glob" | "tinyglobby" | "fast-glob",
  { glob: Globber; source: string } | { error: string }
>;

/** The npm packages, as the report names them. */
const TINYGLOBBY = "npm:tinyglobby@^0.2";
const FAST_GLOB = "npm:fast-glob@^3";

/** The version in a resolved npm specifier, or "(version unknown)". */
function npmVersion(resolved: string, name: string): string {
  return new RegExp(`${name}[@/]([0-9]+\\.[0-9]+\\.[0-9]+)`).exec(resolved)?.[1] ??
    "(version unknown)";
}

/** Strips terminal colours and keeps an error's first line. */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "").split("\n")[0];
}

/** Imports a module: its namespace and resolved specifier (throws what import() throws). */
async function load(spec: string): Promise<{ mod: Record<string, unknown>; resolved: string }> {
  const mod = await import(spec);
  return { mod, resolved: import.meta.resolve(spec) };
}

/**
 * Loads the real `@std/fs` `expandGlob` (from `stdSpec`, "@std/fs/expand-glob"
 * through the probe's import map or "jsr:@std/fs@^1/expand-glob"; `folder`
 * names the std folder, for its version), tinyglobby and fast-glob.
 */
export async function loadGlobbers(stdSpec: string, folder?: string): Promise<LoadedGlobbers> {
  const out = {} as LoadedGlobbers;
  try {
    const { mod, resolved } = await load(stdSpec);
    const expandGlob = mod.expandGlob as (p: string, o: object) => AsyncIterable<unknown>;
    let version = /@std\/fs\/([0-9][^/]*)\//.exec(resolved)?.[1];
    if (!version && folder) {
      version = JSON.parse(Deno.readTextFileSync(`${folder}/fs/deno.json`)).version;
    }
    out["std-glob"] = {
      glob: async (root, pattern) => {
        let count = 0;
        for await (const _ of expandGlob(pattern, { root })) count++;
        return { count };
      },
      source: `@std/fs ${version ?? "(version unknown)"} expandGlob: ${resolved}`,
    };
  } catch (error) {
    out["std-glob"] = { error: `${stdSpec}: ${firstLine(error)}` };
  }
  try {
    const { mod, resolved } = await load(TINYGLOBBY);
    const tiny = mod.glob as (p: string, o: object) => Promise<string[]>;
    out.tinyglobby = {
      glob: async (cwd, pattern) => ({
        count: (await tiny(pattern, {
          cwd,
          dot: true,
          onlyFiles: false,
          followSymbolicLinks: false,
          expandDirectories: false,
        })).length,
      }),
      source: `tinyglobby ${npmVersion(resolved, "tinyglobby")}`,
    };
  } catch (error) {
    out.tinyglobby = { error: `${TINYGLOBBY}: ${firstLine(error)}` };
  }
  try {
    const { mod, resolved } = await load(FAST_GLOB);
    const fg = (mod.default ?? mod) as { glob: (p: string, o: object) => Promise<string[]> };
    out["fast-glob"] = {
      glob: async (cwd, pattern) => ({
        count: (await fg.glob(pattern, {
          cwd,
          dot: true,
          onlyFiles: false,
          followSymbolicLinks: false,
        })).length,
      }),
      source: `fast-glob ${npmVersion(resolved, "fast-glob")}`,
    };
  } catch (error) {
    out["fast-glob"] = { error: `${FAST_GLOB}: ${firstLine(error)}` };
  }
  return out;
}
