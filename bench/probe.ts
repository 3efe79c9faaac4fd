/**
 * The bench's JavaScript side, in processes bench/inproc.ts and
 * bench/layers.ts start:
 *
 * ```sh
 * deno run --no-lock --allow-ffi --allow-read --allow-env [--import-map=STD/import_map.json] \
 *   bench/probe.ts serve            # commands on stdin, answers on stderr, stdout /dev/null
 * deno run ... bench/probe.ts lag ROOT ioq|load|sync|idle
 * deno run ... bench/probe.ts rss ROOT|-
 * ```
 *
 * - `serve` stays up, so the JIT stays warm between rounds: it reads one
 *   JSON command per line on stdin and answers each with one line on
 *   stderr, `PROBE ` and a JSON object.  Its stdout is the CLI's: the
 *   caller sends it to /dev/null.  Commands: `["walk", ROOT, BACKEND]`,
 *   `["engine", ROOT]`, `["queue", ROOT]`, `["sync", ROOT]`, `["std",
 *   ROOT]`, `["fdir-sync", ROOT]`, `["fdir-async", ROOT]` (see
 *   bench/walkers.ts), `["cli", ...ARGS]` (cli.ts's `main(ARGS)`, its paths
 *   to stdout), `["load-std", SPEC, FOLDER?]`, `["load-fdir"]`, `["nop",
 *   BACKEND, BATCH, MS]`.  A walk's answer holds the count, wall time, the
 *   CPU time of the process (getrusage RUSAGE_SELF: main thread, ioq's
 *   workers, V8's helpers) and of the main thread alone (RUSAGE_THREAD),
 *   through FFI; a failure's answer holds `error`.
 * - `lag`: the largest delay of a 1 ms `setInterval` while `walk()` walks
 *   ROOT (`ioq`, the library loaded first), while the library loads
 *   (`load`), during a blocking readDirSync walk (`sync`), or idle for 500
 *   ms (`idle`); one JSON line on stdout.
 * - `rss`: one `walk()` of ROOT (`-`: the library loaded and a queue
 *   opened, no walk); the caller reads the peak RSS from bench/rusage.c.
 * - `serve` also globs (bench/globbers.ts): `["load-globbers", SPEC,
 *   FOLDER?]` loads the real `expandGlob` (SPEC, as `load-std`),
 *   tinyglobby and fast-glob; `["glob", KEY, ROOT, PATTERN]` runs one
 *   (`ioq`, `std-glob`, `tinyglobby`, `fast-glob`); `["glob-opens", ROOT,
 *   PATTERN]` runs `glob()`'s walk on the engine alone for its counter of
 *   directories opened.
 * - `glob-once KEY ROOT PATTERN SPEC [FOLDER]`: one glob in a fresh
 *   process (for strace); `{ count }` on stdout.
 * - `perm ROOT`: a warm-up `walk()` of ROOT, counting the permission
 *   queries it makes, then a timed one, under whatever read permission
 *   the process was given; one JSON line on stdout.
 *
 * @module
 */

import { IoQueue } from "../mod.ts";
import { ffi } from "../lib/ffi.ts";
import { type Globber, globOpens, ioqGlob, loadGlobbers } from "./globbers.ts";
import {
  type Counted,
  engineBatches,
  ioqWalk,
  type Loaded,
  loadFdir,
  loadStd,
  nopRate,
  queuePipeline,
  readDirSyncWalk,
} from "./walkers.ts";

/** getrusage(2), opened on first use. */
let libc: Deno.DynamicLibrary<{ getrusage: { parameters: ["i32", "buffer"]; result: "i32" } }>;

/** User + system CPU time in ms of the process (RUSAGE_SELF) or the calling thread (RUSAGE_THREAD). */
function cpuMs(who: "self" | "thread"): number {
  libc ??= Deno.dlopen("libc.so.6", {
    getrusage: { parameters: ["i32", "buffer"], result: "i32" },
  });
  // struct rusage starts with ru_utime and ru_stime: two timevals of two 64-bit fields
  const ru = new BigInt64Array(18);
  if (libc.symbols.getrusage(who === "self" ? 0 : 1, ru) !== 0) throw new Error("getrusage failed");
  return Number(ru[0] + ru[2]) * 1e3 + Number(ru[1] + ru[3]) / 1e3;
}

