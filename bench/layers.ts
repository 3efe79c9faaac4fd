/**
 * "Where the time goes": the walk of the synthetic tree measured layer by
 * layer, from the kernel's work alone up to the CLI as a whole process, so
 * the report shows what each layer adds.
 *
 * ```sh
 * deno task bench:layers [--entries 200000] [--rounds 7]
 * ```
 *
 * Layers (each walks the whole tree breadth first and must count the tree's
 * entries):
 *
 * 1. kernel floor (bench/floor.c): openat(parent fd, name) / getdents64 /
 *    close on 1 thread, and split over 2 (and over the queue's default
 *    worker count, when that differs);
 * 2. the ioq queue in C (bench/pipe.c): the same walk through csrc/ioq.h,
 *    on both backends with 1 and 2 workers;
 * 3. the JS pipeline (bench/probe.ts `layers`, `pipeline`): the same walk
 *    through `IoQueue` from JavaScript, opendir + readBatch, default queue;
 * 4. `walk()` in process (probe `walk`): adds a `WalkEntry` per entry and
 *    the async iterator; 4b, the CLI's own code in process (probe
 *    `cli-count`: cli.ts's `main([ROOT, "-count"])`, path batches to a
 *    sink, no object per entry);
 * 5. the CLI as a whole process (bench/compare.ts's runs, through
 *    bench/rusage.c): with `-count` (5a) and printing (5b), each minus the
 *    start-up floor (the CLI on an empty directory); and, alternated with
 *    layers 1–4, the CLI `-count` as is (5c) and with its descriptor table
 *    grown before it starts (5d, `bench/rusage.c -g`).
 *
 * Layers 1–4, 5c and 5d run in the same rounds, alternating: one warm-up
 * round, then `--rounds` rounds, each running every variant once, each
 * round starting one variant later; medians.  The C programs are fresh
 * processes that walk twice, timing each walk themselves (CLOCK_MONOTONIC)
 * with its CPU (getrusage RUSAGE_SELF): the second walk is the measurement,
 * the first is reported as the fresh-process walk.  The JS layers run in
 * one Deno process that stays up between rounds (a warm JIT and descriptor
 * table, as Deno.bench measures) and reads its CPU with getrusage through
 * FFI, the main thread's alone too.
 *
 * Then two diagnostic runs of the CLI on the tree: one with `--cpu-prof`
 * (the main thread's samples: idle, the synchronous wait in `pop()`, the
 * garbage collector, the rest; the functions with the most self time), and
 * one under `bench/rusage.c -p 1000` (each thread's CPU time and how often
 * it was scheduled in, read from /proc/PID/task/TID/schedstat every 1 ms).
 *
 * @module
 */

import {
  compareOnTree,
  type RusageReport,
  splitRusage,
  type ToolResult,
  tools,
  type TreeComparison,
} from "./compare.ts";
import { type BenchPrograms, benchPrograms } from "./native.ts";
import type { LayerRun } from "./probe.ts";
import { ensureTree } from "./tree.ts";
import { int, median, parseFlags, progress, ratio, table } from "./util.ts";

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const DENO = Deno.execPath();
const CLI_ARGS = ["run", "--allow-ffi", "--allow-read", "--allow-env", `${REPO}/cli.ts`];

/** One measured run of a variant. */
export interface LayerSample {
  wallMs: number;
  /** CPU time of the process (user + system), ms. */
  cpuMs: number;
  /** System CPU time, ms (C programs only). */
  sysMs?: number;
  /** CPU time of the main thread, ms (JS layers only). */
  mainCpuMs?: number;
}

/** One variant of a layer: a program and its settings. */
export interface Variant {
  /** Row id in the report ("1a"). */
  id: string;
  /** Layer number, 1 to 5. */
  layer: number;
  /** What it is ("kernel floor, 1 thread"). */
  name: string;
  /** Threads doing syscalls (floor threads, ioq workers). */
  threads: number;
  /** The ioq backend, if any. */
  backend?: string;
  /** The command line (C programs, CLI) or the probe command (JS layers). */
  command: string[];
  /** A C program (walks twice per process), the JS probe, or the CLI through bench/rusage.c. */
  kind: "c" | "js" | "cli";
  /** Measured runs: for C programs the second walk of the process (warm, like the JS layers). */
  samples: LayerSample[];
  /** C programs: the first walk of each process (fresh, like the CLI's). */
  cold: LayerSample[];
  /** Why it did not run, if it did not. */
  skipped?: string;
  /** The program's last JSON report (counts of syscalls, requests, pops...). */
  last?: Record<string, number | string>;
}

/** Layers 1–4, measured. */
export interface LayersResult {
  root: string;
  expected: number;
  rounds: number;
  variants: Variant[];
  /** The backend and worker count of the JS layers (the queue's defaults). */
  jsBackend: string;
  jsThreads: number;
}

