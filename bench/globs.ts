/**
 * `glob()` in process (issue 10): ioq's `glob()` against the real `@std/fs`
 * `expandGlob`, npm tinyglobby and npm fast-glob, all in one Deno process
 * (bench/probe.ts `serve`, bench/globbers.ts), on the same tree, for a deep
 * pattern (`**\/*.c`), a shallow one (`*\/*.json`) and one under a literal
 * prefix (`drivers/**\/*.h`); a warm-up round, then rounds alternating the
 * globbers.
 *
 * Every globber must count what `expandGlob` yields (`glob()`'s reference),
 * except one documented difference: tinyglobby with `followSymbolicLinks:
 * false` hands fdir `excludeSymlinks`, which leaves every symlink out of
 * its results, so it must count that many fewer (`glob()` counts the
 * symlinks among its matches).
 *
 * Directories opened: the engine's own counter for `glob()` (its walk run
 * once more on the engine alone: io_uring's opens are no system calls
 * strace could see); for the others, `strace -f -e trace=openat` of one
 * glob in a fresh process (bench/probe.ts `glob-once`), counting the
 * `openat` calls with `O_DIRECTORY` on a path in the tree.
 *
 * @module
 */

import { type Probe, probeArgs, type StdSource, type WalkerRuns } from "./inproc.ts";
import type { Globbed } from "./globbers.ts";
import type { Measured } from "./probe.ts";
import { int, med, msText, paired, pairedText, spread, table, type Target } from "./format.ts";
import { alternate, DENO, progress, REPO, type Stats, which } from "./util.ts";

/** A tree's patterns: deep, shallow, under a literal prefix. */
export interface GlobPatterns {
  deep: string;
  shallow: string;
  prefixed: string;
}

/** The patterns on the synthetic trees (bench/tree_plan.ts's names) and on Linux. */
export const SYNTHETIC_PATTERNS: GlobPatterns = {
  deep: "**/*.c",
  shallow: "*/*.json",
  prefixed: "kernel/**/*.ts",
};
export const LINUX_PATTERNS: GlobPatterns = {
  deep: "**/*.c",
  shallow: "*/Kconfig",
  prefixed: "drivers/**/*.h",
};

/** The globbers, `glob()` first (the ratios' reference). */
const GLOBBERS: { key: string; label: string }[] = [
  { key: "ioq", label: "ioq glob()" },
  { key: "std-glob", label: "@std/fs expandGlob" },
  { key: "tinyglobby", label: "npm tinyglobby" },
  { key: "fast-glob", label: "npm fast-glob" },
];

/** One globber's runs of one pattern. */
export interface GlobberRuns extends Omit<WalkerRuns, "count"> {
  /** Matches it counted (its last run). */
  count?: number;
  /** Directories opened, or why that is not known. */
  opens: number | string;
}

/** One pattern on one tree. */
export interface GlobComparison {
  tree: string;
  pattern: string;
  /** deep, shallow or prefixed. */
  kind: keyof GlobPatterns;
  rounds: number;
  /** What expandGlob counted (else glob()), and the symlinks among glob()'s matches. */
  expected?: number;
  symlinks?: number;
  globbers: GlobberRuns[];
  /** Counts that disagree, as messages. */
  mismatches: string[];
}

/** Loads the globbers into the probe: each with where it came from, or why it is skipped. */
export async function loadGlobbers(probe: Probe, std: StdSource): Promise<GlobberRuns[]> {
  const spec = std.spec.replace(/\/walk$/, "/expand-glob");
  const sources = await probe.run<Record<string, { source?: string; error?: string }>>(
    ["load-globbers", spec, ...(std.folder ? [std.folder] : [])],
  );
  return GLOBBERS.map(({ key, label }) => ({
    key,
    label,
    source: key === "ioq" ? undefined : sources[key]?.source,
    skipped: key === "ioq"
      ? undefined
      : sources[key]?.error ?? (sources[key] ? undefined : "the probe did not load it"),
    wall: [],
    mainCpu: [],
    opens: "not measured",
  }));
}

/**
 * How many directories a globber opened in a fresh process, counted by
 * strace, or why not (also when that run did not count `expected` matches).
 */
