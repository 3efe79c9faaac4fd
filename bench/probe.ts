/**
 * Single-measurement probes that bench/run.ts runs in fresh processes, each
 * printing one JSON object on stdout:
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-env bench/probe.ts lag ROOT --walker ioq --backend io_uring
 * deno run --allow-ffi --allow-read --allow-env bench/probe.ts lag ROOT --walker idle
 * deno run --allow-ffi --allow-read --allow-env bench/probe.ts lag ROOT --walker load
 * deno run --allow-ffi --allow-read --allow-env bench/probe.ts rss ROOT [--backend auto] [--no-walk]
 * deno run --allow-ffi --allow-read --allow-env bench/probe.ts layers ROOT
 * ```
 *
 * - `lag`: the delays of a 1 ms `setInterval` timer while walking ROOT with
 *   ioq `walk()` (`--walker ioq`), with recursive `Deno.readDirSync`
 *   (`--walker sync`, for contrast), or while idle for 500 ms (`--walker
 *   idle`, the timer's own noise floor).  A delay is how much later than
 *   1 ms after the previous tick a tick came.  The ioq walk starts with
 *   the library loaded: loading it (`Deno.dlopen`, binding every symbol)
 *   blocks once per process, and `--walker load` measures that alone.
 * - `rss`: walks ROOT with ioq `walk()` and reads the process's peak RSS
 *   (VmHWM in /proc/self/status) at the end; with `--no-walk`, only loads ioq
 *   and opens and closes a queue (the runtime's own footprint).  Deno lets
 *   only `--allow-all` read /proc/self/status; without it the fields are
 *   null, and bench/run.ts takes the peak from `/usr/bin/time -f %M`.
 * - `layers`: stays up for bench/layers.ts, reading one command per line on
 *   stdin and answering each with one line, `LAYER ` and a JSON `LayerRun`:
 *   `pipeline` opens and reads every directory under ROOT through an
 *   `IoQueue` (breadth first, each subdirectory opened relative to its
 *   parent's `Dir`, as bench/pipe.c does in C); `walk` counts what
 *   `walk(ROOT)` yields; `cli-count` runs the CLI's `main([ROOT, "-count"])`
 *   from cli.ts in this process, whose count line comes first on stdout.
 *   All use the queue's defaults (backend auto, one worker per CPU) and
 *   create their queue inside the timed part.  CPU time comes from
 *   getrusage(2) through FFI: the whole process (RUSAGE_SELF: the main
 *   thread, ioq's workers, V8's helper threads) and the main thread alone
 *   (RUSAGE_THREAD).  Staying up keeps the JIT warm between runs while
 *   bench/layers.ts alternates them with the C programs.
 *
 * @module
 */

import { type Dir, IoQueue, walk } from "../mod.ts";
import { readDirSyncWalk } from "./std_walk.ts";
import { parseFlags } from "./util.ts";
import { ffi } from "../lib/ffi.ts";

/** What `lag` prints. */
export interface LagResult {
  walker: string;
  backend: string | null;
  /** Entries walked (root included); 0 when idle. */
  count: number;
  /** Wall time of the walk, ms. */
  walkMs: number;
  /** Timer ticks seen. */
  ticks: number;
  /** Largest tick delay, ms. */
  maxDelayMs: number;
  /** 99th percentile tick delay, ms. */
  p99DelayMs: number;
}

/** What `rss` prints. */
export interface RssResult {
  backend: string | null;
  count: number;
  walkMs: number;
  /** Peak resident set size, KiB (VmHWM); null when /proc/self/status cannot be read. */
  peakKiB: number | null;
  /** Resident set size at the end, KiB (VmRSS); null as peakKiB. */
  endKiB: number | null;
}

/** What `layers` prints for one command. */
export interface LayerRun {
  /** The command: "pipeline" or "walk". */
  layer: string;
  /** Entries counted, the root included (-1 for `cli-count`: its own output says). */
  count: number;
  /** Directories opened (pipeline only; 0 for walk). */
  dirs: number;
  /** Wall time, ms. */
  wallMs: number;
  /** CPU time of the whole process (user + system), ms. */
  cpuMs: number;
  /** CPU time of the main thread (user + system), ms. */
  mainCpuMs: number;
  /** The queue's backend and worker threads. */
  backend: string;
  threads: number;
}

