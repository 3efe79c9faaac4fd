/**
 * The report: the targets with their verdicts, one section per
 * measurement, and the chart's bars.  It only reads what bench/run.ts
 * measured; it runs nothing.  Formats and paired ratios: bench/format.ts.
 *
 * Ratios are paired: a ratio is computed within each round (the two
 * walkers ran back to back there), and the report gives the median of the
 * per-round ratios with their range, which the machine's drift over
 * minutes moves far less than a ratio of two medians.
 *
 * @module
 */

import type { InProcess, NopRow, RssRow } from "./inproc.ts";
import { type GlobComparison, globSection, globTargets } from "./globs.ts";
import type { IgnoredListing } from "./ignored.ts";
import type { Diagnostics, Layers } from "./layers.ts";
import { type PermRows, permSection, permTarget } from "./perms.ts";
import type { LagResult } from "./probe.ts";
import type { BarGroup } from "./svg.ts";
import {
  int,
  mb,
  med,
  msText,
  paired,
  pairedText,
  ratio,
  ratioTarget,
  sec,
  spread,
  table,
  type Target,
} from "./format.ts";
import { REPO, stats } from "./util.ts";
import type { Comparison, ToolRuns } from "./whole.ts";

/** Everything bench/run.ts measured. */
export interface Results {
  /** Rows of the machine-and-tools table. */
  machine: [string, string][];
  trees: { label: string; root: string; about: string }[];
  /** Trees the bench could not use, and why. */
  absent: { label: string; why: string }[];
  warm: Comparison[];
  cold: Comparison[];
  /** Why cold runs were not made, if they were not. */
  coldNote?: string;
  filters: Comparison[];
  inproc: InProcess[];
  /** glob() against expandGlob, tinyglobby and fast-glob (issue 10). */
  globs: GlobComparison[];
  /** The CLI's -gitignore against fd and git ls-files (issue 10). */
  ignored?: IgnoredListing;
  /** walk() under read flags (issue 13). */
  perms?: PermRows;
  /** Where the real @std/fs came from. */
  std: string;
  layers?: Layers;
  diagnostics?: Diagnostics;
  nops: NopRow[];
  lags: (LagResult & { tree: string })[];
  rss: RssRow[];
  /** The big tree (the RSS targets' tree). */
  big: { label: string; entries: number };
  footer: string;
}

/** A tool's runs by key (not when the CLI rejected the arguments). */
function byKey(c: Comparison | undefined, key: string): ToolRuns | undefined {
  return c?.runs.find((r) => r.tool.key === key && !r.unsupported);
}

/** The per-round minimum of several tools' walls. */
function fastestOf(runs: ToolRuns[]): number[] {
  return runs[0].wall.map((_, i) => Math.min(...runs.map((r) => r.wall[i])));
}

/** Medians of tools' walls as "ioq cli 0.512 s, bfs 0.251 s". */
function medians(runs: ToolRuns[]): string {
  return runs.map((r) => `${r.tool.label} ${med(r.wall, sec)} s`).join(", ");
}

