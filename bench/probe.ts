/**
 * Single-measurement probes that bench/run.ts runs in fresh processes, each
 * printing one JSON object on stdout:
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-env bench/probe.ts lag ROOT --walker ioq --backend io_uring
 * deno run --allow-ffi --allow-read --allow-env bench/probe.ts lag ROOT --walker idle
 * deno run --allow-ffi --allow-read --allow-env bench/probe.ts rss ROOT [--backend auto] [--no-walk]
 * ```
 *
 * - `lag`: the delays of a 1 ms `setInterval` timer while walking ROOT with
 *   ioq `walk()` (`--walker ioq`), with recursive `Deno.readDirSync`
 *   (`--walker sync`, for contrast), or while idle for 500 ms (`--walker
 *   idle`, the timer's own noise floor).  A delay is how much later than
 *   1 ms after the previous tick a tick came.
 * - `rss`: walks ROOT with ioq `walk()` and reads the process's peak RSS
 *   (VmHWM in /proc/self/status) at the end; with `--no-walk`, only loads ioq
 *   and opens and closes a queue (the runtime's own footprint).  Deno lets
 *   only `--allow-all` read /proc/self/status; without it the fields are
 *   null, and bench/run.ts takes the peak from `/usr/bin/time -f %M`.
 *
 * @module
 */

import { IoQueue, walk } from "../mod.ts";
import { readDirSyncWalk } from "./std_walk.ts";
import { parseFlags } from "./util.ts";

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

const USAGE = `Usage: probe.ts lag ROOT [--walker ioq|sync|idle] [--backend auto|io_uring|threads]
       probe.ts rss ROOT [--backend auto|io_uring|threads] [--no-walk]`;

if (import.meta.main) {
  const [mode, root, ...rest] = Deno.args;
  if ((mode !== "lag" && mode !== "rss") || !root) {
    console.error(USAGE);
    Deno.exit(2);
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
      result = { ...(await lag(walker, () => walkCount(root, backend))), backend };
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
