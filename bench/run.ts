/**
 * `deno task bench`: every benchmark of ioq, one report.
 *
 * ```sh
 * deno task bench [--entries 200000] [--rounds 7] [--tree /usr]... [--rss] [--full]
 * ```
 *
 * Steps:
 * 1. builds native/lib/<arch>/libioq.so when it is missing (`deno task build`);
 * 2. generates the synthetic tree, or reuses it from bench/.cache;
 * 3. in-process: `deno bench --json bench/walk_bench.ts` (walk on both
 *    backends vs the std-walk semantics reference, readDirSync, the real
 *    @std/fs walk when it resolves; NOP throughput; opendir+read);
 * 4. event-loop lag: a 1 ms timer's largest delay during a walk (fresh
 *    process per measurement, bench/probe.ts);
 * 5. peak RSS (VmHWM) of a walk of the synthetic tree, and of a
 *    1,000,000-entry tree: when that tree is in the cache, or with `--rss`
 *    (which generates it: a minute or more here);
 * 6. whole process (bench/compare.ts): the CLI vs find, fd and bfs on an
 *    empty directory (start-up), the synthetic tree and each `--tree`;
 *    `--full` adds the 1,000,000-entry tree; wall and CPU time (through
 *    bench/rusage.c);
 * 7. where the time goes (bench/layers.ts) on the synthetic tree: the
 *    kernel floor (bench/floor.c), the queue in C (bench/pipe.c), the JS
 *    pipeline, walk() and the CLI, alternated, each with its delta to the
 *    layer below; the CLI's main thread (--cpu-prof) and threads; the C
 *    programs are built first (`zig build bench-walk`, bench/native.ts);
 * 8. prints the report (markdown) on stdout and writes it to
 *    bench/results/<date>-<host>.md, with an SVG chart of the whole-process
 *    medians (<date>-<host>.svg and latest.svg).
 *
 * Targets are reported, never asserted: each line says whether it holds,
 * with the numbers.  Entry counts are asserted: a walker or tool that visits
 * a different number of entries on a synthetic tree stops the run.
 *
 * @module
 */

import type { BenchNotes } from "./walk_bench.ts";
import type { LagResult, RssResult } from "./probe.ts";
import {
  compareOnTree,
  comparisonTable,
  type Skipped,
  tools,
  type TreeComparison,
  version,
} from "./compare.ts";
import {
  type CliProfile,
  type LayersResult,
  layersSection,
  measureLayers,
  profileCli,
} from "./layers.ts";
import { benchPrograms } from "./native.ts";
import { cachedTree, describe, ensureTree, type Tree } from "./tree.ts";
import { DEFAULT_PARAMS } from "./tree_plan.ts";
import { barChart, type BarGroup } from "./svg.ts";
import { int, ms, parseFlags, progress, rate, ratio, sec, table } from "./util.ts";

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const RESULTS = `${REPO}/bench/results`;
const DENO = Deno.execPath();
const PROBE = ["run", "--allow-ffi", "--allow-read", "--allow-env", `${REPO}/bench/probe.ts`];

const USAGE = `Usage: deno task bench [options]

Runs every ioq benchmark and writes bench/results/<date>-<host>.{md,svg} and latest.svg.
  --entries N       synthetic tree size (default ${int(DEFAULT_PARAMS.entries)})
  --seed S          synthetic tree seed (default ${DEFAULT_PARAMS.seed})
  --rounds N        whole-process timed rounds after the counting round, and rounds of
                    "Where the time goes" after its warm-up round (default 7)
  --tree PATH       also compare whole processes on PATH (repeatable), e.g. --tree /usr
  --rss             peak RSS of a walk of the 1,000,000-entry tree, generating it if needed
                    (by default it runs only when that tree is already in bench/.cache)
  --full            --rss, plus the whole-process comparison on the 1,000,000-entry tree
  --rss-entries N   size of that tree (default 1,000,000)
  --n N             measured walks per fast in-process walker (default 5)
  --slow-n N        measured walks of the std-walk reference (default 3)
  --jobs N          tree generator workers (default: CPUs, at most 4)
  --no-save         print the report only; write nothing to bench/results
`;

