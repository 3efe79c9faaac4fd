/**
 * Whole processes: the ioq CLI against bfs, fd and GNU find, each started
 * as a process through bench/rusage.c (wall time from fork to wait4(), CPU
 * time and peak RSS from wait4()'s rusage), output to /dev/null.
 *
 * Method (`compare`): one counting round with the output piped (one entry
 * per line; fd leaves out the root, +1; `-count` prints a number), so every
 * tool is shown to visit the same entries; a CLI that exits with status 2
 * rejects the arguments and is marked "not supported by this CLI yet".  Then
 * `rounds` rounds, tools alternating (round r starts with tool r).  Cold
 * (`cold: true`): before each timed run the page, dentry and inode caches
 * are dropped (`sync; echo 3 > /proc/sys/vm/drop_caches`), then the tool
 * runs once on an empty directory, so its binary and libraries (and Deno's
 * code cache) are back in memory and only the tree is cold.
 *
 * @module
 */

import { CACHE, DENO, exists, output, REPO, which } from "./util.ts";

/** A command-line walker to time. */
export interface Tool {
  /** "ioq", "ioq-count", "bfs", "bfs-j4", "fd", "find". */
  key: string;
  /** For tables: "ioq cli", "bfs -j4". */
  label: string;
  /** The program and the arguments before the root. */
  pre: string[];
  /** Arguments after the root and the predicates. */
  post: string[];
  /** Whether it takes find's predicates (fd does not). */
  predicates: boolean;
  /** How it reports entries: one per line, or one number. */
  output: "lines" | "count";
  /** Added to its count (fd leaves out the root: +1). */
  offset: number;
  /** Whether it is the ioq CLI. */
  ioq: boolean;
  /** Environment variables set for it (added to the bench's). */
  env?: Record<string, string>;
}

/** The tools found, their versions, and what is missing. */
export interface Toolbox {
  tools: Tool[];
  /** Name → version and where it came from. */
  versions: Record<string, string>;
  /** Tools not found, with the reason. */
  missing: string[];
}

/** The first line of `cmd --version`. */
export async function version(cmd: string): Promise<string> {
  const out = await output(cmd, ["--version"]);
  return (out.stdout.trim() || out.stderr.trim()).split("\n")[0] || `unknown (status ${out.code})`;
}

/**
 * The CLI's command line, as deno.json's `walk` task runs it (so the
 * permissions follow the CLI), with this Deno and cli.ts's absolute path.
 */
export function cliCommand(): string[] {
  const task = JSON.parse(Deno.readTextFileSync(`${REPO}/deno.json`)).tasks?.walk;
  const words = typeof task === "string" && task.startsWith("deno run ")
    ? task.split(/\s+/)
    : ["deno", "run", "--allow-ffi", "--allow-read", "--allow-env", "cli.ts"];
  return words.map((w) => w === "deno" ? DENO : w === "cli.ts" ? `${REPO}/cli.ts` : w);
}

/** bfs: $BFS, else ../shared/tools/bfs when present, else bfs on PATH. */
function findBfs(): { path?: string; from: string } {
  const env = Deno.env.get("BFS");
  if (env) return { path: env, from: "$BFS" };
  const shared = `${REPO}/../shared/tools/bfs`;
  if (exists(shared)) return { path: Deno.realPathSync(shared), from: "../shared/tools/bfs" };
  const path = which("bfs");
  return { path, from: "PATH" };
}