/** A measured walk, as `serve` answers it. */
export interface Measured extends Counted {
  wallMs: number;
  /** The process's CPU time. */
  cpuMs: number;
  /** The main thread's CPU time. */
  mainCpuMs: number;
}

/** Runs `work` and measures its wall and CPU time. */
async function measure(work: () => Promise<Counted> | Counted): Promise<Measured> {
  const self = cpuMs("self");
  const main = cpuMs("thread");
  const started = performance.now();
  const counted = await work();
  const wallMs = performance.now() - started;
  return {
    ...counted,
    wallMs,
    cpuMs: cpuMs("self") - self,
    mainCpuMs: cpuMs("thread") - main,
  };
}

/** Walkers loaded by `load-std` and `load-fdir`. */
const loaded = new Map<string, Loaded>();

/** Globbers: ioq's, and those `load-globbers` loaded. */
const globbers = new Map<string, Globber>([["ioq", ioqGlob]]);

/** Loads the globbers of bench/globbers.ts; where each came from, or why it did not load. */
async function loadAllGlobbers(spec: string, folder?: string): Promise<object> {
  const sources: Record<string, { source: string } | { error: string }> = {};
  for (const [key, g] of Object.entries(await loadGlobbers(spec, folder))) {
    if ("error" in g) {
      sources[key] = g;
    } else {
      globbers.set(key, g.glob);
      sources[key] = { source: g.source };
    }
  }
  return sources;
}

/** Runs one `serve` command. */
async function command(words: string[]): Promise<object> {
  const [name, root] = words;
  switch (name) {
    case "walk":
      return await measure(() => ioqWalk(root, words[2] as "auto"));
    case "engine":
      return await measure(() => engineBatches(root));
    case "queue":
      return await measure(() => queuePipeline(root));
    case "sync":
      return await measure(() => readDirSyncWalk(root));
    case "std":
    case "fdir-sync":
    case "fdir-async": {
      const walker = loaded.get(name);
      if (!walker) throw new Error(`${name} is not loaded`);
      return await measure(() => walker.walk(root));
    }
    case "cli": {
      // Loaded on first use, so the other commands never load the CLI
      const { main } = await import("../cli.ts");
      let status = 0;
      const m = await measure(async () => ({
        count: -1,
        status: status = await main(words.slice(1)),
      }));
      return { ...m, status };
    }
    case "load-std": {
      const std = await loadStd(words[1], words[2]);
      if ("error" in std) return std;
      loaded.set("std", std);
      return { source: std.source };
    }
    case "load-fdir": {
      const fdir = await loadFdir();
      if ("error" in fdir) return fdir;
      loaded.set("fdir-sync", fdir.sync);
      loaded.set("fdir-async", fdir.async);
      return { source: fdir.sync.source };
    }
    case "load-globbers":
      return await loadAllGlobbers(words[1], words[2]);
    case "glob": {
      const globber = globbers.get(words[1]);
      if (!globber) throw new Error(`${words[1]} is not loaded`);
      return await measure(() => globber(words[2], words[3]));
    }
    case "glob-opens":
      return await globOpens(root, words[2]);
    case "nop":
      return {
        perSecond: await nopRate(words[1] as "threads", Number(words[2]), Number(words[3])),
      };
    case "queue-info": {
      await using q = new IoQueue();
      return { backend: q.backend, threads: q.threads };
    }
  }
  throw new Error(`unknown command ${JSON.stringify(words)}`);
}

/** Answers commands from stdin until it closes. */
async function serve(): Promise<void> {
  const answer = (value: unknown) =>
    Deno.stderr.writeSync(new TextEncoder().encode(`PROBE ${JSON.stringify(value)}\n`));
  let pending = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    for (let nl; (nl = pending.indexOf("\n")) >= 0;) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (!line) continue;
      try {
        answer(await command(JSON.parse(line)));
      } catch (error) {
        answer({ error: error instanceof Error ? error.stack ?? error.message : String(error) });
      }
    }
  }
}