/** The targets of issues 9, 10 and 13, from the results; `labels` are the trees they name. */
export function targets(res: Results, labels: string[]): Target[] {
  const out: Target[] = [];
  const why = (label: string, c?: Comparison, note = "not run") =>
    res.absent.find((a) => a.label === label)?.why ??
      (c?.mismatches.length ? `counts disagree: ${c.mismatches.join("; ")}` : note);
  for (
    const [kind, list, rivals, goal] of [
      ["warm", res.warm, ["bfs", "fd"], "≤ 1.0x the fastest of bfs and fd"],
      ["cold", res.cold, ["bfs-j4"], "≤ 1.0x bfs -j4"],
    ] as const
  ) {
    for (const label of labels) {
      const c = list.find((c) => c.tree === label);
      const ioq = byKey(c, "ioq");
      const others = rivals.flatMap((k) => byKey(c, k) ?? []);
      const x = ioq && others.length && !c?.mismatches.length
        ? paired(ioq.wall, fastestOf(others))
        : why(label, c, kind === "cold" ? res.coldNote : undefined);
      const over = others.length > 1 ? "the fastest" : others[0]?.tool.label;
      const text = ioq ? `${medians([ioq, ...others])} (medians); ioq ÷ ${over}` : "";
      out.push(ratioTarget(`CLI, whole process, ${kind}: ${label}`, goal, x, text, (r) => r <= 1));
    }
  }
  const goals = [
    ["std", "≥ 25x faster than the real @std/fs walk", 25],
    ["sync", "≥ 2x faster than a recursive Deno.readDirSync walk", 2],
    ["fdir-sync", "faster than npm fdir, sync", 1],
    ["fdir-async", "faster than npm fdir, async", 1],
  ] as const;
  for (const ip of res.inproc) {
    const walk = ip.walkers.find((w) => w.key === "walk")!;
    for (const [key, goal, min] of goals) {
      const other = ip.walkers.find((w) => w.key === key)!;
      const x = other.skipped ?? (ip.mismatches.join("; ") || paired(other.wall, walk.wall));
      const text = `walk() ${med(walk.wall, msText)} ms, ${other.label} ${
        med(other.wall, msText)
      } ms (medians); ${other.label} ÷ walk()`;
      const holds = (r: number) => min === 1 ? r > 1 : r >= min;
      out.push(ratioTarget(`walk() in process: ${ip.tree}`, goal, x, text, holds));
    }
  }
  const big = res.big.label;
  const rss = [
    ["CLI", 60, byKey(res.warm.find((c) => c.tree === big), "ioq")?.rss],
    ["walk()", 100, res.rss.find((r) => r.entries === res.big.entries && !r.v8Flags)?.rssKiB],
  ] as const;
  for (const [who, limit, kib] of rss) {
    const s = stats(kib ?? []);
    out.push({
      name: `peak RSS, ${big}: ${who}`,
      goal: `≤ ${limit} MB, no V8 flags`,
      measured: s.n
        ? `${mb(s.median)} MB = ${(s.median / 1024).toFixed(1)} MiB, median of ${s.n} runs ` +
          `(${spread(kib!, mb)} MB)`
        : `not measured: ${why(big)}`,
      holds: s.n ? s.median * 1024 <= limit * 1e6 : null,
    });
  }
  const lags = res.lags.filter((l) => l.walker === "ioq");
  const worst = Math.max(...lags.map((l) => l.maxMs));
  out.push({
    name: "event-loop lag during walk()",
    goal: "≤ 5 ms",
    measured: lags.length
      ? `largest 1 ms-timer delay ${worst.toFixed(2)} ms over ${lags.length} walks (` +
        lags.map((l) => `${l.tree}: ${l.maxMs.toFixed(2)}`).join(", ") + ")"
      : "not measured",
    holds: lags.length ? worst <= 5 : null,
  });
  for (const [id, who, limit] of [["4", "walk()", 150], ["5", "CLI", 30]] as const) {
    const layer = res.layers?.layers.find((l) => l.id === id && !l.skipped);
    const ns = stats((layer?.mainCpu ?? []).map((ms) => ms * 1e6 / res.layers!.entries));
    out.push({
      name: `main-thread CPU per entry: ${who}${res.layers ? ` (${res.layers.tree})` : ""}`,
      goal: `≤ ${limit} ns`,
      measured: ns.n
        ? `${ns.median.toFixed(0)} ns (${ns.min.toFixed(0)}–${ns.max.toFixed(0)})`
        : "not measured",
      holds: ns.n ? ns.median <= limit : null,
    });
  }
  const globbed = labels.filter((l) => l !== big);
  out.push(...globTargets(res.globs, globbed, (label) => why(label, undefined, "not run")));
  out.push(permTarget(res.perms));
  return out;
}

/** The targets table. */
function targetsTable(list: Target[]): string {
  const verdict = (h: boolean | null) => h === null ? "not measured" : h ? "holds" : "**misses**";
  return table(
    ["target", "goal", "measured", "verdict"],
    list.map((t) => [t.name, t.goal, t.measured, verdict(t.holds)]),
  );
}

/** Count mismatches and failed runs under a table. */
function problems(c: { mismatches: string[]; runs?: ToolRuns[] }): string {
  return c.mismatches.map((m) => `\n\n**Count mismatch**: ${m}`).join("") +
    (c.runs ?? []).flatMap((r) => r.failure ? [`\n\n**Failed run**: ${r.failure}`] : []).join("");
}

