/**
 * In process: ioq's `walk()` against the real `@std/fs` walk, a recursive
 * `Deno.readDirSync` walk and npm fdir (sync and async), all in one Deno
 * process (bench/probe.ts `serve`) on the same tree, alternating rounds
 * after a warm-up round; `IoQueue` NOP throughput; the event-loop lag
 * during a walk; the peak RSS of a walk (fresh processes).
 *
 * The real std comes from `$IOQ_STD` (a folder laid out like
 * ../shared/reference/std, with its import_map.json), else
 * ../shared/reference/std when present, else `jsr:@std/fs@^1` (where
 * `JSR_URL` may name a mirror).
 *
 * @module
 */

import type { LagResult, Measured } from "./probe.ts";
import { runMeasured } from "./whole.ts";
import { alternate, DENO, exists, progress, REPO } from "./util.ts";

/** Where the real @std/fs comes from. */
export interface StdSource {
  /** What the probe imports. */
  spec: string;
  /** The folder, when std comes from one. */
  folder?: string;
  /** How the report names the choice. */
  label: string;
}

/** Picks the real @std/fs: $IOQ_STD, ../shared/reference/std, or JSR. */
export function stdSource(): StdSource {
  const env = Deno.env.get("IOQ_STD");
  const shared = `${REPO}/../shared/reference/std`;
  const folder = env ?? (exists(`${shared}/import_map.json`) ? Deno.realPathSync(shared) : "");
  if (folder) {
    const label = env ? `$IOQ_STD (${env})` : `../shared/reference/std (${folder})`;
    return { spec: "@std/fs/walk", folder, label: `${label}, through its import_map.json` };
  }
  const jsr = Deno.env.get("JSR_URL");
  return {
    spec: "jsr:@std/fs@^1/walk",
    label: `jsr:@std/fs@^1 (${jsr ? `JSR_URL=${jsr}` : "the JSR registry"})`,
  };
}

/** The flags of every probe process: no lockfile written, the std import map when there is one. */
export function probeArgs(std?: StdSource): string[] {
  return [
    "run",
    "--no-lock",
    "--allow-ffi",
    "--allow-read",
    "--allow-env",
    "--allow-import",
    // fast-glob asks os.cpus() for its concurrency
    "--allow-sys=cpus",
    ...(std?.folder ? [`--import-map=${std.folder}/import_map.json`] : []),
    `${REPO}/bench/probe.ts`,
  ];
}

/** A `probe.ts serve` process: one command at a time. */
export class Probe {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: ReadableStreamDefaultReader<string>;
  #buffer = "";
  /** Lines the probe wrote to stderr since the last answer. */
  readonly #said: string[] = [];