async function straced(
  key: string,
  root: string,
  pattern: string,
  std: StdSource,
  expected: number | undefined,
): Promise<number | string> {
  const strace = which("strace");
  if (!strace) return "not measured: strace is not installed (apt-get install strace)";
  const log = Deno.makeTempFileSync({ prefix: "ioq-bench-strace-" });
  try {
    const spec = std.spec.replace(/\/walk$/, "/expand-glob");
    const folder = std.folder ? [std.folder] : [];
    const out = await new Deno.Command(strace, {
      args: ["-f", "-qq", "-e", "trace=openat,open", "-e", "signal=none", "-o", log, DENO]
        .concat(probeArgs(std), ["glob-once", key, root, pattern, spec], folder),
      cwd: REPO,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-2).join(" / ");
      return `not measured: strace run failed: ${text}`;
    }
    const count = JSON.parse(new TextDecoder().decode(out.stdout)).count;
    if (count !== expected) {
      return `not measured: the run under strace counted ${count} matches, not ${expected}`;
    }
    // `PID openat(AT_FDCWD, "PATH", ...O_DIRECTORY...`: the call's line, or its "<unfinished ...>" half
    const quoted = JSON.stringify(root).slice(0, -1);
    let opens = 0;
    for (const line of Deno.readTextFileSync(log).split("\n")) {
      if (line.includes("O_DIRECTORY") && line.includes(quoted)) opens++;
    }
    return opens;
  } finally {
    Deno.removeSync(log);
  }
}

/**
 * Runs the globbers on one tree's patterns in alternating rounds, after a
 * warm-up round, then counts the directories each opened.
 */
export async function globTree(
  probe: Probe,
  loaded: GlobberRuns[],
  std: StdSource,
  tree: string,
  root: string,
  patterns: GlobPatterns,
  rounds: number,
): Promise<GlobComparison[]> {
  const out: GlobComparison[] = [];
  for (const [kind, pattern] of Object.entries(patterns) as [keyof GlobPatterns, string][]) {
    const globbers = loaded.map((g) => ({ ...g, wall: [], mainCpu: [] }) as GlobberRuns);
    const c: GlobComparison = { tree, pattern, kind, rounds, globbers, mismatches: [] };
    const live = globbers.filter((g) => !g.skipped);
    await alternate(live, rounds, async (g, round) => {
      const when = round < 0 ? "warm-up round" : `round ${round + 1} of ${rounds}`;
      progress(`bench: glob ${pattern}, ${tree}: ${g.label}, ${when}`, false);
      const m = await probe.run<Measured & Globbed & { error?: string }>(
        ["glob", g.key, root, pattern],
      );
      if (m.error) throw new Error(`${g.label} ${pattern} on ${root}: ${m.error}`);
      if (g.count !== undefined && g.count !== m.count) {
        c.mismatches.push(`${g.label} counted ${m.count}, then ${g.count}`);
      }
      g.count = m.count;
      if (m.symlinks !== undefined) c.symlinks = m.symlinks;
      if (round < 0) return;
      g.wall[round] = m.wallMs;
      g.mainCpu[round] = m.mainCpuMs;
    }, true);
    check(c);
    progress(`bench: glob ${pattern}, ${tree}: directories opened`, false);
    for (const g of live) {
      if (g.key === "ioq") {
        const e = await probe.run<Globbed & { error?: string }>(["glob-opens", root, pattern]);
        g.opens = e.error ? `not measured: ${e.error.split("\n")[0]}` : e.opens!;
        if (e.count !== g.count) {
          c.mismatches.push(`the engine alone reported ${e.count} matches, glob() ${g.count}`);
        }
      } else {
        g.opens = await straced(g.key, root, pattern, std, g.count);
      }
    }
    out.push(c);
  }
  return out;
}

/** Checks every count against expandGlob's (else glob()'s), tinyglobby's less the symlinks. */
function check(c: GlobComparison): void {
  const by = (key: string) => c.globbers.find((g) => g.key === key && g.count !== undefined);
  const reference = by("std-glob") ?? by("ioq");
  c.expected = reference?.count;
  if (c.expected === undefined) return;
  if (c.expected === 0) c.mismatches.push(`${c.pattern} matches nothing on this tree`);
  for (const g of c.globbers) {
    if (g.count === undefined) continue;
    const want = g.key === "tinyglobby" ? c.expected - (c.symlinks ?? 0) : c.expected;
    if (g.count !== want) {
      c.mismatches.push(`${g.label} counted ${int(g.count)}, expected ${int(want)}`);
    }
  }
}