/** What `lag` prints. */
export interface LagResult {
  walker: string;
  /** Entries walked; 0 for idle and load. */
  count: number;
  /** How long the work took, ms. */
  workMs: number;
  ticks: number;
  /** Largest and 99th-percentile tick delay, ms. */
  maxMs: number;
  p99Ms: number;
}

/** Measures a 1 ms timer's delays while `work` runs. */
async function lag(walker: string, work: () => Promise<number> | number): Promise<LagResult> {
  const delays: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    delays.push(Math.max(0, now - last - 1));
    last = now;
  }, 1);
  // Let the timer run once before the work starts
  await new Promise((resolve) => setTimeout(resolve, 5));
  delays.length = 0;
  last = performance.now();
  const started = performance.now();
  const count = await work();
  const workMs = performance.now() - started;
  // A tick the work held up shows only once it runs
  await new Promise((resolve) => setTimeout(resolve, 0));
  clearInterval(timer);
  const sorted = delays.sort((a, b) => a - b);
  return {
    walker,
    count,
    workMs,
    ticks: sorted.length,
    maxMs: sorted.at(-1) ?? workMs,
    p99Ms: sorted[Math.floor(0.99 * (sorted.length - 1))] ?? workMs,
  };
}

/** What `perm` prints: the timed walk, and the read-permission queries of the warm-up walk. */
export interface PermResult extends Measured {
  queries: number;
}

/**
 * A warm-up `walk()` of `root`, counting the read-permission queries it
 * makes (`Deno.permissions.querySync` wrapped for it alone), then a timed
 * `walk()` with nothing wrapped.
 */
async function permWalk(root: string): Promise<PermResult> {
  const perms = Deno.permissions;
  const query = perms.querySync;
  let queries = 0;
  perms.querySync = function (desc) {
    if (desc.name === "read") queries++;
    return query.call(this, desc);
  };
  try {
    await ioqWalk(root);
  } finally {
    // The prototype's method again
    delete (perms as { querySync?: unknown }).querySync;
  }
  return { ...await measure(() => ioqWalk(root)), queries };
}

if (import.meta.main) {
  const [mode, root, walker] = Deno.args;
  if (mode === "serve") {
    await serve();
  } else if (mode === "lag" && root) {
    const work: Record<string, () => Promise<number> | number> = {
      ioq: async () => (await ioqWalk(root)).count,
      load: () => (ffi(), 0),
      sync: () => readDirSyncWalk(root).count,
      idle: () => new Promise((resolve) => setTimeout(() => resolve(0), 500)),
    };
    if (!work[walker]) throw new Error(`lag: unknown walker ${walker}`);
    if (walker === "ioq") ffi();
    console.log(JSON.stringify(await lag(walker, work[walker])));
  } else if (mode === "rss" && root) {
    if (root === "-") new IoQueue().close();
    console.log(JSON.stringify({ count: root === "-" ? 0 : (await ioqWalk(root)).count }));
  } else if (mode === "glob-once" && Deno.args.length >= 5) {
    const [, key, globRoot, pattern, spec, folder] = Deno.args;
    const sources = await loadAllGlobbers(spec, folder) as Record<string, { error?: string }>;
    const globber = globbers.get(key);
    if (!globber) throw new Error(`glob-once: ${sources[key]?.error ?? `unknown globber ${key}`}`);
    console.log(JSON.stringify(await globber(globRoot, pattern)));
  } else if (mode === "perm" && root) {
    console.log(JSON.stringify(await permWalk(root)));
  } else {
    console.error(
      "usage: probe.ts serve | lag ROOT ioq|load|sync|idle | rss ROOT|- | " +
        "glob-once KEY ROOT PATTERN SPEC [FOLDER] | perm ROOT",
    );
    Deno.exit(2);
  }
}
