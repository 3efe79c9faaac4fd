/**
 * Whole-process comparison: the ioq CLI (cli.ts) against `find`, `fd`
 * (`fdfind` on Debian) and `bfs`, each started as a process, on the
 * synthetic tree and on trees the user names.
 *
 * ```sh
 * deno task bench:compare [--entries 200000] [--tree /usr]... [--rounds 7] [--no-synthetic]
 * ```
 *
 * Method: a first, uncounted round runs every tool once with its output
 * piped and counts the entries it prints (one per line; fd leaves out the
 * root, so its count gets +1), so every tool is shown to visit the same
 * number; on the synthetic tree a mismatch (or a failed run) is an error.  Then `--rounds`
 * rounds each run every tool once, alternating tools (A B C A B C ...,
 * each round starting one tool later), with the output to /dev/null (the
 * `-count` variant's one line is read from a pipe and checked).  A run's
 * time is the wall time around `Deno.Command.output()`, start-up included.
 * Each tool's median and min-max are reported, and its ratio to ioq's
 * median (ioq = the CLI printing every path, to /dev/null).  A tool that is
 * not on PATH is reported as skipped.  When bench/rusage.c is built (see
 * bench/native.ts), every run goes through it, and each tool's median CPU
 * time (user + system, from wait4's rusage: every thread of the process) is
 * reported next to its wall time.
 *
 * @module
 */

import { benchPrograms } from "./native.ts";
import { ensureTree } from "./tree.ts";
import { int, median, parseFlags, ratio, sec, table } from "./util.ts";

/** A command-line tool to time. */
export interface Tool {
  /** Short key ("find"). */
  key: string;
  /** Label for tables ("ioq cli -count"). */
  label: string;
  /** Executable (absolute path). */
  cmd: string;
  /** Arguments before the root. */
  pre: string[];
  /** Arguments after the root. */
  post: string[];
  /** How it reports entries: one per output line, or one number. */
  output: "lines" | "count";
  /** Added to its count (fd leaves out the root: +1). */
  offset: number;
  /** Whether it is one of the ioq CLI variants. */
  ioq: boolean;
}

/** A tool that could not be run, and why. */
export interface Skipped {
  key: string;
  reason: string;
}

/** One tool's timings on one tree. */
export interface ToolResult {
  tool: Tool;
  /** The command line, with the root. */
  command: string;
  /** Entries it visited (offset applied). */
  count: number;
  /** Wall times, ms. */
  times: number[];
  median: number;
  min: number;
  max: number;
  /** median / the ioq (print) median. */
  ratio: number;
  /** CPU times (user + system), ms, of the timed runs; empty without the rusage wrapper. */
  cpu: number[];
  /** System CPU times, ms, of the timed runs. */
  sys: number[];
  /** Median of `cpu`, or null. */
  cpuMedian: number | null;
  /** Median of `sys`, or null. */
  sysMedian: number | null;
}

/** The comparison on one tree. */
export interface TreeComparison {
  label: string;
  root: string;
  /** The expected entry count, when known (synthetic tree). */
  expected?: number;
  results: ToolResult[];
  /** Counts that disagree, as messages (empty when all agree). */
  mismatches: string[];
  /** Runs that exited with a failure status (the first per tool), as messages. */
  failures: string[];
  rounds: number;
}

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const CLI = `${REPO}/cli.ts`;

/** The absolute path of an executable on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const path = `${dir}/${name}`;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The first line of `cmd --version`, or the error. */
export async function version(cmd: string): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, {
      args: ["--version"],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const text = new TextDecoder().decode(out.stdout).trim() ||
      new TextDecoder().decode(out.stderr).trim();
    return text.split("\n")[0];
  } catch (error) {
    return `unknown (${(error as Error).message})`;
  }
}

/**
 * The tools to compare: the ioq CLI (printing, `-count`, and printing on the
 * threads backend), find, fd and bfs; those not on PATH are skipped.
 */