/** Options for `measureLayers`. */
export interface LayersOptions {
  /** Timed rounds after the warm-up round. */
  rounds: number;
  /** Called with a progress message. */
  onProgress?: (message: string) => void;
}

/** The JS probe process, answering one command per line. */
class Probe {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  /** Starts `bench/probe.ts layers ROOT`. */
  constructor(root: string) {
    this.#child = new Deno.Command(DENO, {
      args: [
        "run",
        "--allow-ffi",
        "--allow-read",
        "--allow-env",
        `${REPO}/bench/probe.ts`,
        "layers",
        root,
      ],
      cwd: REPO,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#reader = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /**
   * Runs one command ("pipeline", "walk", "cli-count"); returns its report
   * and the lines the command itself printed before it.
   */
  async run(command: string): Promise<{ run: LayerRun; output: string[] }> {
    await this.#writer.write(new TextEncoder().encode(`${command}\n`));
    const output: string[] = [];
    while (true) {
      let nl: number;
      while ((nl = this.#buffer.indexOf("\n")) < 0) {
        const { value, done } = await this.#reader.read();
        if (done) throw new Error(`the layers probe exited during \`${command}\``);
        this.#buffer += value;
      }
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line.startsWith("LAYER ")) return { run: JSON.parse(line.slice(6)), output };
      output.push(line);
    }
  }

  /** Ends the probe (closing its stdin) and waits for it. */
  async close(): Promise<void> {
    await this.#writer.close();
    await this.#reader.cancel();
    await this.#child.status;
  }
}

/** A C program's report of one walk, as a sample. */
function programSample(report: Record<string, number | string>): LayerSample {
  const user = report.userMs as number;
  const sys = report.sysMs as number;
  return { wallMs: report.wallMs as number, cpuMs: user + sys, sysMs: sys };
}

/**
 * Runs one of the C programs once (two walks: `-r 2`); records both, and
 * marks the variant skipped when it refused its backend.
 */
async function runProgram(v: Variant, expected: number, record: boolean): Promise<void> {
  const out = await new Deno.Command(v.command[0], {
    args: v.command.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (out.code === 3 && v.backend === "io_uring") {
    v.skipped = `io_uring refused: ${stderr.split("\n")[0]}`;
    return;
  }
  if (!out.success) {
    throw new Error(`${v.command.join(" ")} exited with status ${out.code}: ${stderr}`);
  }
  const reports = new TextDecoder().decode(out.stdout).trim().split("\n")
    .map((line) => JSON.parse(line) as Record<string, number | string>);
  for (const report of reports) {
    if (report.entries !== expected) {
      throw new Error(`${v.name} counted ${report.entries} entries, but the tree has ${expected}`);
    }
  }
  v.last = reports[reports.length - 1];
  if (!record) return;
  v.cold.push(programSample(reports[0]));
  v.samples.push(programSample(reports[reports.length - 1]));
}

/** Runs the CLI once through bench/rusage.c; records its wall and CPU time. */
async function runCli(v: Variant, expected: number, record: boolean): Promise<void> {
  const out = await new Deno.Command(v.command[0], {
    args: v.command.slice(1),
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const { report, text } = splitRusage(new TextDecoder().decode(out.stderr));
  if (!out.success || !report) {
    throw new Error(`${v.name} exited with status ${out.code}: ${text.trim()}`);
  }
  const count = Number(new TextDecoder().decode(out.stdout).trim());
  if (count !== expected) {
    throw new Error(`${v.name} counted ${count} entries, but the tree has ${expected}`);
  }
  if (record) {
    v.samples.push({
      wallMs: report.wallMs,
      cpuMs: report.userMs + report.sysMs,
      sysMs: report.sysMs,
    });
  }
}

/** Runs one variant once, in its process or the probe. */
async function runVariant(
  v: Variant,
  probe: Probe,
  expected: number,
  record: boolean,
): Promise<void> {
  if (v.kind === "c") return await runProgram(v, expected, record);
  if (v.kind === "cli") return await runCli(v, expected, record);
  const { run: r, output } = await probe.run(v.command[0]);
  const count = r.count < 0 ? Number(output.at(-1)) : r.count;
  if (count !== expected) {
    throw new Error(`${v.name} counted ${count} entries, but the tree has ${expected}`);
  }
  v.last = { dirs: r.dirs };
  if (record) v.samples.push({ wallMs: r.wallMs, cpuMs: r.cpuMs, mainCpuMs: r.mainCpuMs });
}

/**
 * Measures layers 1–4 on a tree (see the module documentation).
 *
 * @param root The tree's root.
 * @param expected Its entry count (the root included): every variant must count it.
 * @param programs The built C programs.
 * @param options Rounds and progress.
 * @returns Every variant's samples.
 * @throws {Error} When a program fails or counts another number of entries.
 */
export async function measureLayers(
  root: string,
  expected: number,
  programs: BenchPrograms,
  options: LayersOptions,
): Promise<LayersResult> {
  const say = options.onProgress ?? (() => {});
  const probe = new Probe(root);
  try {
    say("layers: warm-up round");
    // The JS layers first: they say which backend and worker count the queue defaults to
    const { run: first } = await probe.run("pipeline");
    const jsBackend = first.backend;
    const jsThreads = first.threads;
    const counts = [...new Set([1, 2, jsThreads])].sort((a, b) => a - b);
    const variants: Variant[] = [];
    const letters = "abcdefghijklmnopqrstuvwxyz";
    counts.forEach((t, i) =>
      variants.push({
        id: `1${letters[i]}`,
        layer: 1,
        name: `kernel floor, ${t} thread${t > 1 ? "s" : ""}`,
        threads: t,
        command: [programs.floor, "-t", String(t), "-r", "2", root],
        kind: "c",
        samples: [],
        cold: [],
      })
    );
    let i = 0;
    for (const backend of ["threads", "io_uring"]) {
      for (const t of counts) {
        variants.push({
          id: `2${letters[i++]}`,
          layer: 2,
          name: `ioq queue in C [${backend}], ${t} worker${t > 1 ? "s" : ""}`,
          threads: t,
          backend,
          command: [programs.pipe, "-b", backend, "-t", String(t), "-r", "2", root],
          kind: "c",
          samples: [],
          cold: [],
        });
      }
    }
    variants.push({
      id: "3",
      layer: 3,
      name: `JS pipeline: IoQueue opendir + readBatch [${jsBackend}], ${jsThreads} workers`,
      threads: jsThreads,
      backend: jsBackend,
      command: ["pipeline"],
      kind: "js",
      samples: [],
      cold: [],
    }, {
      id: "4",
      layer: 4,
      name: `walk() in process [${jsBackend}], ${jsThreads} workers`,
      threads: jsThreads,
      backend: jsBackend,
      command: ["walk"],
      kind: "js",
      samples: [],
      cold: [],
    }, {
      id: "4b",
      layer: 4,
      name:
        `the CLI's code in process: \`main([ROOT, "-count"])\` [${jsBackend}], ${jsThreads} workers`,
      threads: jsThreads,
      backend: jsBackend,
      command: ["cli-count"],
      kind: "js",
      samples: [],
      cold: [],
    });
    const cli = [...CLI_ARGS, root, "-count"];
    variants.push({
      id: "5c",
      layer: 5,
      name: "CLI `-count`, whole process, alternated here",
      threads: jsThreads,
      backend: jsBackend,
      command: [programs.rusage, "--", DENO, ...cli],
      kind: "cli",
      samples: [],
      cold: [],
    }, {
      id: "5d",
      layer: 5,
      name: "CLI `-count`, descriptor table grown before start",
      threads: jsThreads,
      backend: jsBackend,
      command: [programs.rusage, "-g", "--", DENO, ...cli],
      kind: "cli",
      samples: [],
      cold: [],
    });
    for (const v of variants) {
      if (v.command[0] !== "pipeline") await runVariant(v, probe, expected, false);
    }
    const live = variants.filter((v) => !v.skipped);
    for (let round = 0; round < options.rounds; round++) {
      say(`layers: round ${round + 1} of ${options.rounds}`);
      for (let j = 0; j < live.length; j++) {
        await runVariant(live[(round + j) % live.length], probe, expected, true);
      }
    }
    return { root, expected, rounds: options.rounds, variants, jsBackend, jsThreads };
  } finally {
    await probe.close();
  }
}

/** One function's self time in a CPU profile. */
export interface ProfileFunction {
  name: string;
  /** "file.ts:line", or "" for V8's own nodes. */
  where: string;
  ms: number;
}

/** The CLI runs of `profileCli`. */
export interface CliProfile {
  /** The command, for the report. */
  command: string;
  /** The --cpu-prof run. */
  prof?: {
    wallMs: number;
    cpuMs: number;
    intervalUs: number;
    /** Time the samples cover, ms. */
    totalMs: number;
    idleMs: number;
    /** Self time of `pop` in lib/queue.ts. */
    popMs: number;
    /** Whether a `pop` frame of lib/queue.ts was found at all. */
    popFound: boolean;
    gcMs: number;
    programMs: number;
    /** The functions with the most self time, idle excluded. */
    top: ProfileFunction[];
  };
  /** The polled run: bench/rusage.c -p. */
  threads?: RusageReport;
  /** Why a run failed. */
  errors: string[];
}

/** The --cpu-prof sampling interval, µs. */
const PROF_INTERVAL_US = 100;

/** A V8 .cpuprofile, as far as it is read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Sums a profile's self time per function. */
function selfTimes(p: CpuProfile): { total: number; byNode: Map<number, number> } {
  const byNode = new Map<number, number>();
  let t = p.startTime;
  const stamps = p.timeDeltas.map((d) => (t += d));
  for (let i = 0; i < p.samples.length; i++) {
    const next = i + 1 < stamps.length ? stamps[i + 1] : p.endTime;
    const us = Math.max(0, next - stamps[i]);
    byNode.set(p.samples[i], (byNode.get(p.samples[i]) ?? 0) + us);
  }
  let total = 0;
  for (const us of byNode.values()) total += us;
  return { total, byNode };
}

/**
 * Runs the CLI on `root` twice: with `--cpu-prof`, and under the rusage
 * wrapper polling its threads every millisecond.
 */
export async function profileCli(root: string, programs: BenchPrograms): Promise<CliProfile> {
  const errors: string[] = [];
  const result: CliProfile = {
    command: `deno ${CLI_ARGS.slice(0, -1).join(" ")} cli.ts ROOT`,
    errors,
  };

  // 1. --cpu-prof
  const dir = Deno.makeTempDirSync({ prefix: "ioq-cpuprof-" });
  try {
    const out = await new Deno.Command(programs.rusage, {
      args: [
        "--",
        DENO,
        "run",
        "--cpu-prof",
        `--cpu-prof-dir=${dir}`,
        `--cpu-prof-interval=${PROF_INTERVAL_US}`,
        ...CLI_ARGS.slice(1),
        root,
      ],
      cwd: REPO,
      stdout: "null",
      stderr: "piped",
    }).output();
    const { report, text } = splitRusage(new TextDecoder().decode(out.stderr));
    const file = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".cpuprofile"));
    if (!out.success || !report || !file) {
      errors.push(
        `--cpu-prof run: status ${out.code}, ${file ? "" : "no .cpuprofile, "}${text.trim()}`,
      );
    } else {
      const p = JSON.parse(Deno.readTextFileSync(`${dir}/${file.name}`)) as CpuProfile;
      const { total, byNode } = selfTimes(p);
      const fns = new Map<string, ProfileFunction>();
      let idle = 0, pop = 0, gc = 0, program = 0, popFound = false;
      for (const node of p.nodes) {
        const us = byNode.get(node.id) ?? 0;
        const { functionName, url, lineNumber } = node.callFrame;
        const isPop = functionName === "pop" && url.endsWith("/lib/queue.ts");
        popFound ||= isPop;
        if (functionName === "(idle)") idle += us;
        else if (functionName === "(garbage collector)") gc += us;
        else if (functionName === "(program)") program += us;
        else if (isPop) pop += us;
        if (functionName === "(idle)" || us === 0) continue;
        const file = url.replace(/^.*\//, "");
        const where = file ? `${file}:${lineNumber + 1}` : "";
        const key = `${functionName}@${where}`;
        const f = fns.get(key) ?? { name: functionName || "(anonymous)", where, ms: 0 };
        f.ms += us / 1000;
        fns.set(key, f);
      }
      result.prof = {
        wallMs: report.wallMs,
        cpuMs: report.userMs + report.sysMs,
        intervalUs: PROF_INTERVAL_US,
        totalMs: total / 1000,
        idleMs: idle / 1000,
        popMs: pop / 1000,
        popFound,
        gcMs: gc / 1000,
        programMs: program / 1000,
        top: [...fns.values()].sort((a, b) => b.ms - a.ms).slice(0, 8),
      };
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }

  // 2. Threads, polled
  const out = await new Deno.Command(programs.rusage, {
    args: ["-p", "1000", "--", DENO, ...CLI_ARGS, root],
    cwd: REPO,
    stdout: "null",
    stderr: "piped",
  }).output();
  const { report, text } = splitRusage(new TextDecoder().decode(out.stderr));
  if (!out.success || !report) errors.push(`polled run: status ${out.code}, ${text.trim()}`);
  else result.threads = report;
  return result;
}

// ---------------------------------------------------------------------------
// Report

/** Milliseconds, rounded for a table ("153", "4.2"). */
function msText(n: number): string {
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** A signed difference in ms ("+12.3", "−4.0"). */
function signed(n: number): string {
  return `${n < 0 ? "−" : "+"}${msText(Math.abs(n))}`;
}

/** A share in percent. */
function pct(part: number, whole: number): string {
  return `${(100 * part / whole).toFixed(0)}%`;
}

/**
 * Median wall, min, max, CPU, sys and main-thread CPU of a variant, and the
 * median wall of its first walks in a fresh process (C programs).
 */
function stats(v: Variant) {
  const s = v.samples;
  const wall = s.map((x) => x.wallMs);
  const main = s.flatMap((x) => x.mainCpuMs === undefined ? [] : [x.mainCpuMs]);
  const sys = s.flatMap((x) => x.sysMs === undefined ? [] : [x.sysMs]);
  return {
    wall: median(wall),
    min: Math.min(...wall),
    max: Math.max(...wall),
    cpu: median(s.map((x) => x.cpuMs)),
    sys: sys.length ? median(sys) : undefined,
    main: main.length ? median(main) : undefined,
    cold: v.cold.length ? median(v.cold.map((x) => x.wallMs)) : undefined,
    coldCpu: v.cold.length ? median(v.cold.map((x) => x.cpuMs)) : undefined,
  };
}

/** A whole-process tool's result by key. */
function toolResult(c: TreeComparison | undefined, key: string): ToolResult | undefined {
  return c?.results.find((r) => r.tool.key === key);
}

/** A thread of a polled run. */
type PolledThread = RusageReport["threads"][number];

/** Groups a polled run's threads for the report. */
function threadGroups(r: RusageReport) {
  const groups: { label: string; test: (t: PolledThread) => boolean }[] = [
    { label: "main thread (JavaScript, FFI calls)", test: (t) => t.tid === r.pid },
    { label: "ioq workers", test: (t) => t.comm.startsWith("ioq-") },
    { label: "io_uring's kernel workers (iou-wrk)", test: (t) => t.comm.startsWith("iou-") },
    { label: "V8 helper threads (GC, compiler)", test: (t) => t.comm.startsWith("V8 ") },
    { label: "other threads (tokio, ...)", test: () => true },
  ];
  const rows = groups.map((g) => ({
    label: g.label,
    n: 0,
    cpuMs: 0,
    slices: 0,
    names: new Set<string>(),
  }));
  for (const t of r.threads) {
    const row = rows[groups.findIndex((g) => g.test(t))];
    row.n++;
    row.cpuMs += t.cpuMs;
    row.slices += t.slices;
    row.names.add(t.comm);
  }
  return rows.filter((row) => row.n > 0);
}

/**
 * The report's "Where the time goes" section.
 *
 * @param layers Layers 1–4.
 * @param profile The CLI's diagnostic runs.
 * @param empty The whole-process comparison on an empty directory (start-up).
 * @param tree The whole-process comparison on the same tree.
 * @returns Markdown lines.
 */
export function layersSection(
  layers: LayersResult,
  profile: CliProfile | undefined,
  empty: TreeComparison | undefined,
  tree: TreeComparison | undefined,
): string[] {
  const lines: string[] = [];
  const byId = new Map(layers.variants.map((v) => [v.id, v]));
  const live = layers.variants.filter((v) => !v.skipped && v.samples.length);
  const floorOf = (t: number) => live.find((v) => v.layer === 1 && v.threads === t);
  const pipeOf = (backend: string, t: number) =>
    live.find((v) => v.layer === 2 && v.backend === backend && v.threads === t);
  const js3 = byId.get("3")!;
  const js4 = byId.get("4")!;
  const pipeJs = pipeOf(layers.jsBackend, layers.jsThreads) ??
    live.filter((v) => v.layer === 2).at(-1);
  const dirs = Number(js3.last?.dirs ?? 0);

  type Row = {
    id: string;
    name: string;
    adds: string;
    wall: number | undefined;
    range?: string;
    cpu: number | undefined;
    sys?: number;
    main?: number;
    cold?: number;
    base?: { id: string; wall: number | undefined; cpu: number | undefined };
  };
  const rows: Row[] = [];
  const base = (v: Variant | undefined) =>
    v ? { id: v.id, wall: stats(v).wall, cpu: stats(v).cpu } : undefined;
  const rowOf = (v: Variant, adds: string, b: Row["base"]): Row => {
    const s = stats(v);
    return {
      id: v.id,
      name: v.name,
      adds,
      wall: s.wall,
      range: `${msText(s.min)}–${msText(s.max)}`,
      cpu: s.cpu,
      sys: s.sys,
      main: s.main,
      cold: s.cold,
      base: b,
    };
  };
  for (const v of layers.variants.filter((v) => v.layer <= 4)) {
    if (v.skipped || !v.samples.length) {
      rows.push({
        id: v.id,
        name: v.name,
        adds: `skipped: ${v.skipped ?? "no samples"}`,
        wall: undefined,
        cpu: undefined,
      });
      continue;
    }
    let adds = "";
    let b: Row["base"];
    const l = v.last ?? {};
    if (v.layer === 1) {
      adds = `${int(Number(l.opens))} openat + ${int(Number(l.getdents))} getdents64 + ` +
        `${int(Number(l.closes))} close${v.threads > 1 ? `, over ${v.threads} threads` : ""}`;
      b = v.threads > 1 ? base(floorOf(1)) : undefined;
    } else if (v.layer === 2) {
      adds = `the queue: ${int(Number(l.requests))} requests, ${int(Number(l.pops))} pops ` +
        `(+${int(Number(l.emptyPops))} empty), ${int(Number(l.reads))} dir reads`;
      b = base(floorOf(v.threads));
    } else if (v.layer === 3) {
      adds = "FFI calls, completion objects, names decoded";
      b = base(pipeJs);
    } else if (v.id === "4") {
      adds = "a WalkEntry per entry, the async iterator";
      b = base(js3);
    } else {
      adds = "walkLikeFind: path batches (readPaths) to a sink, no object per entry";
      b = base(js3);
    }
    rows.push(rowOf(v, adds, b));
  }

  // Layer 5, from the whole-process comparison
  const start = toolResult(empty, "ioq");
  const count = toolResult(tree, "ioq-count");
  const print = toolResult(tree, "ioq");
  const minus = (a: number | null | undefined, b: number | null | undefined) =>
    a == null || b == null ? undefined : a - b;
  const js4b = byId.get("4b")!;
  const s4 = js4b.samples.length ? stats(js4b) : undefined;
  const row5a: Row | undefined = count && start
    ? {
      id: "5a",
      name: "CLI `-count`, whole process − start-up",
      adds: "a fresh process: cold JIT, first allocations, the descriptor table growing",
      wall: count.median - start.median,
      cpu: minus(count.cpuMedian, start.cpuMedian),
      base: { id: "4b", wall: s4?.wall, cpu: s4?.cpu },
    }
    : undefined;
  const row5b: Row | undefined = print && start
    ? {
      id: "5b",
      name: "CLI printing every path, whole process − start-up",
      adds: `writing ${int(print.count)} paths to /dev/null (same walk, path batches)`,
      wall: print.median - start.median,
      cpu: minus(print.cpuMedian, start.cpuMedian),
      base: row5a ? { id: "5a", wall: row5a.wall, cpu: row5a.cpu } : undefined,
    }
    : undefined;
  if (row5a) rows.push(row5a);
  if (row5b) rows.push(row5b);
  const v5c = live.find((v) => v.id === "5c");
  const v5d = live.find((v) => v.id === "5d");
  if (v5c) rows.push(rowOf(v5c, "start-up included; for the row below", undefined));
  if (v5c && v5d) {
    rows.push(rowOf(v5d, "bench/rusage.c -g: the table never grows during the walk", base(v5c)));
  }
  if (start) {
    rows.push({
      id: "S",
      name: "start-up floor: the CLI on an empty directory",
      adds: "deno start-up, module loading, library load",
      wall: start.median,
      range: `${msText(start.min)}–${msText(start.max)}`,
      cpu: start.cpuMedian ?? undefined,
      sys: start.sysMedian ?? undefined,
    });
  }
  if (print) {
    rows.push({
      id: "CLI",
      name: "**CLI whole process** (= S + 5b)",
      adds: "",
      wall: print.median,
      range: `${msText(print.min)}–${msText(print.max)}`,
      cpu: print.cpuMedian ?? undefined,
      sys: print.sysMedian ?? undefined,
    });
  }

  const cell = (n: number | undefined) => n === undefined ? "—" : msText(n);
  const delta = (n: number | undefined, b: number | undefined, id: string) =>
    n === undefined || b === undefined ? "—" : `${signed(n - b)} vs ${id}`;
  lines.push(
    `Method: one tree, ${int(layers.expected)} entries in ${int(dirs)} directories; every ` +
      `layer walks all of it breadth first and must count all ${int(layers.expected)} entries. ` +
      `Layers 1–4 alternate in the same run: one warm-up round, then ${layers.rounds} rounds ` +
      `running each variant once (each round starting one later); medians. C programs ` +
      `(bench/floor.c, bench/pipe.c, built by \`zig build bench-walk\`, ReleaseFast) walk twice ` +
      `per process and time each walk with CLOCK_MONOTONIC (pipe.c from ioq_create() to ` +
      `ioq_destroy()), CPU from getrusage(RUSAGE_SELF); the second walk is the measurement, ` +
      `as the JS layers run in one Deno process that stays up between rounds (warm JIT; ` +
      `bench/probe.ts \`layers\`), and the first walk, in a fresh process like the CLI's, is ` +
      `the last column. JS CPU comes from getrusage through FFI: RUSAGE_SELF for the process, ` +
      `RUSAGE_THREAD for the main thread. 5c and 5d alternate with layers 1–4, through ` +
      `bench/rusage.c (5d with the descriptor table grown before the CLI starts). 5a, 5b, S and the ` +
      `anchors come from the whole-process comparison (${
        tree?.rounds ?? "?"
      } rounds alternating with find, fd and bfs), CPU from wait4()'s rusage through ` +
      `bench/rusage.c (user+sys of every thread, to the microsecond). Δ = this row − the ` +
      `row named; CPU = user+sys; "main" = the main thread's CPU.`,
    "",
    table(
      [
        "#",
        "layer",
        "adds",
        "wall ms",
        "min–max",
        "Δ wall ms",
        "CPU ms",
        "Δ CPU ms",
        "of which sys",
        "main ms",
        "1st walk, fresh process",
      ],
      rows.map((r) => [
        r.id,
        r.name,
        r.adds,
        cell(r.wall),
        r.range ?? "—",
        r.base ? delta(r.wall, r.base.wall, r.base.id) : "—",
        cell(r.cpu),
        r.base ? delta(r.cpu, r.base.cpu, r.base.id) : "—",
        r.sys === undefined ? "—" : cell(r.sys),
        cell(r.main),
        cell(r.cold),
      ]),
    ),
  );

  // Anchors
  const anchors = (tree?.results ?? []).filter((r) => !r.tool.ioq);
  if (anchors.length && print) {
    lines.push(
      "",
      "Anchors on the same tree (the whole-process comparison's runs):",
      "",
      table(
        ["tool", "wall ms", "CPU ms (user+sys)", "of which sys", "wall ÷ ioq cli", "CPU ÷ ioq cli"],
        [print, ...anchors].map((r) => [
          r.tool.ioq ? `**${r.tool.label}**` : r.tool.label,
          msText(r.median),
          r.cpuMedian === null ? "—" : msText(r.cpuMedian),
          r.sysMedian === null ? "—" : msText(r.sysMedian),
          ratio(r.median / print.median),
          r.cpuMedian === null || print.cpuMedian === null
            ? "—"
            : ratio(r.cpuMedian / print.cpuMedian),
        ]),
      ),
    );
  }

  // The CLI's main thread and threads
  const prof = profile?.prof;
  if (prof) {
    const busy = prof.totalMs - prof.idleMs - prof.popMs;
    const other = busy - prof.gcMs - prof.programMs;
    lines.push(
      "",
      `Main thread of one CLI run (\`deno run --cpu-prof --cpu-prof-interval=${prof.intervalUs}\`, ` +
        `the same command; this run: ${msText(prof.wallMs)} ms wall, ${
          msText(prof.cpuMs)
        } ms CPU; samples of the main thread summed by node):`,
      "",
      table(["main thread", "ms", "share"], [
        ["busy: JavaScript and the FFI calls it makes", msText(other), pct(other, prof.totalMs)],
        ["busy: (garbage collector)", msText(prof.gcMs), pct(prof.gcMs, prof.totalMs)],
        [
          "busy: (program), V8 and Deno native code",
          msText(prof.programMs),
          pct(prof.programMs, prof.totalMs),
        ],
        [
          `waiting: \`pop()\` in lib/queue.ts, its synchronous wait${
            prof.popFound ? "" : " (no such frame in this profile)"
          }`,
          msText(prof.popMs),
          pct(prof.popMs, prof.totalMs),
        ],
        [
          "waiting: (idle), the event loop asleep on ioq_wait",
          msText(prof.idleMs),
          pct(prof.idleMs, prof.totalMs),
        ],
        ["**busy / waiting**", `${msText(busy)} / ${msText(prof.totalMs - busy)}`, "100%"],
      ]),
      "",
      "Most self time on the main thread (idle excluded): " +
        prof.top.map((f) => `${f.name}${f.where ? ` (${f.where})` : ""} ${msText(f.ms)} ms`)
          .join(", ") +
        ".",
    );
  }
  const thr = profile?.threads;
  if (thr) {
    const groups = threadGroups(thr);
    const seen = groups.reduce((a, g) => a + g.cpuMs, 0);
    const total = thr.userMs + thr.sysMs;
    lines.push(
      "",
      `Threads of one more CLI run (the same command under \`bench/rusage.c -p 1000\`: each ` +
        `thread's /proc/PID/task/TID/schedstat read every 1 ms, the last read before it ` +
        `ended; this run: ${msText(thr.wallMs)} ms wall). "Scheduled in" counts the times a ` +
        `thread got a CPU: each wake-up, and each preemption.`,
      "",
      table(["threads", "n", "CPU ms", "scheduled in", "names"], [
        ...groups.map((g) => [
          g.label,
          String(g.n),
          msText(g.cpuMs),
          int(g.slices),
          [...g.names].join(", "),
        ]),
        [
          "not seen by the poller (whole process − threads above)",
          "—",
          msText(total - seen),
          "—",
          "",
        ],
        ["**whole process** (wait4 rusage)", String(thr.threads.length), msText(total), "—", ""],
      ]),
    );
  }
  for (const e of profile?.errors ?? []) lines.push("", `**Diagnostic run failed**: ${e}`);

  // Interpretation, from the numbers above
  const f1 = floorOf(1);
  const fN = floorOf(layers.jsThreads);
  const say: string[] = [];
  if (f1) {
    const s = stats(f1);
    const l = f1.last ?? {};
    say.push(
      `The kernel work alone (${int(Number(l.opens))} openat, ${
        int(Number(l.getdents))
      } getdents64, ${int(Number(l.closes))} close) takes ${msText(s.wall)} ms on one thread ` +
        `(${msText(s.cpu)} ms CPU, ${s.sys === undefined ? "?" : pct(s.sys, s.cpu)} of it in ` +
        `the kernel)` +
        (fN && fN !== f1
          ? ` and ${msText(stats(fN).wall)} ms split over ${fN.threads} threads (${
            msText(stats(fN).cpu)
          } ms CPU; ${
            msText(stats(fN).cold ?? NaN)
          } ms for the first walk of a fresh process, against ${
            msText(s.cold ?? NaN)
          } ms on one thread).`
          : "."),
    );
  }
  if (pipeJs && fN) {
    const p = stats(pipeJs);
    const f = stats(floorOf(pipeJs.threads) ?? fN);
    say.push(
      `ioq's queue in C, in the configuration the JS layers use (${pipeJs.backend}, ${pipeJs.threads} ` +
        `workers), takes ${msText(p.wall)} ms (${signed(p.wall - f.wall)} ms vs the floor on as ` +
        `many threads) and ${msText(p.cpu)} ms CPU (${signed(p.cpu - f.cpu)} ms, ${
          dirs ? ((p.cpu - f.cpu) * 1000 / dirs).toFixed(1) : "?"
        } µs per directory of hand-offs and wake-ups).`,
    );
  }
  if (js3.samples.length && js4.samples.length && pipeJs) {
    const p = stats(pipeJs), a = stats(js3), w = stats(js4);
    const c = js4b.samples.length ? stats(js4b) : undefined;
    say.push(
      `From JavaScript, opening and reading every directory adds ${signed(a.wall - p.wall)} ms ` +
        `of wall and ${signed(a.cpu - p.cpu)} ms of CPU (FFI calls, completion objects); ` +
        `walk() adds ${signed(w.wall - a.wall)} ms more (${
          ((w.wall - a.wall) * 1e6 / layers.expected).toFixed(0)
        } ns per entry for WalkEntry objects and the iterator), with its main thread busy ` +
        `${msText(w.main ?? 0)} of its ${msText(w.wall)} ms` +
        (c
          ? `, while the CLI's own code, in process, adds ${signed(c.wall - a.wall)} ms to the ` +
            `pipeline (main thread busy ${msText(c.main ?? 0)} of ${msText(c.wall)} ms).`
          : "."),
    );
  }
  if (row5a && row5b && start && print && s4) {
    const best = anchors.length
      ? anchors.reduce((a, b) => a.median <= b.median ? a : b)
      : undefined;
    const grow = v5c && v5d ? stats(v5c).wall - stats(v5d).wall : undefined;
    let text = `As a fresh process, the CLI adds ${msText(start.median)} ms of start-up, ` +
      `${signed(row5a.wall! - s4.wall)} ms of cold-process work (5a − 4b${
        grow === undefined ? "" : `; ${msText(grow)} ms of it growing the descriptor table, 5c − 5d`
      }) and ${signed(row5b.wall! - row5a.wall!)} ms of output, for ${
        msText(print.median)
      } ms in all` +
      (best ? ` against ${best.tool.label}'s ${msText(best.median)} ms` : "");
    if (prof) {
      const busy = prof.totalMs - prof.idleMs - prof.popMs;
      text += `; in the profiled run its main thread was busy ${msText(busy)} ms and waiting ` +
        `${msText(prof.totalMs - busy)} ms (${msText(prof.popMs)} ms of it in pop())`;
    }
    if (thr) {
      const ioq = threadGroups(thr).find((g) => g.label === "ioq workers");
      if (ioq) {
        text += `, while the ioq workers used ${msText(ioq.cpuMs)} ms of CPU and were ` +
          `scheduled in ${int(ioq.slices)} times`;
      }
    }
    say.push(text + ".");
  }
  if (say.length) lines.push("", say.join(" "));
  return lines;
}

const USAGE = `Usage: deno task bench:layers [--entries N] [--seed S] [--rounds N]

Measures where the time of a walk of the synthetic tree goes, layer by layer
(see bench/layers.ts), with a short whole-process comparison for layer 5.
  --entries N   synthetic tree size (default 200,000)
  --seed S      synthetic tree seed (default 1)
  --rounds N    rounds (default 7)
`;

if (import.meta.main) {
  const flags = parseFlags(
    Deno.args,
    { entries: "number", seed: "number", rounds: "number", help: "boolean" },
    USAGE,
  );
  if (flags.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const rounds = Math.max(1, (flags.rounds as number | undefined) ?? 7);
  const programs = await benchPrograms();
  if ("error" in programs) {
    console.error(`layers: ${programs.error}`);
    Deno.exit(1);
  }
  const tree = await ensureTree({
    ...(flags.entries !== undefined ? { entries: flags.entries as number } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed as number } : {}),
  });
  const say = (m: string) => progress(m);
  const { tools: list } = tools();
  const emptyDir = `${REPO}/bench/.cache/empty`;
  Deno.mkdirSync(emptyDir, { recursive: true });
  const opts = { rounds, onProgress: say, rusage: programs.rusage };
  const empty = await compareOnTree(emptyDir, list, { ...opts, label: "empty", expected: 1 });
  const whole = await compareOnTree(tree.root, list, {
    ...opts,
    label: "synthetic",
    expected: tree.manifest.stats.total,
  });
  const layers = await measureLayers(tree.root, tree.manifest.stats.total, programs, {
    rounds,
    onProgress: say,
  });
  say("layers: profiling one CLI run");
  const profile = await profileCli(tree.root, programs);
  progress("layers: done", true);
  console.log(layersSection(layers, profile, empty, whole).join("\n"));
}
