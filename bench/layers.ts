/**
 * "Where the time goes": one walk of one tree measured layer by layer, from
 * the kernel's work alone to the CLI as a whole process.  Every layer must
 * count the tree's entries.
 *
 * 1. the kernel floor (bench/floor.c): openat / getdents64 / close, on 1
 *    thread and on 2;
 * 2. the engine in C alone (bench/engine.c, csrc/walk.h): batches taken and
 *    released by the main thread, output discarded; on each backend;
 * 3. the engine from JavaScript (lib/engine.ts): the same, through FFI,
 *    waiting for batches off the event loop, nothing per entry;
 * 4. `walk()` in process: a `WalkEntry` per entry;
 * 5. the CLI in process: cli.ts's `main([ROOT])`, its paths to /dev/null;
 * 6. the CLI as a whole process (through bench/rusage.c), and its start-up
 *    alone (the CLI on an empty directory).
 * And, for contrast, the walk ioq did before the engine: one directory at a
 * time through `IoQueue` from JavaScript.
 *
 * The layers alternate in the same rounds, after a warm-up round.  The C
 * programs are fresh processes that walk twice: the second walk is the
 * measurement (warm, as the JS layers, which run in one Deno process that
 * stays up), the first is shown as "1st walk, fresh process".  CPU: the C
 * programs' getrusage(RUSAGE_SELF); the JS layers' getrusage through FFI,
 * for the process and the main thread alone (RUSAGE_THREAD).
 *
 * Then two diagnostic runs of the CLI on the tree: one with `--cpu-prof`
 * (its main thread's samples), one under `bench/rusage.c -p 1000` (each
 * thread's CPU time and times scheduled in).
 *
 * @module
 */

import type { Probe } from "./inproc.ts";
import type { BenchPrograms } from "./native.ts";
import { cliCommand, runMeasured, type RusageReport } from "./whole.ts";
import { alternate, CACHE, DENO, progress } from "./util.ts";

/** One layer (a row of the table). */
export interface Layer {
  /** Row id: "1a", "2b", "C". */
  id: string;
  name: string;
  /** What it adds to the row it is compared with. */
  adds: string;
  /** The row it is compared with. */
  base?: string;
  kind: "c" | "js" | "process";
  /** A C program's command, a probe command, or a process's command. */
  command: string[];
  /** Whether its runs count the tree (not the start-up row). */
  counts: boolean;
  /** Per round, ms: wall, process CPU, main-thread CPU (JS layers). */
  wall: number[];
  cpu: number[];
  mainCpu: number[];
  /** C programs: the first walk of each process, ms. */
  fresh: number[];
  /** Directories opened, when the layer knows. */
  opens?: number;
  /** Why it did not run. */
  skipped?: string;
}

/** The layer table's measurements. */
export interface Layers {
  tree: string;
  entries: number;
  rounds: number;
  /** The default queue: backend and workers. */
  backend: string;
  workers: number;
  layers: Layer[];
}