export function tools(): { tools: Tool[]; skipped: Skipped[] } {
  const deno = Deno.execPath();
  const denoArgs = ["run", "--allow-ffi", "--allow-read", "--allow-env", CLI];
  const list: Tool[] = [
    {
      key: "ioq",
      label: "ioq cli",
      cmd: deno,
      pre: denoArgs,
      post: [],
      output: "lines",
      offset: 0,
      ioq: true,
    },
    {
      key: "ioq-count",
      label: "ioq cli -count",
      cmd: deno,
      pre: denoArgs,
      post: ["-count"],
      output: "count",
      offset: 0,
      ioq: true,
    },
    {
      key: "ioq-threads",
      label: "ioq cli -backend threads",
      cmd: deno,
      pre: denoArgs,
      post: ["-backend", "threads"],
      output: "lines",
      offset: 0,
      ioq: true,
    },
  ];
  const skipped: Skipped[] = [];
  const find = which("find");
  if (find) {
    list.push({
      key: "find",
      label: "find",
      cmd: find,
      pre: [],
      post: [],
      output: "lines",
      offset: 0,
      ioq: false,
    });
  } else skipped.push({ key: "find", reason: "find is not on PATH" });
  const fd = which("fd") ?? which("fdfind");
  if (fd) {
    list.push({
      key: "fd",
      label: `${fd.split("/").pop()} -u`,
      cmd: fd,
      pre: ["-u", "--hidden", "--no-ignore", "."],
      post: [],
      output: "lines",
      offset: 1,
      ioq: false,
    });
  } else skipped.push({ key: "fd", reason: "neither fd nor fdfind is on PATH (apt: fd-find)" });
  const bfs = which("bfs");
  if (bfs) {
    list.push({
      key: "bfs",
      label: "bfs",
      cmd: bfs,
      pre: [],
      post: [],
      output: "lines",
      offset: 0,
      ioq: false,
    });
  } else skipped.push({ key: "bfs", reason: "bfs is not on PATH (apt: bfs)" });
  return { tools: list, skipped };
}

/** What bench/rusage.c reports about a command it ran. */
export interface RusageReport {
  /** The command's process id (its main thread's tid). */
  pid: number;
  wallMs: number;
  userMs: number;
  sysMs: number;
  maxRssKiB: number;
  status: number;
  /** With -p: each thread seen, its name, CPU time and times scheduled in. */
  threads: { tid: number; comm: string; cpuMs: number; slices: number }[];
}

/**
 * Splits bench/rusage.c's report line from the rest of a command's stderr.
 *
 * @returns The report (undefined when there is none) and the other text.
 */
export function splitRusage(stderr: string): { report?: RusageReport; text: string } {
  const m = /\n?IOQ_RUSAGE (\{.*\})\n?/.exec(stderr);
  if (!m) return { text: stderr };
  return {
    report: JSON.parse(m[1]) as RusageReport,
    text: stderr.slice(0, m.index) + stderr.slice(m.index + m[0].length),
  };
}

/**
 * Runs a tool once; returns the wall time, its CPU time when `rusage` (the
 * path of bench/rusage.c's program) is given, and, when `count` is set, the
 * entries it reports.
 */
async function runOnce(
  tool: Tool,
  root: string,
  count: boolean,
  rusage?: string,
): Promise<{ ms: number; cpuMs?: number; sysMs?: number; entries?: number; error?: string }> {
  const piped = count || tool.output === "count";
  const args = [...tool.pre, root, ...tool.post];
  const command = new Deno.Command(rusage ?? tool.cmd, {
    args: rusage ? ["--", tool.cmd, ...args] : args,
    cwd: REPO,
    stdin: "null",
    stdout: piped ? "piped" : "null",
    stderr: "piped",
  });
  const started = performance.now();
  const out = await command.output();
  const ms = performance.now() - started;
  const { report, text } = splitRusage(new TextDecoder().decode(out.stderr));
  const cpuMs = report ? report.userMs + report.sysMs : undefined;
  const sysMs = report?.sysMs;
  // A failure is reported, not thrown: find exits 1 for one unreadable directory of /usr
  const error = out.success
    ? undefined
    : `${tool.label} exited with status ${out.code}: ${
      text.trim().split("\n").slice(0, 3).join(" / ")
    }`;
  if (!piped) return { ms, cpuMs, sysMs, error };
  let entries: number;
  if (tool.output === "count") {
    entries = Number(new TextDecoder().decode(out.stdout).trim());
  } else {
    entries = 0;
    for (const byte of out.stdout) if (byte === 0x0a) entries++;
  }
  return { ms, cpuMs, sysMs, entries: entries + tool.offset, error };
}

