/**
 * In-process benchmarks (Deno.bench) on the synthetic tree:
 *
 * - group `walk`: ioq `walk()` on each backend vs the `@std/fs` walk
 *   semantics reference (bench/std_walk.ts, the baseline), recursive
 *   `Deno.readDirSync`, and the real `@std/fs` `walk` when an import map or
 *   JSR resolves it (else a note says why it is skipped);
 * - groups `nop <backend>`: `IoQueue` NOP throughput, N requests then pops
 *   until all N are back, for N = 1, 8, 64, 512;
 * - groups `opendir+read <backend>`: every directory of the tree opened
 *   through the queue (up to 256 in flight), all its entries read, closed
 *   through the queue.
 *
 * Every walker must yield exactly the tree's entry count (root included),
 * and the opendir bench must read every entry; a mismatch throws, which
 * fails the bench run.
 *
 * ```sh
 * deno task bench:walk                                  # the default 200,000-entry tree
 * IOQ_BENCH_ENTRIES=20000 deno task bench:walk          # another tree (generated if needed)
 * ```
 *
 * Environment: `IOQ_BENCH_ENTRIES` / `IOQ_BENCH_SEED` (the tree),
 * `IOQ_BENCH_N` / `IOQ_BENCH_SLOW_N` (measured walks per fast / slow walker,
 * default 5 / 3), `IOQ_BENCH_NOTES` (a file to write notes to as JSON, for
 * bench/run.ts).
 *
 * @module
 */

import { IoQueue, walk } from "../mod.ts";
import { readDirSyncWalk, stdWalk } from "./std_walk.ts";
import { ensureTree } from "./tree.ts";
import { planTree } from "./tree_plan.ts";

/** Notes for bench/run.ts: what ran, what was skipped and why. */
export interface BenchNotes {
  root: string;
  entries: number;
  dirs: number;
  /** The real @std/fs walk: loaded from which specifier, or why it was skipped. */
  stdFs: { loaded: string } | { skipped: string };
  /** Backends benchmarked, and the reason a backend was skipped. */
  backends: Record<string, { skipped?: string }>;
  /** The backend "auto" resolves to. */
  autoBackend: string;
}