/** Finds the tools and their versions. */
export async function toolbox(): Promise<Toolbox> {
  const cli = cliCommand();
  const tool = (t: Partial<Tool> & Pick<Tool, "key" | "label" | "pre">): Tool => ({
    post: [],
    predicates: true,
    output: "lines",
    offset: 0,
    ioq: false,
    ...t,
  });
  const tools: Tool[] = [
    tool({ key: "ioq", label: "ioq cli", pre: cli, ioq: true }),
    tool({
      key: "ioq-count",
      label: "ioq cli -count",
      pre: cli,
      post: ["-count"],
      output: "count",
      ioq: true,
    }),
  ];
  const versions: Record<string, string> = {
    "ioq cli": cli.map((w) => w.replace(`${REPO}/`, "")).join(" ").replace(DENO, "deno"),
  };
  const missing: string[] = [];
  const bfs = findBfs();
  if (bfs.path) {
    tools.push(tool({ key: "bfs", label: "bfs", pre: [bfs.path] }));
    tools.push(tool({ key: "bfs-j4", label: "bfs -j4", pre: [bfs.path, "-j4"] }));
    versions.bfs = `${await version(bfs.path)} (${bfs.from}: ${bfs.path})`;
  } else missing.push("bfs: not in $BFS, ../shared/tools/bfs or PATH");
  const fd = which("fdfind") ?? which("fd");
  if (fd) {
    tools.push(tool({
      key: "fd",
      label: "fd -u",
      pre: [fd, "-u", "--hidden", "--no-ignore", "."],
      predicates: false,
      offset: 1,
    }));
    versions.fd = `${await version(fd)} (${fd})`;
  } else missing.push("fd: neither fdfind nor fd is on PATH (apt: fd-find)");
  const find = which("find");
  if (find) {
    tools.push(tool({ key: "find", label: "find", pre: [find] }));
    versions.find = `${await version(find)} (${find})`;
  } else missing.push("find: not on PATH");
  return { tools, versions, missing };
}

/** What bench/rusage.c reports about a command it ran. */
export interface RusageReport {
  wallMs: number;
  userMs: number;
  sysMs: number;
  maxRssKiB: number;
  status: number;
  /** With -p: each thread seen, its name, CPU time and times scheduled in. */
  threads: { tid: number; comm: string; cpuMs: number; slices: number }[];
}

/** One run of a command through bench/rusage.c. */
export interface Run extends RusageReport {
  /** The output, when piped. */
  stdout?: Uint8Array;
  /** stderr without rusage.c's report line. */
  stderr: string;
}

/**
 * Runs `argv` through bench/rusage.c (with `wrapper` flags such as `-p`),
 * stdout piped or to /dev/null.
 *
 * @throws {Error} When rusage.c reports nothing (it could not run).
 */