  /** Starts the process (stdout to /dev/null: the CLI writes there). */
  constructor(std?: StdSource) {
    this.#child = new Deno.Command(DENO, {
      args: [...probeArgs(std), "serve"],
      cwd: REPO,
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = this.#child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  }

  /**
   * Sends a command; resolves with its answer, with the other lines the
   * probe wrote to stderr meanwhile as `said`.
   */
  async run<T = Measured & { error?: string; said?: string; status?: number }>(
    command: (string | number)[],
  ): Promise<T> {
    await this.#writer.write(new TextEncoder().encode(`${JSON.stringify(command)}\n`));
    while (true) {
      let nl: number;
      while ((nl = this.#buffer.indexOf("\n")) < 0) {
        const { value, done } = await this.#lines.read();
        if (done) throw new Error(`the probe exited during ${JSON.stringify(command)}`);
        this.#buffer += value;
      }
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line.startsWith("PROBE ")) {
        const answer = JSON.parse(line.slice(6));
        if (this.#said.length) answer.said = this.#said.splice(0).join("\n");
        return answer as T;
      }
      this.#said.push(line);
    }
  }

  /** Ends the process (closing its stdin) and waits for it. */
  async close(): Promise<void> {
    await this.#writer.close();
    await this.#lines.cancel();
    await this.#child.status;
  }
}

/** One in-process walker's rounds. */
export interface WalkerRuns {
  key: string;
  label: string;
  /** Where it was loaded from (std, fdir). */
  source?: string;
  /** Why it did not run. */
  skipped?: string;
  /** Entries of its last run. */
  count?: number;
  /** Per round, ms. */
  wall: number[];
  mainCpu: number[];
}

/** The in-process comparison on one tree. */
export interface InProcess {
  tree: string;
  rounds: number;
  /** Entries every walker must count. */
  expected: number;
  walkers: WalkerRuns[];
  /** Walkers that counted another number, as messages. */
  mismatches: string[];
}

/** The walkers of the comparison, `walk()` first (the ratios' reference). */
const WALKERS: { key: string; label: string }[] = [
  { key: "walk", label: "ioq walk()" },
  { key: "std", label: "@std/fs walk" },
  { key: "sync", label: "recursive Deno.readDirSync" },
  { key: "fdir-sync", label: "npm fdir, sync" },
  { key: "fdir-async", label: "npm fdir, async" },
];

/**
 * Loads std and fdir into the probe; returns the walkers with where they
 * came from, or why they are skipped.
 */
export async function loadWalkers(probe: Probe, std: StdSource): Promise<WalkerRuns[]> {
  const loadedStd = await probe.run<{ source?: string; error?: string }>(
    ["load-std", std.spec, ...(std.folder ? [std.folder] : [])],
  );
  const loadedFdir = await probe.run<{ source?: string; error?: string }>(["load-fdir"]);
  return WALKERS.map(({ key, label }) => {
    const from = key === "std" ? loadedStd : key.startsWith("fdir") ? loadedFdir : {};
    return { key, label, source: from.source, skipped: from.error, wall: [], mainCpu: [] };
  });
}

/** Runs the walkers on a tree in alternating rounds, after a warm-up round. */
export async function inProcess(
  probe: Probe,
  loaded: WalkerRuns[],
  tree: string,
  root: string,
  expected: number,
  rounds: number,
): Promise<InProcess> {
  const walkers = loaded.map((w) => ({ ...w, wall: [], mainCpu: [] }) as WalkerRuns);
  const mismatches: string[] = [];
  const live = walkers.filter((w) => !w.skipped);
  await alternate(live, rounds, async (w, round) => {
    const when = round < 0 ? "warm-up round" : `round ${round + 1} of ${rounds}`;
    progress(`bench: in process, ${tree}: ${w.label}, ${when}`, false);
    const m = await probe.run([w.key, root, "auto"]);
    if (m.error) throw new Error(`${w.label} on ${root}: ${m.error}`);
    if (m.count !== expected && w.count !== m.count) {
      mismatches.push(`${w.label} counted ${m.count} entries, expected ${expected}`);
    }
    w.count = m.count;
    if (round < 0) return;
    w.wall[round] = m.wallMs;
    w.mainCpu[round] = m.mainCpuMs;
  }, true);
  return { tree, rounds, expected, walkers, mismatches };
}

/** NOP throughput of one backend and batch size. */
export interface NopRow {
  backend: string;
  batch: number;
  perSecond: number;
}

/** Measures NOP throughput on each backend that runs here. */
export async function nops(probe: Probe): Promise<NopRow[]> {
  const rows: NopRow[] = [];
  for (const backend of ["io_uring", "threads"]) {
    for (const batch of [1, 64, 512]) {
      const r = await probe.run<{ perSecond?: number; error?: string }>(
        ["nop", backend, batch, 300],
      );
      if (r.perSecond !== undefined) rows.push({ backend, batch, perSecond: r.perSecond });
      else if (batch === 1) progress(`bench: NOP ${backend} skipped: ${r.error?.split("\n")[0]}`);
      if (r.perSecond === undefined) break;
    }
  }
  return rows;
}

/** Runs a lag probe in a fresh process. */
export async function lagProbe(root: string, walker: string): Promise<LagResult> {
  const out = await new Deno.Command(DENO, {
    args: [...probeArgs(), "lag", root, walker],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(`probe lag ${walker}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return JSON.parse(text) as LagResult;
}

/** A walk's peak RSS, in a fresh process. */
export interface RssRow {
  label: string;
  entries: number;
  /** Per run: peak RSS in KiB (wait4's ru_maxrss), wall time in ms. */
  rssKiB: number[];
  wall: number[];
  /** V8 flags given (none for the target's rows). */
  v8Flags?: string;
}

/**
 * Runs `walk()` of `root` (or "-": nothing walked) in fresh processes
 * through bench/rusage.c, `runs` times.
 *
 * @throws {Error} When a run fails or counts another number than `entries`.
 */
export async function rssProbe(
  rusage: string,
  label: string,
  root: string,
  entries: number,
  runs: number,
  v8Flags?: string,
): Promise<RssRow> {
  const row: RssRow = { label, entries, rssKiB: [], wall: [], v8Flags };
  const args = probeArgs();
  if (v8Flags) args.splice(1, 0, `--v8-flags=${v8Flags}`);
  for (let i = 0; i < runs; i++) {
    const run = await runMeasured(rusage, [DENO, ...args, "rss", root], { piped: true });
    const count = run.status === 0
      ? JSON.parse(new TextDecoder().decode(run.stdout)).count
      : undefined;
    if (count !== entries) {
      throw new Error(`probe rss ${root}: status ${run.status}, count ${count}: ${run.stderr}`);
    }
    row.rssKiB.push(run.maxRssKiB);
    row.wall.push(run.wallMs);
  }
  return row;
}