/** Builds the layer list. */
function plan(root: string, programs: BenchPrograms, backend: string, workers: number): Layer[] {
  const layer = (
    l: Omit<Layer, "wall" | "cpu" | "mainCpu" | "fresh" | "counts"> & {
      counts?: boolean;
    },
  ): Layer => ({ counts: true, wall: [], cpu: [], mainCpu: [], fresh: [], ...l });
  const cli = cliCommand();
  return [
    layer({
      id: "1a",
      name: "kernel floor, 1 thread (bench/floor.c)",
      adds: "openat + getdents64 + close of every directory",
      kind: "c",
      command: [programs.floor, "-t", "1", "-r", "2", root],
    }),
    layer({
      id: "1b",
      name: "kernel floor, 2 threads",
      adds: "the same work split over 2 threads",
      base: "1a",
      kind: "c",
      command: [programs.floor, "-t", "2", "-r", "2", root],
    }),
    layer({
      id: "2a",
      name: `engine in C (bench/engine.c) [${backend}], ${workers} workers`,
      adds: "records, paths joined, batches; main thread takes and releases them",
      base: workers > 1 ? "1b" : "1a",
      kind: "c",
      command: [programs.engine, "-r", "2", root],
    }),
    layer({
      id: "2b",
      name: `engine in C [threads], ${workers} workers`,
      adds: "the same on the thread-pool backend",
      base: "2a",
      kind: "c",
      command: [programs.engine, "-b", "threads", "-r", "2", root],
    }),
    layer({
      id: "3",
      name: "engine from JavaScript (lib/engine.ts), batches only",
      adds: "FFI calls per batch, the off-thread wait, the event loop",
      base: "2a",
      kind: "js",
      command: ["engine", root],
    }),
    layer({
      id: "4",
      name: "`walk()` in process",
      adds: "a WalkEntry per entry, one UTF-8 decode per batch, the iterator",
      base: "3",
      kind: "js",
      command: ["walk", root, "auto"],
    }),
    layer({
      id: "5",
      name: "the CLI in process: `main([ROOT])`, paths to /dev/null",
      adds: "the CLI's own work and writing the paths",
      base: "3",
      kind: "js",
      command: ["cli", root],
    }),
    layer({
      id: "S",
      name: "start-up: the CLI on an empty directory, whole process",
      adds: "Deno's start-up, loading cli.ts and the library",
      kind: "process",
      command: [...cli, `${CACHE}/empty`],
      counts: false,
    }),
    layer({
      id: "6",
      name: "**the CLI, whole process** (`cli.ts ROOT` > /dev/null)",
      adds: "start-up, a fresh JIT and heap",
      base: "5",
      kind: "process",
      command: [...cli, root],
    }),
    layer({
      id: "Q",
      name: "contrast: ioq before the engine, `IoQueue` opendir + readBatch per directory from JS",
      adds: "one FFI round trip per directory",
      base: "3",
      kind: "js",
      command: ["queue", root],
    }),
  ];
}

/** Runs one layer once; records it unless it is the warm-up round (-1). */
async function runLayer(
  l: Layer,
  probe: Probe,
  programs: BenchPrograms,
  expected: number,
  round: number,
): Promise<void> {
  const check = (count: number) => {
    if (l.counts && count !== expected) {
      throw new Error(`layer ${l.id} (${l.name}) counted ${count} entries, not ${expected}`);
    }
  };
  let wall: number, cpu: number, main = NaN, fresh = NaN;
  if (l.kind === "c") {
    const run = await runMeasured(programs.rusage, l.command, { piped: true });
    if (run.status === 3) {
      l.skipped = `backend refused: ${run.stderr.trim()}`;
      return;
    }
    if (run.status !== 0) throw new Error(`${l.command.join(" ")}: ${run.stderr.trim()}`);
    const walks = new TextDecoder().decode(run.stdout).trim().split("\n").map((x) => JSON.parse(x));
    for (const w of walks) check(w.entries);
    const last = walks.at(-1);
    [wall, cpu, fresh] = [last.wallMs, last.userMs + last.sysMs, walks[0].wallMs];
    l.opens = last.opens ?? last.dirs;
    if (last.backend && !l.name.includes(`[${last.backend}]`)) {
      l.name += ` (ran on ${last.backend})`;
    }
  } else if (l.kind === "js") {
    const m = await probe.run(l.command);
    if (m.error) throw new Error(`layer ${l.id}: ${m.error}`);
    if (m.status !== undefined && m.status !== 0) {
      throw new Error(`layer ${l.id}: the CLI's main() returned ${m.status}: ${m.said ?? ""}`);
    }
    if (m.count >= 0) check(m.count);
    [wall, cpu, main] = [m.wallMs, m.cpuMs, m.mainCpuMs];
    if (m.opens !== undefined) l.opens = m.opens;
  } else {
    const run = await runMeasured(programs.rusage, l.command);
    if (run.status !== 0) throw new Error(`layer ${l.id}: status ${run.status}: ${run.stderr}`);
    [wall, cpu] = [run.wallMs, run.userMs + run.sysMs];
  }
  if (round < 0) return;
  l.wall[round] = wall;
  l.cpu[round] = cpu;
  l.mainCpu[round] = main;
  l.fresh[round] = fresh;
}