/** A whole-process comparison as a table, fastest first. */
function comparisonTable(c: Comparison): string {
  const ioq = byKey(c, "ioq");
  const rows = [...c.runs].sort((a, b) => stats(a.wall).median - stats(b.wall).median).map((r) =>
    r.unsupported
      ? [r.tool.label, "not supported by this CLI yet", r.unsupported, "", "", "", ""]
      : [
        r.tool.ioq ? `**${r.tool.label}**` : r.tool.label,
        r.count === null ? "—" : int(r.count),
        med(r.wall, sec),
        spread(r.wall, sec),
        med(r.cpu, sec),
        med(r.rss, (kib) => msText(kib / 1024)),
        ioq && !r.tool.ioq ? pairedText(paired(ioq.wall, r.wall)) : "",
      ]
  );
  const head = ["tool", "entries", "median s", "min–max s", "CPU s", "peak RSS MiB", "ioq ÷ tool"];
  return table(head, rows) + problems(c);
}

/** The ignore-aware listing's section. */
function ignoredSection(l: IgnoredListing): string[] {
  const c = l.comparison;
  return [
    `## Ignore-aware listing (issue 10): ${c.tree} (${c.rounds} rounds)`,
    "",
    `The repository bench/gitrepo.ts generates (\`${c.root.replace(`${REPO}/`, "")}\`: ` +
    `${l.about}): nested .gitignore files, a big ignored build/, node_modules/ at the top and ` +
    "in each package, .git/info/exclude. Whole processes as above, each listing the files " +
    "git lists, checked against the generator's plan: `git ls-files --others --cached " +
    "--exclude-standard`; the CLI with `-gitignore -type f`; fd, which honours .gitignore by " +
    "default, with `--hidden` (its default leaves dot files out, git does not), `--exclude " +
    ".git` (with `--hidden` it lists .git's own files) and `--type f` (git lists files only). " +
    "No user configuration: git with `GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1`, fd " +
    "with `HOME` and `XDG_CONFIG_HOME` an empty directory.",
    "",
    comparisonTable(c),
  ];
}

/** The predicate rows of one tree: the CLI, bfs and find. */
function filterTable(list: Comparison[]): string {
  const head = ["predicates", "ioq cli", "bfs", "find", "entries", "ioq ÷ fastest other"];
  return table(
    head,
    list.map((c) => {
      const cells = ["ioq", "bfs", "find"].map((k) => {
        const r = c.runs.find((x) => x.tool.key === k);
        if (r?.unsupported) return "not supported by this CLI yet";
        return r ? `${med(r.wall, sec)} s (${spread(r.wall, sec)})` : "—";
      });
      const ioq = byKey(c, "ioq");
      const others = ["bfs", "find"].flatMap((k) => byKey(c, k) ?? []);
      const counts = [...new Set(c.runs.flatMap((r) => r.count ?? []))].map(int).join(" / ");
      return [
        `\`${c.predicates.map((p) => p === c.root ? "ROOT" : p).join(" ")}\``,
        ...cells,
        counts + (c.mismatches.length ? " **(disagree)**" : ""),
        ioq && others.length ? pairedText(paired(ioq.wall, fastestOf(others))) : "—",
      ];
    }),
  );
}

/** The in-process comparison of one tree. */
function inprocTable(ip: InProcess): string {
  const walk = ip.walkers.find((w) => w.key === "walk")!;
  const head = ["walker", "median ms", "min–max ms", "main-thread CPU ms", "÷ walk() per round"];
  return table(
    head,
    ip.walkers.map((w) =>
      w.skipped ? [w.label, `skipped: ${w.skipped}`, "", "", ""] : [
        w.key === "walk" ? `**${w.label}**` : w.label,
        med(w.wall, msText),
        spread(w.wall, msText),
        med(w.mainCpu, msText),
        w.key === "walk" ? "" : pairedText(paired(w.wall, walk.wall)),
      ]
    ),
  ) + problems(ip);
}