/** Options for `compareOnTree`. */
export interface CompareOptions {
  /** Label for tables ("synthetic 200,000", "/usr"). */
  label: string;
  /** Timed rounds after the counting round. */
  rounds: number;
  /** The entry count every tool must report (the synthetic tree's). */
  expected?: number;
  /** Called with a progress message. */
  onProgress?: (message: string) => void;
  /** bench/rusage.c's program: when given, each tool's CPU time is measured too. */
  rusage?: string;
}

/** Times every tool on one tree; see the module documentation for the method. */
export async function compareOnTree(
  root: string,
  list: Tool[],
  options: CompareOptions,
): Promise<TreeComparison> {
  const say = options.onProgress ?? (() => {});
  const counts = new Map<Tool, number>();
  const failures = new Map<Tool, string>();
  const noteFailure = (tool: Tool, error: string | undefined) => {
    if (error && !failures.has(tool)) failures.set(tool, error);
  };
  for (const tool of list) {
    say(`${options.label}: counting round, ${tool.label}`);
    const run = await runOnce(tool, root, true, options.rusage);
    noteFailure(tool, run.error);
    counts.set(tool, run.entries!);
  }
  const mismatches: string[] = [];
  const reference = options.expected ?? counts.get(list.find((t) => t.key === "find") ?? list[0])!;
  for (const [tool, n] of counts) {
    if (n !== reference) {
      mismatches.push(
        `${tool.label} visited ${int(n)} entries, expected ${int(reference)}` +
          (options.expected === undefined ? " (find's count)" : " (the tree's)"),
      );
    }
  }
  const times = new Map<Tool, number[]>(list.map((t) => [t, []]));
  const cpus = new Map<Tool, number[]>(list.map((t) => [t, []]));
  const syss = new Map<Tool, number[]>(list.map((t) => [t, []]));
  for (let round = 0; round < options.rounds; round++) {
    say(`${options.label}: round ${round + 1} of ${options.rounds}`);
    for (let i = 0; i < list.length; i++) {
      const tool = list[(round + i) % list.length];
      const run = await runOnce(tool, root, false, options.rusage);
      noteFailure(tool, run.error);
      if (run.entries !== undefined && run.entries !== counts.get(tool)) {
        mismatches.push(`${tool.label} reported ${run.entries} entries in round ${round + 1}`);
      }
      times.get(tool)!.push(run.ms);
      if (run.cpuMs !== undefined) cpus.get(tool)!.push(run.cpuMs);
      if (run.sysMs !== undefined) syss.get(tool)!.push(run.sysMs);
    }
  }
  const ioqMedian = median(times.get(list.find((t) => t.key === "ioq") ?? list[0])!);
  const results = list.map((tool): ToolResult => {
    const ts = times.get(tool)!;
    const m = median(ts);
    const cpu = cpus.get(tool)!;
    const sys = syss.get(tool)!;
    return {
      tool,
      command: [tool.cmd.split("/").pop(), ...tool.pre, root, ...tool.post].join(" ")
        .replace(Deno.execPath().split("/").pop()!, "deno").replace(`${REPO}/`, ""),
      count: counts.get(tool)!,
      times: ts,
      median: m,
      min: Math.min(...ts),
      max: Math.max(...ts),
      ratio: m / ioqMedian,
      cpu,
      sys,
      cpuMedian: cpu.length ? median(cpu) : null,
      sysMedian: sys.length ? median(sys) : null,
    };
  });
  return {
    label: options.label,
    root,
    expected: options.expected,
    results,
    mismatches,
    failures: [...failures.values()],
    rounds: options.rounds,
  };
}