/** Measures every layer on a tree (see the module documentation). */
export async function measureLayers(
  probe: Probe,
  programs: BenchPrograms,
  tree: string,
  root: string,
  expected: number,
  rounds: number,
): Promise<Layers> {
  const info = await probe.run<{ backend: string; threads: number }>(["queue-info"]);
  const layers = plan(root, programs, info.backend, info.threads);
  Deno.mkdirSync(`${CACHE}/empty`, { recursive: true });
  await alternate(layers, rounds, async (l, round) => {
    if (l.skipped) return;
    const when = round < 0 ? "warm-up round" : `round ${round + 1} of ${rounds}`;
    progress(`bench: layers, ${when}: ${l.id}`, false);
    await runLayer(l, probe, programs, expected, round);
  }, true);
  return { tree, entries: expected, rounds, backend: info.backend, workers: info.threads, layers };
}

/** A summary of the CLI's main thread in a CPU profile. */
export interface CliProfile {
  /** Time the samples cover, ms. */
  totalMs: number;
  /** `(idle)`: the event loop asleep. */
  idleMs: number;
  gcMs: number;
  /** `(program)`: V8 and Deno native code. */
  programMs: number;
  /** The functions with the most self time, idle excluded. */
  top: { name: string; where: string; ms: number }[];
}

/** The CLI's diagnostic runs. */
export interface Diagnostics {
  profile?: CliProfile;
  threads?: RusageReport;
  errors: string[];
}

/** A V8 .cpuprofile, as far as it is read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Sums a profile's self time (ms) per function. */
function summarize(p: CpuProfile): CliProfile {
  const byNode = new Map<number, number>();
  let t = p.startTime;
  const stamps = p.timeDeltas.map((d) => (t += d));
  for (let i = 0; i < p.samples.length; i++) {
    const us = Math.max(0, (stamps[i + 1] ?? p.endTime) - stamps[i]);
    byNode.set(p.samples[i], (byNode.get(p.samples[i]) ?? 0) + us / 1000);
  }
  const sum: CliProfile = { totalMs: 0, idleMs: 0, gcMs: 0, programMs: 0, top: [] };
  const fns = new Map<string, { name: string; where: string; ms: number }>();
  for (const node of p.nodes) {
    const ms = byNode.get(node.id) ?? 0;
    const { functionName: name, url, lineNumber } = node.callFrame;
    sum.totalMs += ms;
    if (name === "(idle)") sum.idleMs += ms;
    else if (name === "(garbage collector)") sum.gcMs += ms;
    else if (name === "(program)") sum.programMs += ms;
    if (name === "(idle)" || ms === 0) continue;
    const where = url ? `${url.replace(/^.*\//, "")}:${lineNumber + 1}` : "";
    const f = fns.get(`${name}@${where}`) ?? { name: name || "(anonymous)", where, ms: 0 };
    f.ms += ms;
    fns.set(`${name}@${where}`, f);
  }
  sum.top = [...fns.values()].sort((a, b) => b.ms - a.ms).slice(0, 8);
  return sum;
}

/** Runs the CLI on `root` with `--cpu-prof`, then under `bench/rusage.c -p 1000`. */
export async function diagnose(root: string, programs: BenchPrograms): Promise<Diagnostics> {
  const cli = cliCommand();
  const errors: string[] = [];
  const result: Diagnostics = { errors };
  const dir = Deno.makeTempDirSync({ prefix: "ioq-cpuprof-" });
  try {
    const argv = [
      DENO,
      "run",
      "--cpu-prof",
      `--cpu-prof-dir=${dir}`,
      "--cpu-prof-interval=100",
      ...cli.slice(2),
      root,
    ];
    const run = await runMeasured(programs.rusage, argv);
    const file = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".cpuprofile"));
    if (run.status !== 0 || !file) {
      errors.push(
        `--cpu-prof run: status ${run.status}, ${file ? "" : "no profile, "}${run.stderr}`,
      );
    } else {
      result.profile = summarize(JSON.parse(Deno.readTextFileSync(`${dir}/${file.name}`)));
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  const run = await runMeasured(programs.rusage, [...cli, root], { wrapper: ["-p", "1000"] });
  if (run.status !== 0) errors.push(`polled run: status ${run.status}, ${run.stderr.trim()}`);
  else result.threads = run;
  return result;
}
