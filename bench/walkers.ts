/**
 * The walkers bench/probe.ts runs in one Deno process, each counting the
 * entries of a tree (the root included, as `find ROOT` prints them):
 *
 * - `ioqWalk`: ioq's `walk()`, default options;
 * - `engineBatches`: the C engine driven from JavaScript as the CLI drives
 *   it (lib/engine.ts): batches taken and released, nothing per entry;
 * - `queuePipeline`: the walk ioq did before the engine, one directory at a
 *   time through `IoQueue` (opendir relative to the parent, readBatch),
 *   kept as a contrast;
 * - `readDirSyncWalk`: a recursive `Deno.readDirSync` walk building every
 *   path;
 * - the real `@std/fs` `walk` and npm `fdir` (sync and async), loaded on
 *   demand by `loadStd` and `loadFdir`;
 * - `nopRate`: `IoQueue` NOP completions per second.
 *
 * @module
 */

import { type Dir, IoQueue, walk } from "../mod.ts";
import { Engine } from "../lib/engine.ts";
import { WALK, WALK_LAYOUT } from "../lib/layout.ts";
import { queueCore } from "../lib/queue.ts";

/** What a walker found: entries, and directories opened when it knows. */
export interface Counted {
  count: number;
  /** Directories opened (the engine's counter), when known. */
  opens?: number;
}

/** Counts what ioq `walk()` yields. */
export async function ioqWalk(
  root: string,
  backend: "auto" | "io_uring" | "threads" = "auto",
): Promise<Counted> {
  let count = 0;
  for await (const _ of walk(root, { queue: { backend } })) count++;
  return { count };
}

/**
 * Runs the engine with the CLI's configuration (breadth-first, no symlink
 * followed, every type, '\n' after each path) and only takes its batches.
 */
export async function engineBatches(root: string): Promise<Counted> {
  await using queue = new IoQueue();
  using engine = new Engine(queueCore(queue), {
    flags: 0,
    order: WALK.BFS,
    follow: WALK.FOLLOW_NEVER,
    minDepth: 0,
    maxDepth: WALK_LAYOUT.NO_MAX,
    types: 0xffffffff,
    terminator: 0x0a,
    fdLimit: 0,
  }, [{ kind: WALK.ITEM_ROOT, bytes: new TextEncoder().encode(root) }]);
  let count = 0;
  while (true) {
    const event = engine.next();
    if (event.kind === "batch") {
      count += event.batch.reported;
      engine.release(event.batch);
    } else if (event.kind === "none") {
      await engine.wait();
    } else if (event.kind === "end") {
      break;
    } else {
      throw new Error("the engine asked for a gate that was never configured");
    }
  }
  return { count, opens: engine.counters().opens };
}

/** DT_DIR and DT_UNKNOWN, as `DirBatch.type()` returns them. */
const DT_DIR = 4;
const DT_UNKNOWN = 0;

/**
 * Opens and reads every directory through one `IoQueue`, breadth first,
 * each subdirectory relative to its parent's `Dir`, which is closed through
 * the queue once it is read and every open relative to it completed.
 */