/** getrusage(2), for CPU time; opened on first use. */
let libc: Deno.DynamicLibrary<{ getrusage: { parameters: ["i32", "buffer"]; result: "i32" } }>;

/** User + system CPU time, ms, of the process (RUSAGE_SELF) or the calling thread (RUSAGE_THREAD). */
function cpuMs(who: "self" | "thread"): number {
  libc ??= Deno.dlopen("libc.so.6", {
    getrusage: { parameters: ["i32", "buffer"], result: "i32" },
  });
  // struct rusage starts with ru_utime and ru_stime, two struct timevals of two 64-bit fields
  const ru = new BigInt64Array(18);
  if (libc.symbols.getrusage(who === "self" ? 0 : 1, ru) !== 0) throw new Error("getrusage failed");
  return Number(ru[0] + ru[2]) * 1e3 + Number(ru[1] + ru[3]) / 1e3;
}

/** DT_DIR and DT_UNKNOWN, as `DirBatch.type()` returns them. */
const DT_DIR = 4;
const DT_UNKNOWN = 0;

/**
 * Opens and reads every directory under `root` through one `IoQueue`,
 * breadth first: each subdirectory is opened relative to its parent's `Dir`,
 * which is closed through the queue once it is read and every open relative
 * to it has completed.  Requests wait in a local FIFO while the queue is full.
 */
async function pipeline(root: string): Promise<{ count: number; dirs: number; q: IoQueue }> {
  const q = new IoQueue();
  const depth = q.depth;
  // By id (the tag of the opens relative to it); 0 is "no parent"
  const open: (Dir | undefined)[] = [undefined];
  const children: number[] = [0];
  const fifoAt: number[] = [];
  const fifoName: string[] = [];
  let head = 0;
  const closing: number[] = [];
  let inFlight = 0;
  let count = 1;
  let dirs = 0;
  const close = (id: number) => {
    if (inFlight < depth) {
      q.closedir(open[id]!, 0);
      inFlight++;
    } else closing.push(id);
  };
  q.opendir(root, 0);
  inFlight++;
  while (true) {
    while (closing.length && inFlight < depth) {
      q.closedir(open[closing.pop()!]!, 0);
      inFlight++;
    }
    while (head < fifoAt.length && inFlight < depth) {
      const at = fifoAt[head];
      q.opendir(fifoName[head], at, { at: open[at] });
      head++;
      inFlight++;
    }
    if (inFlight === 0) break;
    for (const c of await q.pop()) {
      inFlight--;
      if (c.op === "closedir") {
        if (c.error) throw c.error;
        continue;
      }
      if (c.op !== "opendir") throw new Error(`unexpected ${c.op} completion`);
      if (!c.dir) throw c.error;
      dirs++;
      const id = open.length;
      open.push(c.dir);
      children.push(0);
      for (let b = c.dir.readBatch(); b; b = b.last ? null : c.dir.readBatch()) {
        count += b.count;
        for (let i = 0; i < b.count; i++) {
          let type = b.type(i);
          if (type === DT_UNKNOWN) {
            type = Deno.lstatSync(`${c.dir.path}/${b.names[i]}`).isDirectory ? DT_DIR : -1;
          }
          if (type === DT_DIR) {
            fifoAt.push(id);
            fifoName.push(b.names[i]);
            children[id]++;
          }
        }
      }
      if (children[id] === 0) close(id);
      if (c.tag && --children[c.tag] === 0) close(c.tag);
    }
  }
  q.close();
  return { count, dirs, q };
}

