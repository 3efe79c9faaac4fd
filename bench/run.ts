/**
 * `deno task bench`: every benchmark of ioq, one report with the targets of
 * issues 9, 10 and 13.  See bench/README.md for what each row measures.
 *
 * ```sh
 * deno task bench [--rounds 5] [--big-rounds 3] [--cold-rounds 3] [--no-big] [--tree PATH]...
 * ```
 *
 * Steps: build what is missing (the library, the C programs); make or reuse
 * the synthetic trees (200,000 and 1,000,000 entries) and find the Linux
 * source under bench/.cache; then, on those trees: in process (`walk()` vs
 * @std/fs, readDirSync, fdir; `glob()` vs expandGlob, tinyglobby,
 * fast-glob), the layer table and the CLI's diagnostic runs, NOP
 * throughput, the event-loop lag, peak RSS, whole processes warm (the CLI
 * vs bfs, fd and find), with predicates (vs bfs and find), the
 * ignore-aware listing of a generated git repository (the CLI vs fd and
 * git ls-files), `walk()` under scoped read permissions, and cold (vs bfs
 * -j4) last, since it drops the caches.  The report goes to
 * stdout and to bench/results/<date>-<host>.md, with a chart of the warm
 * medians (<date>-<host>.svg and latest.svg).
 *
 * @module
 */

import { inProcess, lagProbe, loadWalkers, nops, Probe, rssProbe, stdSource } from "./inproc.ts";
import { globTree, LINUX_PATTERNS, loadGlobbers, SYNTHETIC_PATTERNS } from "./globs.ts";
import { ensureGitRepo } from "./gitrepo.ts";
import { compareIgnored, ignoreTools } from "./ignored.ts";
import { diagnose, measureLayers } from "./layers.ts";
import { measurePerms } from "./perms.ts";
import { benchPrograms, ensureLibrary } from "./native.ts";
import { int } from "./format.ts";
import { chartGroups, render, type Results, targets } from "./report.ts";
import { barChart } from "./svg.ts";
import { describe, ensureTree } from "./tree.ts";
import { DEFAULT_PARAMS } from "./tree_plan.ts";
import { CACHE, DENO, exists, output, parseFlags, progress, REPO } from "./util.ts";
import { compare, dropCaches, toolbox } from "./whole.ts";

const SECTIONS = "inproc,glob,layers,lag,rss,warm,filters,ignore,perms,cold";

const USAGE = `Usage: deno task bench [options]

Runs every ioq benchmark; writes bench/results/<date>-<host>.{md,svg} and latest.svg.
  --rounds N        rounds on the 200,000-entry and Linux trees (default 5; predicates and
                    globs: at most 3)
  --big-rounds N    rounds on the 1,000,000-entry tree (default 3)
  --cold-rounds N   cold rounds per tree (default 3; at most --big-rounds on the big tree)
  --no-big          leave out the 1,000,000-entry tree (its targets: not measured)
  --no-cold         leave out the cold runs
  --tree PATH       also compare whole processes on PATH, warm (repeatable)
  --jobs N          tree generator workers (default: CPUs, at most 4)
  --only LIST       run only these sections, comma-separated (default: all of
                    ${SECTIONS})
  --no-save         print the report only
`;

/** The V8 flag of the extra RSS row: V8's young generation capped at 4 MiB a semispace. */
const SMALL_YOUNG_GEN = "--max-semi-space-size=4";