export async function queuePipeline(root: string): Promise<Counted> {
  await using q = new IoQueue();
  const open: (Dir | undefined)[] = [undefined];
  const children: number[] = [0];
  const todo: { at: number; name: string }[] = [];
  let head = 0;
  const closing: number[] = [];
  let inFlight = 0;
  let count = 1;
  const close = (id: number) => closing.push(id);
  q.opendir(root, 0);
  inFlight++;
  while (true) {
    while (closing.length && inFlight < q.depth) {
      q.closedir(open[closing.pop()!]!, 0);
      inFlight++;
    }
    while (head < todo.length && inFlight < q.depth) {
      const { at, name } = todo[head++];
      q.opendir(name, at, { at: open[at] });
      inFlight++;
    }
    if (inFlight === 0) break;
    for (const c of await q.pop()) {
      inFlight--;
      if (c.op === "closedir") continue;
      if (c.op !== "opendir" || !c.dir) throw c.error ?? new Error(`unexpected ${c.op}`);
      const id = open.push(c.dir) - 1;
      children.push(0);
      for (let b = c.dir.readBatch(); b; b = b.last ? null : c.dir.readBatch()) {
        count += b.count;
        for (let i = 0; i < b.count; i++) {
          let type = b.type(i);
          if (type === DT_UNKNOWN) {
            type = Deno.lstatSync(`${c.dir.path}/${b.names[i]}`).isDirectory ? DT_DIR : -1;
          }
          if (type === DT_DIR) {
            todo.push({ at: id, name: b.names[i] });
            children[id]++;
          }
        }
      }
      if (children[id] === 0) close(id);
      if (c.tag && --children[c.tag] === 0) close(c.tag);
    }
  }
  return { count, opens: open.length - 1 };
}

/** A recursive `Deno.readDirSync` walk that builds every entry's path. */
export function readDirSyncWalk(root: string): Counted {
  let count = 1;
  const visit = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      count++;
      if (entry.isDirectory) visit(path);
    }
  };
  visit(root);
  return { count };
}

/** A walker loaded from outside, and where from. */
export interface Loaded {
  /** Counts a tree. */
  walk: (root: string) => Promise<Counted> | Counted;
  /** The module and its version. */
  source: string;
}

/** Strips terminal colours and keeps an error's first line. */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "").split("\n")[0];
}

/**
 * Loads the real `@std/fs` walk from `spec` ("@std/fs/walk" through the
 * import map the probe was started with, or "jsr:@std/fs@^1/walk").
 *
 * @returns The walker and its version, or why it could not be loaded.
 */
export async function loadStd(spec: string, folder?: string): Promise<Loaded | { error: string }> {
  try {
    const mod = await import(spec);
    const resolved = import.meta.resolve(spec);
    let version = /@std\/fs\/([0-9][^/]*)\//.exec(resolved)?.[1];
    if (!version && folder) {
      version = JSON.parse(Deno.readTextFileSync(`${folder}/fs/deno.json`)).version;
    }
    return {
      walk: async (root) => {
        let count = 0;
        for await (const _ of mod.walk(root)) count++;
        return { count };
      },
      source: `@std/fs ${version ?? "(version unknown)"}: ${resolved}`,
    };
  } catch (error) {
    return { error: `${spec}: ${firstLine(error)}` };
  }
}

/** npm fdir, sync and async, with full paths and directories (as find counts). */
export async function loadFdir(): Promise<{ sync: Loaded; async: Loaded } | { error: string }> {
  const spec = "npm:fdir@^6";
  try {
    const { fdir } = await import(spec);
    const resolved = import.meta.resolve(spec);
    const version = /fdir[@/]([0-9]+\.[0-9]+\.[0-9]+)/.exec(resolved)?.[1] ?? "(version unknown)";
    const crawl = (root: string) => new fdir().withFullPaths().withDirs().crawl(root);
    return {
      sync: { walk: (root) => ({ count: crawl(root).sync().length }), source: `fdir ${version}` },
      async: {
        walk: async (root) => ({ count: (await crawl(root).withPromise()).length }),
        source: `fdir ${version}`,
      },
    };
  } catch (error) {
    return { error: `${spec}: ${firstLine(error)}` };
  }
}

/**
 * NOP completions per second: batches of `batch` NOPs requested, then
 * popped until all are back, for about `ms` milliseconds.
 */
export async function nopRate(
  backend: "io_uring" | "threads",
  batch: number,
  ms: number,
): Promise<number> {
  await using q = new IoQueue({ backend });
  let done = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    for (let i = 0; i < batch; i++) q.nop(i);
    for (let left = batch; left > 0;) left -= (await q.pop()).length;
    done += batch;
  }
  return done / ((performance.now() - started) / 1000);
}