/** Reads a positive integer from the environment. */
function envInt(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer: ${raw}`);
  return n;
}

const params = { entries: envInt("IOQ_BENCH_ENTRIES", 200_000), seed: envInt("IOQ_BENCH_SEED", 1) };
const tree = await ensureTree(params);
const ROOT = tree.root;
const EXPECTED = tree.manifest.stats.total;
const N = envInt("IOQ_BENCH_N", 5);
const SLOW_N = envInt("IOQ_BENCH_SLOW_N", 3);
/** Every directory of the tree, absolute. */
const DIRS = planTree(tree.manifest.params).dirPath.map((rel) => rel ? `${ROOT}/${rel}` : ROOT);

/** Throws unless a walker counted the tree's entries. */
function check(walker: string, count: number): void {
  if (count !== EXPECTED) {
    throw new Error(
      `${walker} counted ${count} entries in ${ROOT}, but the tree has ${EXPECTED}: ` +
        `the walkers disagree, so their timings cannot be compared`,
    );
  }
}

/** Counts what an async iterator yields. */
async function count(entries: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of entries) n++;
  return n;
}

/** Tries to load the real @std/fs walk: an import map entry first, then JSR. */
async function loadStdFs(): Promise<
  { walk: (root: string) => AsyncIterable<unknown>; from: string } | { reason: string }
> {
  const reasons: string[] = [];
  // Specifiers in variables: not prefetched when the module graph is built
  for (const spec of ["@std/fs/walk", "jsr:@std/fs@1/walk"]) {
    try {
      const mod = await import(spec);
      if (typeof mod.walk === "function") return { walk: mod.walk, from: spec };
      reasons.push(`${spec}: no walk export`);
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error))
        .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "").split("\n")[0];
      reasons.push(`${spec}: ${message}`);
    }
  }
  return { reason: reasons.join("; ") };
}

const stdFs = await loadStdFs();
if ("reason" in stdFs) {
  console.error(`walk_bench: the real @std/fs walk is skipped: ${stdFs.reason}`);
}

/** Why a backend cannot run here, or undefined. */
function backendSkip(backend: "io_uring" | "threads"): string | undefined {
  try {
    new IoQueue({ backend, depth: 1 }).close();
    return undefined;
  } catch (error) {
    return `${backend} refused: ${(error as Error).message}`;
  }
}

const BACKENDS = ["io_uring", "threads"] as const;
const skips = Object.fromEntries(BACKENDS.map((b) => [b, backendSkip(b)]));
for (const b of BACKENDS) {
  if (skips[b]) console.error(`walk_bench: the ${b} backend is skipped: ${skips[b]}`);
}
const autoQueue = new IoQueue({ depth: 1 });
const autoBackend = autoQueue.backend;
autoQueue.close();

const notesPath = Deno.env.get("IOQ_BENCH_NOTES");
if (notesPath) {
  const notes: BenchNotes = {
    root: ROOT,
    entries: EXPECTED,
    dirs: DIRS.length,
    stdFs: "reason" in stdFs ? { skipped: stdFs.reason } : { loaded: stdFs.from },
    backends: Object.fromEntries(BACKENDS.map((b) => [b, skips[b] ? { skipped: skips[b] } : {}])),
    autoBackend,
  };
  Deno.writeTextFileSync(notesPath, JSON.stringify(notes, null, 2));
}

// Walks of the whole tree

Deno.bench("std-walk semantics reference", {
  group: "walk",
  baseline: true,
  n: SLOW_N,
  warmup: 1,
}, async () => {
  check("the std-walk semantics reference", await count(stdWalk(ROOT)));
});

for (const backend of BACKENDS) {
  Deno.bench(`ioq walk [${backend}]`, {
    group: "walk",
    n: N,
    warmup: 1,
    ignore: skips[backend] !== undefined,
  }, async () => {
    check(`ioq walk [${backend}]`, await count(walk(ROOT, { queue: { backend } })));
  });
}

Deno.bench("recursive Deno.readDirSync", { group: "walk", n: N, warmup: 1 }, () => {
  check("recursive Deno.readDirSync", readDirSyncWalk(ROOT).count);
});

if (!("reason" in stdFs)) {
  Deno.bench(`@std/fs walk (${stdFs.from})`, {
    group: "walk",
    n: SLOW_N,
    warmup: 1,
  }, async () => {
    check("@std/fs walk", await count(stdFs.walk(ROOT)));
  });
}

// The queue itself: NOPs

const queues = new Map<string, IoQueue>();
for (const backend of BACKENDS) {
  if (!skips[backend]) queues.set(backend, new IoQueue({ backend }));
}

/** Requests `batch` NOPs, then pops until all are back. */
async function nops(q: IoQueue, batch: number): Promise<void> {
  for (let i = 0; i < batch; i++) q.nop(i);
  let done = 0;
  while (done < batch) {
    const got = await q.pop();
    if (got.length === 0) throw new Error(`pop() returned nothing with ${batch - done} NOPs due`);
    done += got.length;
  }
}

for (const backend of BACKENDS) {
  for (const batch of [1, 8, 64, 512]) {
    Deno.bench(`nop batch ${batch} [${backend}]`, {
      group: `nop ${backend}`,
      baseline: batch === 64,
      ignore: skips[backend] !== undefined,
    }, async () => {
      await nops(queues.get(backend)!, batch);
    });
  }
}

// The queue itself: open and read every directory

/** Keeps up to 256 opens in flight until every directory is opened, read and closed. */
async function openAndReadAll(q: IoQueue): Promise<void> {
  const inFlightMax = 256;
  let next = 0;
  let inFlight = 0;
  let opened = 0;
  let entries = 0;
  while (next < DIRS.length || inFlight > 0) {
    while (next < DIRS.length && inFlight < inFlightMax) {
      q.opendir(DIRS[next], next);
      next++;
      inFlight++;
    }
    for (const c of await q.pop()) {
      inFlight--;
      if (c.op === "closedir") continue;
      if (c.op !== "opendir") throw new Error(`unexpected ${c.op} completion`);
      if (!c.dir) throw c.error;
      opened++;
      for (let batch = c.dir.readBatch(); batch; batch = c.dir.readBatch()) {
        entries += batch.names.length;
      }
      q.closedir(c.dir, -1);
      inFlight++;
    }
  }
  if (opened !== DIRS.length || entries !== EXPECTED - 1) {
    throw new Error(
      `opendir+read opened ${opened} of ${DIRS.length} directories and read ${entries} ` +
        `entries, but the tree has ${EXPECTED - 1} below its root`,
    );
  }
}

for (const backend of BACKENDS) {
  Deno.bench(`opendir+read all dirs [${backend}]`, {
    group: `opendir+read`,
    n: N,
    warmup: 1,
    ignore: skips[backend] !== undefined,
  }, async () => {
    await openAndReadAll(queues.get(backend)!);
  });
}

globalThis.addEventListener("unload", () => {
  for (const q of queues.values()) q.close();
});