/** The layer table, with what each layer adds to the one it names. */
function layerTable(ls: Layers): string {
  const head = "#|layer|adds|wall ms|min–max|Δ wall ms|CPU ms|main-thread CPU ms|" +
    "main-thread ns per entry|dirs opened|1st walk, fresh process, ms";
  const wall = new Map(ls.layers.map((l) => [l.id, stats(l.wall).median]));
  return table(
    head.split("|"),
    ls.layers.map((l) => {
      if (l.skipped) return [l.id, l.name, `skipped: ${l.skipped}`, ...Array(8).fill("")];
      const delta = l.base ? wall.get(l.id)! - wall.get(l.base)! : NaN;
      return [
        l.id,
        l.name,
        l.adds,
        med(l.wall, msText),
        spread(l.wall, msText),
        l.base ? `${delta < 0 ? "−" : "+"}${msText(Math.abs(delta))} vs ${l.base}` : "",
        med(l.cpu, msText),
        med(l.mainCpu, msText),
        l.counts ? med(l.mainCpu, (ms) => msText(ms * 1e6 / ls.entries)) : "—",
        l.opens === undefined ? "—" : int(l.opens),
        med(l.fresh, msText),
      ];
    }),
  );
}

/** The CLI's diagnostic runs. */
function diagnosticsText(d: Diagnostics): string[] {
  const lines: string[] = [];
  const p = d.profile;
  if (p) {
    const top = p.top.map((f) => `${f.name}${f.where ? ` (${f.where})` : ""} ${msText(f.ms)} ms`);
    lines.push(
      `Main thread of one CLI run (\`--cpu-prof --cpu-prof-interval=100\`): ` +
        `${msText(p.totalMs)} ms sampled: busy ${msText(p.totalMs - p.idleMs)} ms (garbage ` +
        `collector ${msText(p.gcMs)}, V8 and Deno native code ${msText(p.programMs)}), idle ` +
        `${msText(p.idleMs)} ms. Most self time: ${top.join(", ")}.`,
    );
  }
  const t = d.threads;
  if (t) {
    const groups = new Map<string, { n: number; cpu: number; slices: number }>();
    for (const th of t.threads) {
      const name = th.comm.replace(/[0-9]+$/, "#");
      const g = groups.get(name) ?? { n: 0, cpu: 0, slices: 0 };
      groups.set(name, { n: g.n + 1, cpu: g.cpu + th.cpuMs, slices: g.slices + th.slices });
    }
    lines.push(
      "",
      `Threads of one more CLI run (\`bench/rusage.c -p 1000\`: /proc/PID/task/TID/schedstat ` +
        `every 1 ms; ${msText(t.wallMs)} ms wall, ${msText(t.userMs + t.sysMs)} ms CPU in all). ` +
        `"Scheduled in" counts wake-ups and preemptions.`,
      "",
      table(
        ["thread name", "threads", "CPU ms", "scheduled in"],
        [...groups].sort((a, b) => b[1].cpu - a[1].cpu)
          .map(([name, g]) => [name, String(g.n), msText(g.cpu), int(g.slices)]),
      ),
    );
  }
  for (const e of d.errors) lines.push("", `**Diagnostic run failed**: ${e}`);
  return lines;
}

/** What each lag probe runs. */
const LAG_WORK: Record<string, string> = {
  ioq: "ioq walk(), the library loaded first",
  load: "loading the library (once per process)",
  sync: "recursive readDirSync (blocks, for contrast)",
  idle: "idle 500 ms (the timer's own noise)",
};