/** The goals: against each rival, on every pattern. */
const GOALS = [
  ["std-glob", "≥ 25x faster than the real @std/fs expandGlob, every pattern", 25],
  ["tinyglobby", "faster than npm tinyglobby, every pattern", 1],
  ["fast-glob", "faster than npm fast-glob, every pattern", 1],
] as const;

/**
 * The targets of issue 10's glob rows: per tree and rival, every pattern
 * must hold; `absent` says why a tree has no rows.
 */
export function globTargets(
  list: GlobComparison[],
  trees: string[],
  absent: (tree: string) => string,
): Target[] {
  const out: Target[] = [];
  for (const tree of trees) {
    const cases = list.filter((c) => c.tree === tree);
    for (const [key, goal, min] of GOALS) {
      const name = `glob() in process: ${tree}`;
      const label = GLOBBERS.find((g) => g.key === key)!.label;
      const parts = cases.map((c) => {
        const ioq = c.globbers.find((g) => g.key === "ioq")!;
        const other = c.globbers.find((g) => g.key === key)!;
        if (other.skipped) return other.skipped;
        if (c.mismatches.length) return `counts disagree: ${c.mismatches.join("; ")}`;
        return { pattern: c.pattern, x: paired(other.wall, ioq.wall) };
      });
      const why = cases.length ? parts.find((p) => typeof p === "string") : absent(tree);
      if (why !== undefined) {
        out.push({ name, goal, measured: `not measured: ${why}`, holds: null });
        continue;
      }
      const ratios = parts as { pattern: string; x: Stats }[];
      out.push({
        name,
        goal,
        measured: ratios.map((r) => `\`${r.pattern}\` ${pairedText(r.x)}`).join(", ") +
          ` (${label} ÷ glob(), median of the per-round ratios, min–max)`,
        holds: ratios.every((r) => min === 1 ? r.x.median > 1 : r.x.median >= min),
      });
    }
  }
  return out;
}

/** The report's section: a table per tree. */
export function globSection(list: GlobComparison[], std: string): string[] {
  if (list.length === 0) return [];
  const sources = [...new Set(list[0].globbers.flatMap((g) => g.source ?? []))];
  const lines = [
    "## glob() in process (issue 10)",
    "",
    "One Deno process (bench/probe.ts), per pattern a warm-up round, then rounds alternating the " +
    "globbers, each counting the pattern's matches below the tree's root (directories and dot " +
    "files included, no symlink followed: expandGlob's defaults, which tinyglobby and " +
    "fast-glob are given: `dot: true, onlyFiles: false, followSymbolicLinks: false`, and " +
    "tinyglobby `expandDirectories: false`). Counts are checked against expandGlob's; " +
    "tinyglobby must count the matching symlinks fewer (with `followSymbolicLinks: false` it " +
    "sets fdir's `excludeSymlinks`, which leaves symlinks out). \"dirs opened\": the engine's " +
    "counter for glob(); for the others, `openat` calls with `O_DIRECTORY` on the tree under " +
    `\`strace -f\`, one glob in a fresh process. The real @std/fs: ${std}. ` +
    `${sources.join("; ")}.`,
  ];
  for (const tree of new Set(list.map((c) => c.tree))) {
    const cases = list.filter((c) => c.tree === tree);
    const head = [
      "pattern",
      "globber",
      "matches",
      "median ms",
      "min–max ms",
      "main-thread CPU ms",
      "dirs opened",
      "÷ glob() per round",
    ];
    const rows = cases.flatMap((c) => {
      const ioq = c.globbers.find((g) => g.key === "ioq")!;
      return c.globbers.map((g) =>
        g.skipped
          ? [`\`${c.pattern}\` (${c.kind})`, g.label, `skipped: ${g.skipped}`, "", "", "", "", ""]
          : [
            `\`${c.pattern}\` (${c.kind})`,
            g.key === "ioq" ? `**${g.label}**` : g.label,
            g.count === undefined ? "—" : int(g.count),
            med(g.wall, msText),
            spread(g.wall, msText),
            med(g.mainCpu, msText),
            typeof g.opens === "number" ? int(g.opens) : g.opens,
            g.key === "ioq" ? "" : pairedText(paired(g.wall, ioq.wall)),
          ]
      );
    });
    const notes = cases.flatMap((c) =>
      c.mismatches.map((m) => `\n\n**Count mismatch** (\`${c.pattern}\`): ${m}`)
    );
    lines.push(
      "",
      `### ${tree} (${cases[0].rounds} rounds)`,
      "",
      table(head, rows) + notes.join(""),
    );
  }
  return lines;
}