export async function runMeasured(
  rusage: string,
  argv: string[],
  options: { piped?: boolean; wrapper?: string[]; env?: Record<string, string> } = {},
): Promise<Run> {
  const out = await new Deno.Command(rusage, {
    args: [...options.wrapper ?? [], "--", ...argv],
    cwd: REPO,
    env: options.env,
    stdin: "null",
    stdout: options.piped ? "piped" : "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const m = /\n?IOQ_RUSAGE (\{.*\})\n?/.exec(stderr);
  if (!m) throw new Error(`${argv.join(" ")}: no report from bench/rusage.c: ${stderr.trim()}`);
  return {
    ...JSON.parse(m[1]) as RusageReport,
    stdout: options.piped ? out.stdout : undefined,
    stderr: stderr.slice(0, m.index) + stderr.slice(m.index + m[0].length),
  };
}

/** One tool's runs on one tree. */
export interface ToolRuns {
  tool: Tool;
  /** The command line, shortened for the report. */
  command: string;
  /** Entries it reported in the counting round (offset applied); null in cold runs. */
  count: number | null;
  /** Why the CLI could not run these arguments (it exited with status 2). */
  unsupported?: string;
  /** The first failed run, as a message. */
  failure?: string;
  /** Per round (NaN where it did not run): wall and CPU time in ms, peak RSS in KiB. */
  wall: number[];
  cpu: number[];
  rss: number[];
}

/** One comparison: the tools on one tree, with the same predicates. */
export interface Comparison {
  /** The tree's label ("synthetic 200,000"). */
  tree: string;
  root: string;
  /** find-style predicates ([] for a plain walk). */
  predicates: string[];
  cold: boolean;
  rounds: number;
  runs: ToolRuns[];
  /** Counts that disagree, as messages. */
  mismatches: string[];
}

/** Options of `compare`. */
export interface CompareOptions {
  /** bench/rusage.c's program. */
  rusage: string;
  rounds: number;
  /** Predicates after the root (tools that take none are left out). */
  predicates?: string[];
  /** The entry count every tool must report, when known. */
  expected?: number;
  /** Drop the caches before each timed run. */
  cold?: boolean;
  /** Called with a progress message. */
  say?: (message: string) => void;
}

/** Counts what a run printed: its lines, or the one number. */
function countOf(tool: Tool, run: Run): number {
  if (tool.output === "count") return Number(new TextDecoder().decode(run.stdout).trim());
  let n = 0;
  for (const byte of run.stdout!) if (byte === 0x0a) n++;
  return n + tool.offset;
}

/** The command line of a tool on a root. */
function argvOf(tool: Tool, root: string, predicates: string[]): string[] {
  return [...tool.pre, root, ...predicates, ...tool.post];
}

/**
 * Drops the page, dentry and inode caches.
 * @returns null, or why it could not.
 */
export async function dropCaches(): Promise<string | null> {
  const out = await output("sh", ["-c", "sync && echo 3 > /proc/sys/vm/drop_caches"]);
  return out.code === 0 ? null : out.stderr.trim() || `status ${out.code}`;
}

/** Times tools on one tree; see the module documentation for the method. */
export async function compare(
  label: string,
  root: string,
  tools: Tool[],
  options: CompareOptions,
): Promise<Comparison> {
  const predicates = options.predicates ?? [];
  const say = options.say ?? (() => {});
  const list = tools.filter((t) => t.predicates || predicates.length === 0);
  const runs: ToolRuns[] = list.map((tool) => ({
    tool,
    command: argvOf(tool, root, predicates).join(" ").replace(DENO, "deno")
      .replaceAll(`${REPO}/`, "").replace(/^\S*\//, ""),
    count: null,
    wall: [],
    cpu: [],
    rss: [],
  }));
  const mismatches: string[] = [];
  const failed = (r: ToolRuns, run: Run) => {
    if (run.status !== 0 && !r.failure) {
      r.failure = `${r.tool.label} exited with status ${run.status}: ` +
        run.stderr.trim().split("\n").slice(0, 2).join(" / ");
    }
  };
  if (!options.cold) {
    say(`${label}: counting round`);
    for (const r of runs) {
      const run = await runMeasured(options.rusage, argvOf(r.tool, root, predicates), {
        piped: true,
        env: r.tool.env,
      });
      if (r.tool.ioq && run.status === 2) {
        r.unsupported = run.stderr.trim().split("\n")[0];
        continue;
      }
      failed(r, run);
      r.count = countOf(r.tool, run);
    }
    const counted = runs.filter((r) => r.count !== null);
    const reference = options.expected ??
      (counted.find((r) => r.tool.key === "find") ?? counted[0])?.count;
    for (const r of counted) {
      if (r.count !== reference) {
        mismatches.push(`${r.tool.label} reported ${r.count} entries, expected ${reference}`);
      }
    }
  }
  const live = runs.filter((r) => !r.unsupported);
  const empty = `${CACHE}/empty`;
  Deno.mkdirSync(empty, { recursive: true });
  for (let round = 0; round < options.rounds; round++) {
    say(`${label}: round ${round + 1} of ${options.rounds}`);
    for (let i = 0; i < live.length; i++) {
      const r = live[(round + i) % live.length];
      if (options.cold) {
        const why = await dropCaches();
        if (why) throw new Error(`cannot drop the caches: ${why}`);
        await runMeasured(options.rusage, argvOf(r.tool, empty, predicates), { env: r.tool.env });
      }
      const run = await runMeasured(options.rusage, argvOf(r.tool, root, predicates), {
        env: r.tool.env,
      });
      failed(r, run);
      r.wall[round] = run.wallMs;
      r.cpu[round] = run.userMs + run.sysMs;
      r.rss[round] = run.maxRssKiB;
    }
  }
  return {
    tree: label,
    root,
    predicates,
    cold: options.cold === true,
    rounds: options.rounds,
    runs,
    mismatches,
  };
}