const flags = (() => {
  try {
    return parseFlags(Deno.args, {
      rounds: "number",
      "big-rounds": "number",
      "cold-rounds": "number",
      "no-big": "boolean",
      "no-cold": "boolean",
      tree: "strings",
      jobs: "number",
      only: "string",
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
const rounds = Math.max(1, (flags.rounds as number | undefined) ?? 5);
const bigRounds = Math.max(1, (flags["big-rounds"] as number | undefined) ?? 3);
const coldRounds = Math.max(1, (flags["cold-rounds"] as number | undefined) ?? 3);
const only = new Set(((flags.only as string | undefined) ?? SECTIONS).split(","));
const say = (m: string) => progress(`bench: ${m}`);
const loadavg = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
const loadBefore = loadavg();

// What the bench needs
const library = await ensureLibrary();
say("building the C programs (zig build bench-walk)");
const programs = await benchPrograms();
const jobs = flags.jobs as number | undefined;
const small = await ensureTree({ entries: DEFAULT_PARAMS.entries }, { jobs });
const smallLabel = `synthetic ${int(small.manifest.stats.total)}`;
const bigEntries = 1_000_000;
const bigLabel = `synthetic ${int(bigEntries)}`;
/** The sections that use the big tree; with --only and none of them, it is not made. */
const bigUsers = ["lag", "rss", "warm", "filters", "cold"].filter((s) => only.has(s));
const big = flags["no-big"] || bigUsers.length === 0
  ? undefined
  : await ensureTree({ entries: bigEntries }, { jobs });
const { tools, versions, missing } = await toolbox();
const pick = (...keys: string[]) => tools.filter((t) => keys.includes(t.key));

/** A tree the bench walks: its label, root, entries (null: unknown) and rounds. */
interface Walked {
  label: string;
  root: string;
  entries: number | null;
  rounds: number;
}

/** The Linux source when it is extracted, with find's count of it; else why not. */
async function linuxTree(label: string): Promise<Walked | { label: string; why: string }> {
  const root = `${CACHE}/linux/linux-source-6.1`;
  if (!exists(root)) {
    return {
      label,
      why: "not extracted at bench/.cache/linux/linux-source-6.1: `cd bench/.cache && apt-get " +
        "download linux-source-6.1 && mkdir -p linux && dpkg-deb --fsys-tarfile " +
        "linux-source-6.1_*.deb | tar -xO ./usr/src/linux-source-6.1.tar.xz | tar -xJ -C linux`",
    };
  }
  const find = pick("find")[0];
  const out = find ? await output(find.pre[0], [root]) : undefined;
  return { label, root, entries: out ? out.stdout.split("\n").length - 1 : null, rounds };
}

const linux = await linuxTree("Linux 6.1 source");
const absent: Results["absent"] = "why" in linux ? [linux] : [];
if (!big) {
  absent.push({
    label: bigLabel,
    why: flags["no-big"] ? "left out (--no-big)" : "left out (no section of --only uses it)",
  });
}
const trees: Walked[] = [
  { label: smallLabel, root: small.root, entries: small.manifest.stats.total, rounds },
  ...("why" in linux ? [] : [linux]),
  ...big ? [{ label: bigLabel, root: big.root, entries: bigEntries, rounds: bigRounds }] : [],
];
const std = stdSource();
const res: Results = {
  machine: [],
  trees: [],
  absent,
  warm: [],
  cold: [],
  filters: [],
  inproc: [],
  globs: [],
  std: std.label,
  nops: [],
  lags: [],
  rss: [],
  big: { label: bigLabel, entries: bigEntries },
  footer: "",
};

/** Seconds each section took, for the footer. */
const timings: string[] = [];

/** Runs a section when --only allows it, and times it. */
async function section(name: string, run: () => Promise<void>): Promise<void> {
  if (!only.has(name)) return;
  const t0 = performance.now();
  await run();
  timings.push(`${name} ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

/** The probe process of the in-process and layer sections, started on first use. */
let probe: Probe | undefined;
const probeOf = () => probe ??= new Probe(std);

/** The globbers' sources, once loaded (for the machine table). */
let globSources: { label: string; source?: string; skipped?: string }[] = [];

/** Predicates for progress lines (" -newer ROOT"). */
const shown = (predicates: string[], root: string) =>
  predicates.map((p) => ` ${p === root ? "ROOT" : p}`).join("");

/** Compares tools on a tree, warm or cold. */
const comparisons = async (t: Walked, keys: string[], predicates: string[] = [], cold = false) =>
  await compare(t.label, t.root, pick(...keys), {
    rusage: programs.rusage,
    rounds: t.rounds,
    predicates,
    expected: t.entries ?? undefined,
    cold,
    say: (m) =>
      progress(`bench: ${cold ? "cold" : "warm"}${shown(predicates, t.root)}, ${m}`, false),
  });

try {
  await section("inproc", async () => {
    const walkers = await loadWalkers(probeOf(), std);
    for (const t of trees.filter((t) => t.label !== bigLabel && t.entries)) {
      res.inproc.push(await inProcess(probeOf(), walkers, t.label, t.root, t.entries!, t.rounds));
    }
    say("NOP throughput");
    res.nops = await nops(probeOf());
  });
  await section("glob", async () => {
    const globbers = await loadGlobbers(probeOf(), std);
    globSources = globbers;
    for (const t of trees.filter((t) => t.label !== bigLabel)) {
      const patterns = t.label === linux.label ? LINUX_PATTERNS : SYNTHETIC_PATTERNS;
      // At most 3 rounds: expandGlob takes seconds a pattern
      const r = Math.min(t.rounds, 3);
      res.globs.push(...await globTree(probeOf(), globbers, std, t.label, t.root, patterns, r));
    }
  });
  await section("layers", async () => {
    const total = small.manifest.stats.total;
    res.layers = await measureLayers(probeOf(), programs, smallLabel, small.root, total, rounds);
    say("the CLI's diagnostic runs (--cpu-prof, threads)");
    res.diagnostics = await diagnose(small.root, programs);
  });
} finally {
  await probe?.close();
}
await section("lag", async () => {
  say("event-loop lag");
  for (const walker of ["idle", "load", "sync", "ioq", "ioq", "ioq"]) {
    res.lags.push({ ...await lagProbe(small.root, walker), tree: smallLabel });
  }
  if (big) res.lags.push({ ...await lagProbe(big.root, "ioq"), tree: bigLabel });
});
await section("rss", async () => {
  say("peak RSS");
  const rss = (label: string, root: string, entries: number, runs = 3, v8Flags?: string) =>
    rssProbe(programs.rusage, label, root, entries, runs, v8Flags);
  res.rss.push(await rss("the library loaded, a queue opened", "-", 0));
  res.rss.push(await rss(`walk() of ${smallLabel}`, small.root, small.manifest.stats.total));
  if (big) {
    res.rss.push(await rss(`walk() of ${bigLabel}`, big.root, bigEntries));
    res.rss.push(await rss(`walk() of ${bigLabel}`, big.root, bigEntries, 1, SMALL_YOUNG_GEN));
  }
});
await section("warm", async () => {
  const empty = `${CACHE}/empty`;
  Deno.mkdirSync(empty, { recursive: true });
  const extra = ((flags.tree as string[] | undefined) ?? [])
    .map((root) => ({ label: root, root, entries: null, rounds }));
  const start = { label: "empty directory (start-up)", root: empty, entries: 1, rounds };
  const plain = ["ioq", "ioq-count", "bfs", "fd", "find"];
  for (const t of [start, ...trees, ...extra]) res.warm.push(await comparisons(t, plain));
});
await section("filters", async () => {
  for (const t of trees) {
    // Not targets: 3 rounds at most, 1 on the big tree
    const once = { ...t, entries: null, rounds: t.label === bigLabel ? 1 : Math.min(rounds, 3) };
    for (
      const predicates of [["-name", "*.c"], ["-type", "f", "-size", "+10k"], ["-newer", t.root]]
    ) {
      res.filters.push(await comparisons(once, ["ioq", "bfs", "find"], predicates));
    }
  }
});
await section("ignore", async () => {
  const repo = await ensureGitRepo();
  const listing = await ignoreTools();
  Object.assign(versions, listing.versions);
  missing.push(...listing.missing);
  const say = (m: string) => progress(`bench: ignore-aware listing, ${m}`, false);
  res.ignored = await compareIgnored(repo, listing.tools, programs.rusage, rounds, say);
  res.trees.push({ label: "generated git repository", root: repo.root, about: res.ignored.about });
});
await section("perms", async () => {
  res.perms = await measurePerms(smallLabel, small.root, small.manifest.stats.total, rounds);
});
// Cold, last: it drops the caches
res.coldNote = flags["no-cold"] || !only.has("cold") ? "left out (--no-cold or --only)" : undefined;
await section("cold", async () => {
  if (res.coldNote) return;
  const why = Deno.uid() !== 0 ? "not root: the caches cannot be dropped" : await dropCaches();
  if (why) res.coldNote = why;
  for (const t of why ? [] : trees) {
    const cold = { ...t, rounds: Math.min(coldRounds, t.rounds) };
    res.cold.push(await comparisons(cold, ["ioq", "bfs-j4"], [], true));
  }
});
say("done");

// The report
const cpu = (await output("sh", ["-c", "grep -m1 'model name' /proc/cpuinfo"])).stdout;
const date = new Date().toISOString().slice(0, 10);
const host = Deno.hostname().replace(/[^A-Za-z0-9._-]/g, "_") || "host";
const std0 = res.inproc[0]?.walkers.find((w) => w.key === "std");
const fdir0 = res.inproc[0]?.walkers.find((w) => w.key === "fdir-sync");
res.machine = [
  [
    "CPU",
    `${cpu.replace(/^.*:\s*/, "").trim()}, ${navigator.hardwareConcurrency} CPUs, ${
      (Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1)
    } GiB`,
  ],
  ["kernel", Deno.osRelease()],
  ["Deno", `${Deno.version.deno} (V8 ${Deno.version.v8})`],
  ...Object.entries(versions),
  ...missing.map((m) => ["missing", m] as [string, string]),
  ["@std/fs", std0?.source ?? std0?.skipped ?? `${std.label} (not loaded)`],
  ["fdir", fdir0?.source ?? fdir0?.skipped ?? "not loaded"],
  ...globSources.filter((g) => g.source || g.skipped)
    .map((g) => [g.label, g.source ?? g.skipped!] as [string, string]),
  ["ioq library", library],
  ["load average", `${loadBefore} at the start, ${loadavg()} at the end (1, 5, 15 min)`],
];
res.trees = [
  { label: smallLabel, root: small.root, about: describe(small.manifest.stats) },
  ...big ? [{ label: bigLabel, root: big.root, about: describe(big.manifest.stats) }] : [],
  ...("why" in linux ? [] : [{
    ...linux,
    about: `${int(linux.entries ?? 0)} entries (find's count), Debian's linux-source-6.1`,
  }]),
  ...res.trees,
].map((t) => ({ ...t, root: t.root.replace(`${REPO}/`, "") }));
const seconds = ((performance.now() - started) / 1000).toFixed(0);
const command = `deno task bench${Deno.args.length ? " " + Deno.args.join(" ") : ""}`;
res.footer = `Run: \`${command}\`, ${seconds} s (${timings.join(", ")}).`;
const list = targets(res, [smallLabel, bigLabel, linux.label]);
const report = `# ioq benchmarks — ${date}, ${host}\n\n` + render(res, list);
console.log(report);
if (!flags["no-save"]) {
  const dir = `${REPO}/bench/results`;
  const base = `${dir}/${date}-${host}`;
  const svg = barChart(
    "ioq CLI vs bfs, fd, find: whole-process wall time, warm (median; whisker min–max)",
    `${date}, ${host}: ${navigator.hardwareConcurrency} CPUs, kernel ${Deno.osRelease()}, ` +
      `Deno ${Deno.version.deno}; note: ioq ÷ tool, median of per-round ratios`,
    chartGroups(res),
  );
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${base}.md`, report);
  Deno.writeTextFileSync(`${base}.svg`, svg);
  Deno.writeTextFileSync(`${dir}/latest.svg`, svg);
  // Formatted as `deno fmt` would, so the committed results stay fmt-clean
  await output(DENO, ["fmt", "--quiet", `${base}.md`, `${base}.svg`, `${dir}/latest.svg`]);
  say(`wrote ${base.replace(`${REPO}/`, "")}.md, .svg and bench/results/latest.svg`);
}