/** The report, markdown. */
export function render(res: Results, list: Target[]): string {
  const out: string[] = [];
  const push = (...s: string[]) => out.push(...s);
  const sources = [...new Set(res.inproc[0]?.walkers.flatMap((w) => w.source ?? []))];
  push(
    "## The targets (issues 9, 10 and 13; reported, never asserted)",
    "",
    targetsTable(list),
    "",
    "## Machine and tools",
    "",
    table(["", ""], res.machine),
    "",
    ...res.trees.map((t) => `- **${t.label}** (\`${t.root}\`): ${t.about}`),
    ...res.absent.map((a) => `- **${a.label}**: not used: ${a.why}`),
    "",
    "## Whole process, warm",
    "",
    "Each tool as a process through bench/rusage.c (wall time fork → wait4; CPU = user + system " +
      "of every thread; peak RSS = ru_maxrss), output to /dev/null: a counting round, then " +
      "rounds alternating the tools. \"ioq ÷ tool\": the ioq CLI's time over the tool's, the " +
      "median of the per-round ratios (min–max).",
  );
  for (const c of res.warm) push("", `### ${c.tree} (${c.rounds} rounds)`, "", comparisonTable(c));
  push(
    "",
    "## Whole process, cold",
    "",
    res.coldNote ? `Not measured: ${res.coldNote}.` : "Before each timed run: `sync; echo 3 > " +
      "/proc/sys/vm/drop_caches`, then the same tool on an empty directory (its binary, " +
      "libraries and code cache back in memory): only the tree is cold. The virtual machine's " +
      "host may still cache its disk.",
  );
  for (const c of res.cold) push("", `### ${c.tree} (${c.rounds} rounds)`, "", comparisonTable(c));
  push(
    "",
    "## Predicates (issue 11): the CLI, bfs and find",
    "",
    "Warm, as above. `-newer ROOT` compares with the tree's root. A CLI that exits with status 2 " +
      'rejects the predicate: "not supported by this CLI yet".',
  );
  for (const tree of new Set(res.filters.map((c) => c.tree))) {
    const list = res.filters.filter((c) => c.tree === tree);
    push("", `### ${tree} (${list[0].rounds} rounds)`, "", filterTable(list));
  }
  if (res.ignored) push("", ...ignoredSection(res.ignored));
  push(
    "",
    "## In process",
    "",
    `One Deno process (bench/probe.ts), a warm-up round, then rounds alternating the walkers, ` +
      `each counting the tree's entries. The real @std/fs: ${res.std}. ${sources.join("; ")}.`,
  );
  for (const ip of res.inproc) {
    push("", `### ${ip.tree} (${ip.rounds} rounds)`, "", inprocTable(ip));
  }
  if (res.globs.length) push("", ...globSection(res.globs, res.std));
  if (res.perms) push("", ...permSection(res.perms));
  if (res.layers) {
    const ls = res.layers;
    push(
      "",
      `## Where the time goes (${ls.tree}, ${ls.rounds} rounds)`,
      "",
      `Every layer walks the whole tree (${int(ls.entries)} entries, checked); the layers ` +
        `alternate in the same rounds after a warm-up round. C programs walk twice per process: ` +
        `the second walk is the measurement, the first the last column. The JS layers run in ` +
        `one warm Deno process: CPU from getrusage through FFI, RUSAGE_THREAD for the main ` +
        `thread. The queue: ${ls.backend}, ${ls.workers} workers. "dirs opened": the engine's ` +
        `counter (floor.c counts its own openat calls).`,
      "",
      layerTable(ls),
    );
    if (res.diagnostics) push("", ...diagnosticsText(res.diagnostics));
  }
  push(
    "",
    "## IoQueue NOP throughput (batches of NOPs requested, then popped, for 300 ms)",
    "",
    table(
      ["backend", "batch", "completions/s"],
      res.nops.map((n) => [n.backend, String(n.batch), int(n.perSecond)]),
    ),
    "",
    "## Event-loop lag (a 1 ms setInterval during one walk, a fresh process each)",
    "",
    table(
      ["tree", "what runs", "time ms", "ticks", "largest delay ms", "p99 delay ms"],
      res.lags.map((l) => [
        l.tree,
        LAG_WORK[l.walker] ?? l.walker,
        msText(l.workMs),
        int(l.ticks),
        l.maxMs.toFixed(2),
        l.p99Ms.toFixed(2),
      ]),
    ),
    "",
    "## Peak RSS of walk() (fresh processes, ru_maxrss through bench/rusage.c)",
    "",
    table(
      ["process", "runs", "peak RSS MB (median)", "min–max MB", "wall ms"],
      res.rss.map((r) => [
        r.label + (r.v8Flags ? ` with \`--v8-flags=${r.v8Flags}\` (not the target's row)` : ""),
        String(r.rssKiB.length),
        med(r.rssKiB, mb),
        spread(r.rssKiB, mb),
        med(r.wall, msText),
      ]),
    ),
    "",
    "The CLI's peak RSS: the whole-process tables above.",
    "",
    res.footer,
  );
  return out.join("\n") + "\n";
}

/** The chart's groups: the warm whole-process medians per tree. */
export function chartGroups(res: Results): BarGroup[] {
  return res.warm.map((c) => {
    const ioq = byKey(c, "ioq");
    const bars = c.runs.filter((r) => !r.unsupported).map((r) => {
      const s = stats(r.wall);
      const x = ioq && !r.tool.ioq ? ratio(paired(ioq.wall, r.wall).median) : "";
      const note = x && `ioq ÷ ${r.tool.label}: ${x}`;
      return { label: r.tool.label, ...s, note, highlight: r.tool.ioq };
    });
    return { title: c.tree, bars: bars.sort((a, b) => a.median - b.median) };
  });
}