/**
 * A markdown table of one tree's comparison, fastest first, with the CPU
 * time columns when it was measured.
 */
export function comparisonTable(c: TreeComparison): string {
  const withCpu = c.results.some((r) => r.cpuMedian !== null);
  const rows = [...c.results].sort((a, b) => a.median - b.median).map((r) => [
    r.tool.ioq ? `**${r.tool.label}**` : r.tool.label,
    int(r.count) + (r.tool.offset ? ` (printed ${int(r.count - r.tool.offset)})` : ""),
    sec(r.median),
    `${sec(r.min)}–${sec(r.max)}`,
    ...(withCpu
      ? [
        r.cpuMedian === null ? "—" : sec(r.cpuMedian),
        r.sysMedian === null ? "—" : sec(r.sysMedian),
      ]
      : []),
    ratio(r.ratio),
  ]);
  return table([
    "tool",
    "entries",
    "median s",
    "min–max s",
    ...(withCpu ? ["CPU s (user+sys)", "of which sys s"] : []),
    "÷ ioq cli",
  ], rows);
}

const USAGE =
  `Usage: deno task bench:compare [--entries N] [--seed S] [--tree PATH]... [--rounds N] [--no-synthetic]

Times the ioq CLI against find, fd and bfs, whole process, on the synthetic tree
(generated in bench/.cache when needed) and on each --tree.
  --entries N      synthetic tree size (default 200,000)
  --seed S         synthetic tree seed (default 1)
  --tree PATH      also compare on PATH (repeatable), e.g. --tree /usr
  --rounds N       timed rounds after the counting round (default 7)
  --no-synthetic   only the --tree trees
`;

if (import.meta.main) {
  const flags = parseFlags(Deno.args, {
    entries: "number",
    seed: "number",
    tree: "strings",
    rounds: "number",
    "no-synthetic": "boolean",
    help: "boolean",
  }, USAGE);
  if (flags.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const rounds = (flags.rounds as number | undefined) ?? 7;
  const { tools: list, skipped } = tools();
  for (const s of skipped) console.error(`compare: ${s.key} skipped: ${s.reason}`);
  const programs = await benchPrograms();
  if ("error" in programs) console.error(`compare: no CPU times: ${programs.error}`);
  const rusage = "error" in programs ? undefined : programs.rusage;
  const say = (m: string) => console.error(`compare: ${m}`);
  const trees: { root: string; label: string; expected?: number }[] = [];
  if (!flags["no-synthetic"]) {
    const tree = await ensureTree({
      ...(flags.entries !== undefined ? { entries: flags.entries as number } : {}),
      ...(flags.seed !== undefined ? { seed: flags.seed as number } : {}),
    });
    trees.push({
      root: tree.root,
      label: `synthetic ${int(tree.manifest.stats.total)}`,
      expected: tree.manifest.stats.total,
    });
  }
  for (const path of (flags.tree as string[] | undefined) ?? []) {
    trees.push({ root: path, label: path });
  }
  let failed = false;
  for (const t of trees) {
    const c = await compareOnTree(t.root, list, { ...t, rounds, onProgress: say, rusage });
    console.log(`\n### ${c.label} (${c.rounds} rounds)\n\n${comparisonTable(c)}`);
    for (const m of c.mismatches) console.log(`\n**COUNT MISMATCH**: ${m}`);
    for (const f of c.failures) console.log(`\n**FAILED RUN**: ${f}`);
    if ((c.mismatches.length || c.failures.length) && c.expected !== undefined) failed = true;
  }
  if (failed) {
    console.error(
      "compare: a tool failed or the tools disagree on the synthetic tree's entry count",
    );
    Deno.exit(1);
  }
}