/** Runs one `layers` command and measures it. */
async function layerRun(layer: string, root: string): Promise<LayerRun> {
  const self = cpuMs("self");
  const main = cpuMs("thread");
  const started = performance.now();
  let count = 0;
  let dirs = 0;
  let backend = "";
  let threads = 0;
  if (layer === "pipeline") {
    const r = await pipeline(root);
    ({ count, dirs } = r);
    backend = r.q.backend;
    threads = r.q.threads;
  } else if (layer === "walk" || layer === "cli-count") {
    if (layer === "walk") {
      for await (const _ of walk(root)) count++;
    } else {
      // Loaded on first use, so the other probes do not load the CLI
      const { main } = await import("../cli.ts");
      if (await main([root, "-count"]) !== 0) throw new Error("the CLI's main() failed");
      count = -1;
    }
    const q = new IoQueue({ depth: 1 });
    backend = q.backend;
    threads = q.threads;
    q.close();
  } else {
    throw new Error(`unknown layers command ${layer}`);
  }
  const wallMs = performance.now() - started;
  return {
    layer,
    count,
    dirs,
    wallMs,
    cpuMs: cpuMs("self") - self,
    mainCpuMs: cpuMs("thread") - main,
    backend,
    threads,
  };
}

/** Reads a field in KiB from /proc/self/status; null when Deno does not allow it. */
function procStatusKiB(field: string): number | null {
  let status: string;
  try {
    status = Deno.readTextFileSync("/proc/self/status");
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      return null;
    }
    throw error;
  }
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  if (!m) throw new Error(`no ${field} in /proc/self/status`);
  return Number(m[1]);
}

/** Counts the entries ioq walk() yields under `root`. */
async function walkCount(root: string, backend: "auto" | "io_uring" | "threads"): Promise<number> {
  let n = 0;
  for await (const _ of walk(root, { queue: { backend } })) n++;
  return n;
}

/** Measures timer delays while `work` runs. */
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
  const walkMs = performance.now() - started;
  // The delay of a tick that the work held up shows only once it runs
  await new Promise((resolve) => setTimeout(resolve, 0));
  clearInterval(timer);
  const sorted = [...delays].sort((a, b) => a - b);
  return {
    walker,
    backend: null,
    count,
    walkMs,
    ticks: delays.length,
    maxDelayMs: sorted.length ? sorted[sorted.length - 1] : walkMs,
    p99DelayMs: sorted.length ? sorted[Math.floor(0.99 * (sorted.length - 1))] : walkMs,
  };
}

const USAGE =
  `Usage: probe.ts lag ROOT [--walker ioq|sync|idle|load] [--backend auto|io_uring|threads]
       probe.ts rss ROOT [--backend auto|io_uring|threads] [--no-walk]
       probe.ts layers ROOT    (then one of pipeline, walk, per line on stdin)`;

if (import.meta.main) {
  const [mode, root, ...rest] = Deno.args;
  if ((mode !== "lag" && mode !== "rss" && mode !== "layers") || !root) {
    console.error(USAGE);
    Deno.exit(2);
  }
  if (mode === "layers") {
    const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
    let pending = "";
    for await (const chunk of lines) {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const command = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (command) console.log(`LAYER ${JSON.stringify(await layerRun(command, root))}`);
      }
    }
    Deno.exit(0);
  }
  const flags = parseFlags(
    rest,
    { walker: "string", backend: "string", "no-walk": "boolean" },
    USAGE,
  );
  const backend = (flags.backend ?? "auto") as "auto" | "io_uring" | "threads";
  if (mode === "lag") {
    const walker = (flags.walker ?? "ioq") as string;
    let result: LagResult;
    if (walker === "ioq") {
      ffi();
      result = { ...(await lag(walker, () => walkCount(root, backend))), backend };
    } else if (walker === "load") {
      result = await lag(walker, () => (ffi(), 0));
    } else if (walker === "sync") {
      result = await lag(walker, () => readDirSyncWalk(root).count);
    } else if (walker === "idle") {
      result = await lag(walker, () => new Promise((r) => setTimeout(() => r(0), 500)));
    } else {
      console.error(USAGE);
      Deno.exit(2);
    }
    console.log(JSON.stringify(result));
  } else {
    const started = performance.now();
    let count = 0;
    let used: string | null = null;
    if (flags["no-walk"]) {
      const q = new IoQueue({ backend });
      used = q.backend;
      q.close();
    } else {
      count = await walkCount(root, backend);
    }
    const result: RssResult = {
      backend: used ?? backend,
      count,
      walkMs: performance.now() - started,
      peakKiB: procStatusKiB("VmHWM"),
      endKiB: procStatusKiB("VmRSS"),
    };
    console.log(JSON.stringify(result));
  }
}
