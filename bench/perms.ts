/**
 * The cost of Deno's read-permission checks (issue 13): `walk()` of one
 * tree in fresh processes (bench/probe.ts `perm`), each under other read
 * flags, alternating round by round:
 *
 * - read granted everywhere (`--allow-read`): one query when the walk
 *   starts, then nothing is checked;
 * - read scoped to the tree (`--allow-read=TREE,LIBRARY`): one more query,
 *   the root, granted with everything below it, so no directory is
 *   checked either;
 * - scoped, with a path inside the tree denied (`--deny-read=TREE/NAME`,
 *   a name the tree does not hold): the root is granted only in part, so
 *   every directory waits at a gate until the main thread has checked it
 *   (Deno is queried for the root's subdirectories; below them, the
 *   answer comes from the granted subtree found).
 *
 * Each process walks twice: a warm-up walk, which counts the permission
 * queries, then the timed walk (in-process wall time and main-thread CPU,
 * as bench/probe.ts measures them).  Ratios are paired per round against
 * the unrestricted run.
 *
 * @module
 */

import { LOCAL_LIBRARY } from "../lib/ffi.ts";
import { int, med, msText, paired, pairedText, spread, table, type Target } from "./format.ts";
import { probeArgs } from "./inproc.ts";
import type { PermResult } from "./probe.ts";
import { alternate, DENO, progress, REPO } from "./util.ts";

/** A name the synthetic trees do not hold, denied inside the tree. */
const DENIED = ".ioq-bench-denied";

/** One read-permission setting's runs. */
export interface PermVariant {
  key: "everywhere" | "scoped" | "gated";
  label: string;
  /** The read flags, TREE and LIBRARY standing for the paths. */
  shown: string;
  flags: string[];
  /** Per round, ms. */
  wall: number[];
  mainCpu: number[];
  /** Read-permission queries of one walk, and entries walked. */
  queries?: number;
  count?: number;
}

/** The permission rows of one tree. */
export interface PermRows {
  tree: string;
  entries: number;
  rounds: number;
  variants: PermVariant[];
  /** Failed runs and counts that disagree, as messages. */
  problems: string[];
}

/** The library a child loads, which it must be allowed to read. */
function libraryPath(): string {
  return Deno.env.get("IOQ_LIBRARY") || decodeURIComponent(LOCAL_LIBRARY.pathname);
}

/** The variants, with their flags for `root`. */
function variants(root: string): PermVariant[] {
  const scoped = `--allow-read=${root},${libraryPath()}`;
  const v = (key: PermVariant["key"], label: string, shown: string, flags: string[]) => ({
    key,
    label,
    shown,
    flags,
    wall: [],
    mainCpu: [],
  });
  return [
    v("everywhere", "read granted everywhere", "`--allow-read`", ["--allow-read"]),
    v("scoped", "read scoped to the tree", "`--allow-read=TREE,LIBRARY`", [scoped]),
    v(
      "gated",
      "scoped, a path inside denied: every directory checked",
      "`--allow-read=TREE," +
        `LIBRARY --deny-read=TREE/${DENIED}\``,
      [scoped, `--deny-read=${root}/${DENIED}`],
    ),
  ];
}

/** Runs `walk()` of `root` in a child with some read flags. */
async function child(flags: string[], root: string): Promise<PermResult> {
  const args = probeArgs().flatMap((a) => a === "--allow-read" ? flags : [a]);
  const out = await new Deno.Command(DENO, {
    args: [...args, "perm", root],
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(0, 3).join(" / ");
    throw new Error(`status ${out.code}: ${text}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Measures the variants on one tree (`root` resolved: Deno checks paths as given). */
export async function measurePerms(
  tree: string,
  root: string,
  entries: number,
  rounds: number,
): Promise<PermRows> {
  const real = Deno.realPathSync(root);
  const rows: PermRows = { tree, entries, rounds, variants: variants(real), problems: [] };
  await alternate(rows.variants, rounds, async (v, round) => {
    progress(`bench: permissions, ${tree}: ${v.label}, round ${round + 1} of ${rounds}`, false);
    let r: PermResult;
    try {
      r = await child(v.flags, real);
    } catch (error) {
      rows.problems.push(`${v.label}: ${(error as Error).message}`);
      return;
    }
    if (r.count !== entries) {
      rows.problems.push(`${v.label} walked ${int(r.count)} entries, expected ${int(entries)}`);
    }
    v.count = r.count;
    v.queries = r.queries;
    v.wall[round] = r.wallMs;
    v.mainCpu[round] = r.mainCpuMs;
  });
  return rows;
}

/**
 * Issue 13's target: with read granted everywhere, one query when the walk
 * starts and no check at all (the cost is paid only when read is scoped).
 */
export function permTarget(rows: PermRows | undefined): Target {
  const name = `read permission granted everywhere: ${rows?.tree ?? "walk()"}`;
  const goal = "one permission query per walk(), no directory checked";
  const all = rows?.variants.find((v) => v.key === "everywhere");
  if (!rows || all?.queries === undefined) {
    const why = rows?.problems.join("; ") || "not run";
    return { name, goal, measured: `not measured: ${why}`, holds: null };
  }
  const others = rows.variants.filter((v) => v !== all).map((v) =>
    `${v.label}: ${int(v.queries ?? NaN)} queries, ${med(v.wall, msText)} ms, ` +
    `${pairedText(paired(v.wall, all.wall))}`
  );
  return {
    name,
    goal,
    measured: `${int(all.queries)} ${all.queries === 1 ? "query" : "queries"}, walk() ` +
      `${med(all.wall, msText)} ms (median); ${
        others.join("; ")
      } (÷ granted everywhere, per round)`,
    holds: all.queries === 1,
  };
}

/** The report's section. */
export function permSection(rows: PermRows): string[] {
  const base = rows.variants.find((v) => v.key === "everywhere")!;
  const head = [
    "read permission",
    "flags",
    "queries per walk",
    "median ms",
    "min–max ms",
    "main-thread CPU ms",
    "÷ granted everywhere, per round",
  ];
  return [
    `## The cost of the read-permission checks (issue 13): ${rows.tree}, ${rows.rounds} rounds`,
    "",
    "`walk()` of the tree in a fresh process per run (bench/probe.ts `perm`), the read flags " +
    "alternating round by round; each process walks twice: a warm-up walk, which counts the " +
    "read-permission queries (`Deno.permissions.querySync`), then the timed walk. TREE is the " +
    "tree's real path, LIBRARY the ioq library. Granted everywhere, the walk makes one query " +
    "(is read granted without a path?) and checks nothing; scoped to the whole tree, one more " +
    "(the root, granted with all below it) and nothing else; with a path inside the tree " +
    "denied, every directory waits at a gate for the main thread's answer, which queries Deno " +
    "for the directories below the root and knows those below them from the granted subtrees.",
    "",
    table(
      head,
      rows.variants.map((v) => [
        v.label,
        v.shown,
        v.queries === undefined ? "—" : int(v.queries),
        med(v.wall, msText),
        spread(v.wall, msText),
        med(v.mainCpu, msText),
        v === base ? "" : pairedText(paired(v.wall, base.wall)),
      ]),
    ) + rows.problems.map((p) => `\n\n**Problem**: ${p}`).join(""),
  ];
}