/** A measurement that holds or not, for the targets table. */
interface Target {
  name: string;
  goal: string;
  measured: string;
  holds: boolean | null;
}

/** One Deno.bench result (times in ns). */
interface BenchResult {
  group: string;
  name: string;
  avg: number;
  min: number;
  max: number;
  p75: number;
  n: number;
}

/** Exits with a message on stderr. */
function fail(message: string): never {
  console.error(`\nbench: FAILED: ${message}`);
  Deno.exit(1);
}

/** Whether a path exists. */
function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Builds the library when it is missing (and IOQ_LIBRARY does not name another). */
async function ensureLibrary(): Promise<string> {
  const override = Deno.env.get("IOQ_LIBRARY");
  if (override) return `${override} (IOQ_LIBRARY)`;
  const name = `native/lib/${Deno.build.arch}/libioq.so`;
  const lib = `${REPO}/${name}`;
  if (exists(lib)) return `${name} (existing build)`;
  progress(`bench: ${name} is missing: running \`deno task build\``, true);
  const child = new Deno.Command(DENO, {
    args: ["task", "build"],
    cwd: REPO,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  await child.stdout.pipeTo(Deno.stderr.writable, { preventClose: true });
  const { success } = await child.status;
  if (!success || !exists(lib)) fail(`\`deno task build\` did not produce ${name}`);
  return `${name} (built by this run)`;
}

/** Runs the Deno.bench file with --json; returns its results and notes. */
async function inProcess(
  tree: Tree,
  n: number,
  slowN: number,
): Promise<{ results: BenchResult[]; notes: BenchNotes }> {
  const notesPath = Deno.makeTempFileSync({ prefix: "ioq-bench-notes-" });
  progress(
    `bench: in-process benchmarks (deno bench bench/walk_bench.ts, ${n}+${slowN} walks ` +
      `per walker; a minute or two)`,
    true,
  );
  const out = await new Deno.Command(DENO, {
    args: [
      "bench",
      "--json",
      "--allow-ffi",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      `${REPO}/bench/walk_bench.ts`,
    ],
    cwd: REPO,
    env: {
      IOQ_BENCH_ENTRIES: String(tree.manifest.params.entries),
      IOQ_BENCH_SEED: String(tree.manifest.params.seed),
      IOQ_BENCH_N: String(n),
      IOQ_BENCH_SLOW_N: String(slowN),
      IOQ_BENCH_NOTES: notesPath,
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  let json: {
    benches: { group: string | null; name: string; results: Record<string, unknown>[] }[];
  };
  try {
    json = JSON.parse(text);
  } catch {
    fail(`deno bench (status ${out.code}) printed no JSON:\n${text.slice(0, 2000)}`);
  }
  const results: BenchResult[] = [];
  const failures: string[] = [];
  for (const b of json.benches) {
    for (const r of b.results) {
      const ok = r.ok as Omit<BenchResult, "group" | "name"> | undefined;
      const failed = r.failed as { message?: string; stack?: string } | undefined;
      if (ok) results.push({ group: b.group ?? "", name: b.name, ...ok });
      else failures.push(`${b.name}: ${failed?.stack ?? failed?.message ?? JSON.stringify(r)}`);
    }
  }
  if (failures.length || !out.success) {
    fail(`in-process benchmarks failed (status ${out.code}):\n  ${failures.join("\n  ")}`);
  }
  const notes = JSON.parse(Deno.readTextFileSync(notesPath)) as BenchNotes;
  Deno.removeSync(notesPath);
  return { results, notes };
}

/** Runs a probe; returns its JSON. */
async function probe<T>(args: string[]): Promise<T> {
  const out = await new Deno.Command(DENO, {
    args: [...PROBE, ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    fail(`probe ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout)) as T;
}

/** A peak RSS measurement and where it comes from. */
interface Rss extends RssResult {
  /** "/usr/bin/time -f %M" or "VmHWM". */
  source: string;
}

/**
 * Runs the RSS probe.  Deno lets only --allow-all read /proc/self/status, so
 * the peak comes from GNU time's %M (the process's maximum RSS, as VmHWM)
 * when /usr/bin/time exists; otherwise the probe runs with --allow-all and
 * reads VmHWM itself.  `denoFlags` go to `deno run` (e.g. V8 flags).
 */
async function rssProbe(args: string[], denoFlags: string[] = []): Promise<Rss> {
  const gnuTime = "/usr/bin/time";
  if (!exists(gnuTime)) {
    const out = await new Deno.Command(DENO, {
      args: ["run", ...denoFlags, "--allow-all", `${REPO}/bench/probe.ts`, "rss", ...args],
      cwd: REPO,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) fail(`probe rss failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    return { ...JSON.parse(new TextDecoder().decode(out.stdout)), source: "VmHWM" };
  }
  const out = await new Deno.Command(gnuTime, {
    args: ["-f", "IOQ_MAXRSS_KIB=%M", DENO, "run", ...denoFlags, ...PROBE.slice(1), "rss", ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const m = /IOQ_MAXRSS_KIB=(\d+)/.exec(stderr);
  if (!out.success || !m) fail(`probe rss ${args.join(" ")} failed: ${stderr.trim()}`);
  const result = JSON.parse(new TextDecoder().decode(out.stdout)) as RssResult;
  return { ...result, peakKiB: result.peakKiB ?? Number(m[1]), source: "/usr/bin/time -f %M" };
}

/**
 * The text of /proc/cpuinfo.  Deno lets only --allow-all read /proc files,
 * so it is read by `cat` (--allow-run).
 */
async function procCpuinfo(): Promise<string> {
  try {
    const out = await new Deno.Command("cat", { args: ["/proc/cpuinfo"], stdout: "piped" })
      .output();
    return new TextDecoder().decode(out.stdout);
  } catch {
    return "";
  }
}

/** The CPU model and the number of processors, from /proc/cpuinfo. */
async function cpu(): Promise<{ model: string; cores: number }> {
  const text = await procCpuinfo();
  const model = /^model name\s*:\s*(.*)$/m.exec(text)?.[1].trim() ?? "unknown";
  const cores = (text.match(/^processor\s*:/gm) ?? []).length || navigator.hardwareConcurrency;
  return { model, cores };
}

/** The 1-, 5- and 15-minute load averages. */
function loadavg(): string {
  try {
    return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  } catch {
    return "unknown";
  }
}

/** Total memory, GiB. */
function memTotal(): string {
  try {
    return `${(Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1)} GiB`;
  } catch {
    return "unknown";
  }
}

/** `uname -r`. */
async function unameR(): Promise<string> {
  try {
    const out = await new Deno.Command("uname", { args: ["-r"], stdout: "piped" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return Deno.osRelease();
  }
}

/** Local date as YYYY-MM-DD. */
function today(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** A file-name-safe host name. */
function host(): string {
  try {
    return Deno.hostname().replace(/[^A-Za-z0-9._-]/g, "_") || "host";
  } catch {
    return "host";
  }
}

/** MiB from KiB. */
function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

/** "holds" / "does NOT hold" / "not measured". */
function verdict(holds: boolean | null): string {
  return holds === null ? "not measured" : holds ? "holds" : "**does NOT hold**";
}

// ---------------------------------------------------------------------------

const flags = (() => {
  try {
    return parseFlags(Deno.args, {
      entries: "number",
      seed: "number",
      rounds: "number",
      tree: "strings",
      rss: "boolean",
      full: "boolean",
      "rss-entries": "number",
      n: "number",
      "slow-n": "number",
      jobs: "number",
      "no-save": "boolean",
      help: "boolean",
    }, USAGE);
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(2);
  }
})();
if (flags.help) {
  console.log(USAGE);
  Deno.exit(0);
}

const started = performance.now();
const loadBefore = loadavg();
const rounds = Math.max(1, (flags.rounds as number | undefined) ?? 7);
const n = Math.max(1, (flags.n as number | undefined) ?? 5);
const slowN = Math.max(1, (flags["slow-n"] as number | undefined) ?? 3);
const rssEntries = (flags["rss-entries"] as number | undefined) ?? 1_000_000;
const full = flags.full === true;
const wantRss = full || flags.rss === true;
const jobs = flags.jobs as number | undefined;

const library = await ensureLibrary();
progress("bench: building the C benchmark programs (zig build bench-walk)", true);
const programs = await benchPrograms();
if ("error" in programs) {
  progress(`bench: WARNING: no CPU times and no "Where the time goes": ${programs.error}`, true);
}
const rusage = "error" in programs ? undefined : programs.rusage;
const tree = await ensureTree({
  entries: (flags.entries as number | undefined) ?? DEFAULT_PARAMS.entries,
  seed: (flags.seed as number | undefined) ?? DEFAULT_PARAMS.seed,
}, { jobs });
const EXPECTED = tree.manifest.stats.total;
progress(
  `bench: tree ${tree.generated ? `generated in ${tree.manifest.seconds} s` : "reused"}: ` +
    describe(tree.manifest.stats),
  true,
);

// In-process
const { results: inproc, notes } = await inProcess(tree, n, slowN);
const byName = (name: string) => inproc.find((r) => r.name === name);
const reference = byName("std-walk semantics reference")!;
const backends = (["io_uring", "threads"] as const).filter((b) => !notes.backends[b]?.skipped);

// Event-loop lag
const lags: LagResult[] = [];
for (const backend of backends) {
  progress(`bench: event-loop lag, ioq walk [${backend}]`, true);
  lags.push(await probe<LagResult>(["lag", tree.root, "--walker", "ioq", "--backend", backend]));
}
progress("bench: event-loop lag, library load, readDirSync and idle (for contrast)", true);
lags.push(await probe<LagResult>(["lag", tree.root, "--walker", "load"]));
lags.push(await probe<LagResult>(["lag", tree.root, "--walker", "sync"]));
lags.push(await probe<LagResult>(["lag", tree.root, "--walker", "idle"]));
for (const l of lags) {
  if (l.walker !== "idle" && l.walker !== "load" && l.count !== EXPECTED) {
    fail(`the lag probe (${l.walker} ${l.backend ?? ""}) counted ${l.count}, not ${EXPECTED}`);
  }
}

// Peak RSS
interface RssRow {
  label: string;
  entries: number;
  result: Rss;
  /** Run with a smaller V8 young generation: shown, not a target row. */
  tuned?: boolean;
}

/** The V8 flag that caps each young-generation semispace at 4 MiB (V8's default cap: 16). */
const SMALL_YOUNG_GEN = "--v8-flags=--max-semi-space-size=4";
const rssRows: RssRow[] = [];
progress("bench: peak RSS, runtime alone and the synthetic tree", true);
rssRows.push({
  label: "runtime alone (ioq loaded, a queue opened)",
  entries: 0,
  result: await rssProbe([tree.root, "--no-walk"]),
});
for (const backend of backends) {
  rssRows.push({
    label: `walk synthetic ${int(EXPECTED)} [${backend}]`,
    entries: EXPECTED,
    result: await rssProbe([tree.root, "--backend", backend]),
  });
}
let bigTree: Tree | undefined;
let bigNote = "";
{
  const bigParams = { ...tree.manifest.params, entries: rssEntries };
  const cached = cachedTree(bigParams);
  if (cached || wantRss) {
    if (!cached) progress(`bench: generating the ${int(rssEntries)}-entry tree for --rss`, true);
    bigTree = cached ?? await ensureTree(bigParams, { jobs });
    for (const backend of backends) {
      progress(`bench: peak RSS, walk of ${int(rssEntries)} entries [${backend}]`, true);
      rssRows.push({
        label: `walk synthetic ${int(rssEntries)} [${backend}]`,
        entries: rssEntries,
        result: await rssProbe([bigTree.root, "--backend", backend]),
      });
    }
    // How much of the peak is V8's young generation, not the walk's data
    progress(
      `bench: peak RSS, walk of ${int(rssEntries)} entries [auto, ${SMALL_YOUNG_GEN}]`,
      true,
    );
    rssRows.push({
      label: `walk synthetic ${int(rssEntries)} [auto] with ${SMALL_YOUNG_GEN}`,
      entries: rssEntries,
      result: await rssProbe([bigTree.root, "--backend", "auto"], [SMALL_YOUNG_GEN]),
      tuned: true,
    });
  } else {
    bigNote = `the ${int(rssEntries)}-entry tree is not in bench/.cache: run with --rss ` +
      `(generates it once) to measure the peak RSS target`;
  }
}
for (const row of rssRows) {
  if (row.entries && row.result.count !== row.entries) {
    fail(`the RSS probe (${row.label}) counted ${row.result.count}, not ${row.entries}`);
  }
}

// Whole process
const { tools: toolList, skipped } = tools();
const emptyDir = `${REPO}/bench/.cache/empty`;
Deno.mkdirSync(emptyDir, { recursive: true });
const comparisons: TreeComparison[] = [];
const say = (m: string) => progress(`bench: whole process, ${m}`);
comparisons.push(
  await compareOnTree(emptyDir, toolList, {
    label: "empty directory (start-up floor)",
    rounds,
    expected: 1,
    onProgress: say,
    rusage,
  }),
);
comparisons.push(
  await compareOnTree(tree.root, toolList, {
    label: `synthetic ${int(EXPECTED)}`,
    rounds,
    expected: EXPECTED,
    onProgress: say,
    rusage,
  }),
);
if (full && bigTree) {
  comparisons.push(
    await compareOnTree(bigTree.root, toolList, {
      label: `synthetic ${int(bigTree.manifest.stats.total)}`,
      rounds,
      expected: bigTree.manifest.stats.total,
      onProgress: say,
      rusage,
    }),
  );
}
for (const path of (flags.tree as string[] | undefined) ?? []) {
  comparisons.push(
    await compareOnTree(path, toolList, { label: path, rounds, onProgress: say, rusage }),
  );
}
progress("bench: whole process done", true);
for (const c of comparisons) {
  if (c.expected !== undefined && (c.mismatches.length || c.failures.length)) {
    fail(
      `a tool failed or entry counts disagree on ${c.label}:\n  ` +
        [...c.failures, ...c.mismatches].join("\n  "),
    );
  }
}

// Where the time goes
let layers: LayersResult | undefined;
let cliProfile: CliProfile | undefined;
if (!("error" in programs)) {
  layers = await measureLayers(tree.root, EXPECTED, programs, {
    rounds,
    onProgress: (m) => progress(`bench: where the time goes, ${m}`),
  });
  progress("bench: where the time goes, profiling the CLI (--cpu-prof, threads)", true);
  cliProfile = await profileCli(tree.root, programs);
}

// Machine
const versions: Record<string, string> = {};
for (const t of toolList.filter((t) => !t.ioq)) versions[t.key] = await version(t.cmd);
const { model, cores } = await cpu();
const machine = {
  cpu: model,
  cores,
  memory: memTotal(),
  kernel: await unameR(),
  deno: `${Deno.version.deno} (V8 ${Deno.version.v8})`,
  host: host(),
  date: today(),
};

// ---------------------------------------------------------------------------
// Report

const walkRows = inproc.filter((r) => r.group === "walk");
const nopRows = inproc.filter((r) => r.group.startsWith("nop"));
const openRows = inproc.filter((r) => r.group.startsWith("opendir"));
const nsToMs = (ns: number) => ns / 1e6;
const speedup = (r: BenchResult) => reference.avg / r.avg;

const targets: Target[] = [];
for (const c of comparisons.filter((c) => !c.label.startsWith("empty"))) {
  const ioq = c.results.find((r) => r.tool.key === "ioq")!;
  const rivals = c.results.filter((r) => r.tool.key === "bfs" || r.tool.key === "fd");
  if (rivals.length === 0) {
    targets.push({
      name: `CLI whole process, ${c.label}`,
      goal: "≤ 1.0x the fastest of bfs and fd",
      measured: "bfs and fd are both missing",
      holds: null,
    });
    continue;
  }
  const best = rivals.reduce((a, b) => a.median <= b.median ? a : b);
  const x = ioq.median / best.median;
  targets.push({
    name: `CLI whole process, ${c.label}`,
    goal: "≤ 1.0x the fastest of bfs and fd",
    measured: `ioq cli ${sec(ioq.median)} s vs ${best.tool.label} ${sec(best.median)} s = ${
      ratio(x)
    }`,
    holds: x <= 1.0,
  });
}
for (const backend of backends) {
  const r = byName(`ioq walk [${backend}]`)!;
  const x = speedup(r);
  targets.push({
    name: `walk() vs std-walk semantics reference [${backend}]`,
    goal: "≥ 25x faster",
    measured: `${ms(nsToMs(r.avg))} vs ${ms(nsToMs(reference.avg))} = ${ratio(x)} faster`,
    holds: x >= 25,
  });
}
for (const l of lags.filter((l) => l.walker === "ioq")) {
  targets.push({
    name: `event-loop lag during walk() [${l.backend}]`,
    goal: "≤ 5 ms",
    measured: `largest 1 ms-timer delay ${l.maxDelayMs.toFixed(2)} ms (p99 ${
      l.p99DelayMs.toFixed(2)
    } ms, ${int(l.ticks)} ticks in ${ms(l.walkMs)})`,
    holds: l.maxDelayMs <= 5,
  });
}
const bigRss = rssRows.filter((r) => r.entries === rssEntries && !r.tuned);
if (bigRss.length) {
  for (const r of bigRss) {
    const bytes = r.result.peakKiB! * 1024;
    targets.push({
      name: `peak RSS, walk of ${int(rssEntries)} entries ${r.label.replace(/.*(\[.*\])$/, "$1")}`,
      goal: "≤ 150 MB (150,000,000 bytes)",
      measured: `${mib(r.result.peakKiB!)} (${(bytes / 1e6).toFixed(1)} MB, ${r.result.source})`,
      holds: bytes <= 150e6,
    });
  }
} else {
  targets.push({
    name: `peak RSS, walk of ${int(rssEntries)} entries`,
    goal: "≤ 150 MB",
    measured: bigNote,
    holds: null,
  });
}
for (const backend of backends) {
  const r = byName(`nop batch 64 [${backend}]`)!;
  const perSec = 64 / (r.avg / 1e9);
  targets.push({
    name: `IoQueue NOP completions/s, batches of 64 [${backend}]`,
    goal: "≥ 1,000,000/s",
    measured: `${int(perSec)}/s (${(r.avg / 1000).toFixed(1)} µs per batch of 64)`,
    holds: perSec >= 1e6,
  });
}

const autoNop = byName(`nop batch 64 [${notes.autoBackend}]`);
const headline = autoNop
  ? `**IoQueue NOP throughput, batches of 64 (${notes.autoBackend}, the default backend): ${
    int(64 / (autoNop.avg / 1e9))
  } completions/s** (target ≥ 1,000,000/s: ${verdict(64 / (autoNop.avg / 1e9) >= 1e6)})`
  : "IoQueue NOP throughput: not measured";

const lines: string[] = [];
const push = (...s: string[]) => lines.push(...s);
push(
  `# ioq benchmarks — ${machine.date}, ${machine.host}`,
  "",
  headline,
  "",
  "## Targets (reported, not asserted)",
  "",
  table(
    ["target", "goal", "measured", "verdict"],
    targets.map((t) => [t.name, t.goal, t.measured, verdict(t.holds)]),
  ),
  "",
  "## Machine",
  "",
  table(["", ""], [
    ["CPU", `${machine.cpu}, ${machine.cores} cores, ${machine.memory}`],
    ["kernel", machine.kernel],
    ["Deno", machine.deno],
    ...Object.entries(versions).map(([k, v]) => [k, v]),
    ...skipped.map((s: Skipped) => [s.key, `skipped: ${s.reason}`]),
    ["ioq library", library],
    [
      "ioq backend",
      `auto = ${notes.autoBackend}; benchmarked: ${backends.join(", ")}` +
      (["io_uring", "threads"].filter((b) => notes.backends[b]?.skipped).map((b) =>
        `; ${b} skipped: ${notes.backends[b].skipped}`
      ).join("")),
    ],
    ["load average", `${loadBefore} at the start, ${loadavg()} at the end`],
  ]),
  "",
  `Synthetic tree (bench/tree.ts, entries ${
    int(tree.manifest.params.entries)
  }, seed ${tree.manifest.params.seed}, ` +
    `fanout ${tree.manifest.params.fanout}, depth ${tree.manifest.params.depth}): ${
      describe(tree.manifest.stats)
    }.`,
  ...(bigTree
    ? [
      "",
      `Large tree (entries ${int(bigTree.manifest.params.entries)}): ${
        describe(bigTree.manifest.stats)
      }.`,
    ]
    : []),
  "",
  "## Whole process (wall and CPU time, start-up included)",
  "",
  `Method: one counting round (output piped, entries counted; fd does not print the root: +1), ` +
    `then ${rounds} timed rounds, tools alternating (each round starts one tool later), output to ` +
    `/dev/null; median and min–max wall time around \`Deno.Command.output()\`. ` +
    `"÷ ioq cli" = tool median / ioq cli median (ioq cli = \`deno run --allow-ffi --allow-read ` +
    `--allow-env cli.ts ROOT\`, every path printed, backend auto). ` +
    (rusage
      ? `CPU = user + system time of the whole process (every thread), median, from wait4()'s ` +
        `rusage: each run goes through bench/rusage.c, which forks, execs the tool and waits.`
      : `CPU time not measured: ${"error" in programs ? programs.error : ""}`),
);
for (const c of comparisons) {
  push("", `### ${c.label}`, "", comparisonTable(c));
  for (const m of c.mismatches) push("", `**COUNT MISMATCH**: ${m}`);
  for (const f of c.failures) push("", `**FAILED RUN** (timed anyway): ${f}`);
}
push("", `## Where the time goes (synthetic ${int(EXPECTED)})`, "");
if (layers) {
  push(
    ...layersSection(
      layers,
      cliProfile,
      comparisons.find((c) => c.label.startsWith("empty")),
      comparisons.find((c) => c.label === `synthetic ${int(EXPECTED)}`),
    ),
  );
} else {
  push(`Not measured: ${"error" in programs ? programs.error : ""}`);
}
push(
  "",
  "## In-process (Deno.bench, bench/walk_bench.ts)",
  "",
  `Walks of the synthetic tree (${int(EXPECTED)} entries, every walker checked to yield all of ` +
    `them); the reference implements @std/fs 1.0.x walk's semantics (bench/std_walk.ts). ` +
    `Real @std/fs walk: ${
      "loaded" in notes.stdFs
        ? `loaded from ${notes.stdFs.loaded}`
        : `skipped (${notes.stdFs.skipped.replace(/\.$/, "")})`
    }.`,
  "",
  table(
    ["walker", "avg", "min–max", "p75", "entries/s", "× reference speed"],
    walkRows.map((r) => [
      r.name,
      ms(nsToMs(r.avg)),
      `${ms(nsToMs(r.min))}–${ms(nsToMs(r.max))}`,
      ms(nsToMs(r.p75)),
      rate(EXPECTED / (r.avg / 1e9)),
      ratio(speedup(r)),
    ]),
  ),
  "",
  "IoQueue NOPs: N requests, then `await pop()` until all N are back; time per batch.",
  "",
  table(
    ["backend", "batch", "avg per batch", "min–max", "completions/s"],
    nopRows.map((r) => {
      const batch = Number(/batch (\d+)/.exec(r.name)![1]);
      return [
        r.group.replace("nop ", ""),
        String(batch),
        `${(r.avg / 1000).toFixed(1)} µs`,
        `${(r.min / 1000).toFixed(1)}–${(r.max / 1000).toFixed(1)} µs`,
        int(batch / (r.avg / 1e9)),
      ];
    }),
  ),
  "",
  `opendir+read: all ${int(notes.dirs)} directories of the tree opened through the queue (256 in ` +
    `flight), every entry read with readBatch(), closed through the queue.`,
  "",
  table(
    ["run", "avg", "min–max", "dirs/s", "entries/s"],
    openRows.map((r) => [
      r.name,
      ms(nsToMs(r.avg)),
      `${ms(nsToMs(r.min))}–${ms(nsToMs(r.max))}`,
      rate(notes.dirs / (r.avg / 1e9)),
      rate((EXPECTED - 1) / (r.avg / 1e9)),
    ]),
  ),
  "",
  "## Event-loop lag (1 ms setInterval during one walk of the synthetic tree, fresh process)",
  "",
  table(
    ["walker", "walk time", "ticks", "largest delay", "p99 delay"],
    lags.map((l) => [
      l.walker === "ioq"
        ? `ioq walk [${l.backend}]`
        : l.walker === "load"
        ? "ioq library load on first use (dlopen, once per process)"
        : l.walker === "sync"
        ? "recursive readDirSync (blocks, for contrast)"
        : "idle 500 ms (timer noise floor)",
      ms(l.walkMs),
      int(l.ticks),
      `${l.maxDelayMs.toFixed(2)} ms`,
      `${l.p99DelayMs.toFixed(2)} ms`,
    ]),
  ),
  "",
  "The ioq walks start with the library loaded, as every walk but a process's first does; " +
    "loading it (`Deno.dlopen` binding every symbol) blocks the event loop once per process, " +
    "the row of its own.",
  "",
  "## Peak RSS (one fresh process each)",
  "",
  table(
    ["process", "entries", "walk time", "peak RSS", "measured by"],
    rssRows.map((r) => [
      r.label,
      r.entries ? int(r.entries) : "—",
      r.entries ? ms(r.result.walkMs) : "—",
      mib(r.result.peakKiB!),
      r.result.source,
    ]),
  ),
  ...(bigNote ? ["", `Not measured: ${bigNote}.`] : []),
  ...(rssRows.some((r) => r.tuned)
    ? [
      "",
      `The row with \`${SMALL_YOUNG_GEN}\` is the same walk with V8's young-generation ` +
      "semispaces capped at 4 MiB (default cap 16 MiB): the difference is room V8 keeps for " +
      "short-lived objects, not data the walk holds. It is a process-wide V8 setting that a " +
      "program can pass to `deno run`, not one a library can make for its caller.",
    ]
    : []),
  "",
  `Run: \`deno task bench${Deno.args.length ? " " + Deno.args.join(" ") : ""}\`, ` +
    `${((performance.now() - started) / 1000).toFixed(0)} s.`,
);
const report = lines.join("\n") + "\n";

// Chart
const groups: BarGroup[] = comparisons.map((c) => ({
  title: c.expected !== undefined
    ? c.label
    : `${c.label} (${int(c.results.find((r) => r.tool.key === "ioq")!.count)} entries)`,
  bars: [...c.results].sort((a, b) => a.median - b.median).map((r) => ({
    label: r.tool.label,
    median: r.median,
    min: r.min,
    max: r.max,
    note: ratio(r.ratio),
    highlight: r.tool.ioq,
  })),
}));
const svg = barChart(
  "ioq CLI vs find, fd, bfs: whole-process wall time (median; whisker min–max)",
  `${machine.date}, ${machine.host}: ${machine.cpu}, ${machine.cores} cores, kernel ${machine.kernel}, ` +
    `Deno ${Deno.version.deno}, ${rounds} rounds; ratio = tool median ÷ ioq cli median`,
  groups,
);

console.log(report);
if (!flags["no-save"]) {
  Deno.mkdirSync(RESULTS, { recursive: true });
  const base = `${RESULTS}/${machine.date}-${machine.host}`;
  Deno.writeTextFileSync(`${base}.md`, report);
  Deno.writeTextFileSync(`${base}.svg`, svg);
  Deno.writeTextFileSync(`${RESULTS}/latest.svg`, svg);
  // Formatted as the repository's `deno fmt` would, so committed results stay fmt-clean
  await new Deno.Command(DENO, {
    args: ["fmt", "--quiet", `${base}.md`, `${base}.svg`, `${RESULTS}/latest.svg`],
    cwd: REPO,
    stdout: "null",
    stderr: "null",
  }).output();
  progress(
    `bench: wrote ${base.replace(`${REPO}/`, "")}.md, .svg and bench/results/latest.svg`,
    true,
  );
}
