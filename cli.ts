/**
 * `walk`: a find(1) on ioq's walker.
 *
 * ```sh
 * deno task walk [-H|-L|-P] [ROOT...] [EXPRESSION]
 * ```
 *
 * It takes GNU find's command line and prints what GNU find prints for it,
 * byte for byte, except for the order of entries: breadth-first by default
 * (`-dfs` for depth-first, `-s` for find's order with each directory
 * sorted).  Errors are one line on stderr each (`walk: ...`) and the walk goes
 * on; the exit status is 0, 1 when something could not be read or done, 2
 * for a command line that cannot be run.  `walk --help` lists what is
 * supported.  The parts live in `cli/`: parse.ts (command line), expr.ts
 * (the expression), driver.ts (the walk).
 *
 * @module
 */

import {
  CONTINUE,
  type DriveTarget,
  DT,
  type FindEntry,
  findStat,
  PRUNE,
  QUIT,
  type WalkPlan,
} from "./cli/entry.ts";
import { drive } from "./cli/driver.ts";
import { compile, type EvalContext, fastPlanOf, needsOf, primaries } from "./cli/expr.ts";
import { Output, PipeClosed, reasonOf, WriteError } from "./cli/output.ts";
import { type Command, parseCommand, UsageError } from "./cli/parse.ts";
import { readIdentity } from "./cli/proc.ts";
import { Accounts } from "./cli/users.ts";
import denoJson from "./deno.json" with { type: "json" };

const USAGE = `Usage: walk [-H] [-L] [-P] [ROOT...] [EXPRESSION]

Walks each ROOT (default: .) and evaluates EXPRESSION (default: -print) on
every entry, as GNU find does; breadth-first unless -dfs or -s.

Operators: ( EXPR )  ! EXPR  -not EXPR  EXPR -a EXPR  EXPR -o EXPR  EXPR , EXPR
Options:   -depth -maxdepth N -mindepth N -xdev -mount -daystart -follow
           -ignore_readdir_race -noleaf -s (sorted, find's order) -dfs -gitignore
           -j N (threads) -backend auto|io_uring|threads -count
Tests:     -name -iname -path -ipath -wholename -lname -ilname PATTERN
           -type -xtype [bcdflps,] -empty -links N -size N[bcwkMG] -perm MODE
           -user -group NAME -uid -gid N -nouser -nogroup -inum N -samefile F
           -newer -anewer -cnewer FILE -newerXY FILE (X, Y: a c m)
           -mtime -atime -ctime N (days) -mmin -amin -cmin N (minutes)
           -readable -writable -executable -true -false
Actions:   -print -print0 -printf FORMAT -ls -delete -prune -quit
           -exec CMD ; -exec CMD {} + -execdir ... -ok CMD ; -okdir CMD ;
N is n, +n (more than n) or -n (less than n).  -count prints how many
entries the expression is true for instead of printing them.

Exit status: 0, 1 if an error occurred, 2 for a command line that cannot run.
`;

const encoder = new TextEncoder();

/** Writes a line to stderr, ignoring failures (there is nowhere else to say it). */
function stderrLine(parts: (string | Uint8Array)[]): void {
  const chunks = parts.map((p) => typeof p === "string" ? encoder.encode(p) : p);
  const line = new Uint8Array(chunks.reduce((n, c) => n + c.length, 1));
  let at = 0;
  for (const c of chunks) {
    line.set(c, at);
    at += c.length;
  }
  line[at] = 0x0a;
  try {
    Deno.stderr.writeSync(line);
  } catch {
    // stderr is closed
  }
}

/** A path for an error line: controls, backslashes and bytes that are not UTF-8 escaped. */
function quotePath(path: Uint8Array): Uint8Array {
  const out: number[] = [];
  const escapes: Record<number, string> = { 0x0a: "\\n", 0x09: "\\t", 0x0d: "\\r", 0x5c: "\\\\" };
  let i = 0;
  while (i < path.length) {
    const b = path[i];
    const len = b < 0x80
      ? 1
      : b >= 0xc2 && b <= 0xdf
      ? 2
      : b >= 0xe0 && b <= 0xef
      ? 3
      : b >= 0xf0 && b <= 0xf4
      ? 4
      : 0;
    let valid = len > 0 && i + len <= path.length;
    for (let k = 1; valid && k < len; k++) valid = (path[i + k] & 0xc0) === 0x80;
    if (escapes[b] !== undefined) out.push(...encoder.encode(escapes[b]));
    else if (!valid || b < 0x20 || b === 0x7f) {
      out.push(...encoder.encode(`\\${b.toString(8).padStart(3, "0")}`));
      i++;
      continue;
    } else for (let k = 0; k < len; k++) out.push(path[i + k]);
    i += valid ? len : 1;
  }
  return new Uint8Array(out);
}

/** Whether a permission is granted (never prompts). */
function granted(name: "run" | "write"): boolean {
  try {
    return Deno.permissions.querySync({ name }).state === "granted";
  } catch {
    return false;
  }
}

/** The time now, to the microsecond, as seconds and nanoseconds. */
function now(): { sec: number; nsec: number } {
  const ms = performance.timeOrigin + performance.now();
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: Math.min(999_999_999, Math.round((ms - sec * 1000) * 1e6)) };
}

/**
 * Runs the command.
 *
 * @param args The arguments (without the program name).
 * @returns The exit status: 0; 1 when something could not be read or done
 *   (or stdout could not be written); 2 for a command line that cannot run.
 *
 * @example Count the directories under /usr/share, two levels deep
 * ```ts
 * import { main } from "@ioq/ioq/cli";
 *
 * const status = await main(["/usr/share", "-maxdepth", "2", "-type", "d", "-count"]);
 * console.log(status); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  try {
    return await command(args);
  } catch (error) {
    // Nothing should come here; if it does, still one line and no trace
    stderrLine([`walk: ${reasonOf(error)}`]);
    return 1;
  }
}

/** Parses and runs a command line (see `main`). */
async function command(args: string[]): Promise<number> {
  const accounts = new Accounts();
  const tty = Output.isTerminal();
  let parsed: Command;
  try {
    parsed = parseCommand(args, {
      now: now(),
      accounts,
      tty,
      stat: (path, follow) => findStat(follow ? Deno.statSync(path) : Deno.lstatSync(path)),
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderrLine([`walk: ${error.message} (walk --help lists what is supported)`]);
    return 2;
  }
  const out = new Output();
  if (parsed.kind !== "walk") {
    const text = parsed.kind === "help" ? USAGE : `walk (ioq) ${denoJson.version}\n`;
    try {
      out.text(text);
      await out.finish();
      return 0;
    } catch (error) {
      if (error instanceof PipeClosed) return 0;
      stderrLine([`walk: write error: ${reasonOf(error)}`]);
      return 1;
    }
  }
  for (const warning of parsed.warnings) stderrLine([`walk: ${warning}`]);
  const all = primaries(parsed.expr);
  const missing = [
    all.some((p) => /^-(exec|execdir|ok|okdir)$/.test(p.name)) && !granted("run")
      ? "-exec and -ok need --allow-run"
      : undefined,
    all.some((p) => p.name === "-delete") && !granted("write")
      ? "-delete needs --allow-write"
      : undefined,
  ].filter((m) => m !== undefined);
  if (missing.length > 0) {
    stderrLine([`walk: ${missing.join("; ")}`]);
    return 2;
  }
  return await run(parsed, out, accounts, tty);
}

/** Walks and evaluates: the command line is good. */
async function run(
  command: Command,
  out: Output,
  accounts: Accounts,
  tty: boolean,
): Promise<number> {
  const { options, expr } = command;
  const access = primaries(expr).some((p) => /^-(readable|writable|executable)$/.test(p.name));
  /** Entries whose stat error was reported. */
  const told = new WeakSet<FindEntry>();
  const ctx: EvalContext = {
    out,
    accounts,
    identity: access ? await readIdentity(accounts) : { uid: 0, gid: 0, groups: new Set() },
    following: options.follow === "L",
    postOrder: options.postOrder,
    prune: false,
    quit: false,
    status: 0,
    report(path, reason, what) {
      this.status = 1;
      stderrLine([`walk: ${what ? `${what} ` : ""}'`, quotePath(path), `': ${reason}`]);
    },
    warn(message) {
      stderrLine([`walk: ${message}`]);
    },
    missing(e) {
      if (e.error && !told.has(e)) {
        told.add(e);
        this.report(e.path, e.error.message);
      }
      return false;
    },
  };
  const evaluate = compile(expr);
  let counted = 0;
  const target: DriveTarget = {
    out,
    error(path, error) {
      ctx.report(path, error.message);
    },
    visit(e: FindEntry) {
      ctx.prune = false;
      if (evaluate(e, ctx) && options.count) counted++;
      return ctx.quit ? QUIT : ctx.prune && e.type === DT.DIR ? PRUNE : CONTINUE;
    },
  };
  const plan: WalkPlan = {
    roots: command.roots,
    follow: options.follow,
    sameFilesystem: options.xdev,
    postOrder: options.postOrder,
    prune: primaries(expr).some((p) => p.name === "-prune"),
    gitignore: options.gitignore,
    sorted: options.sorted,
    order: options.dfs ? "dfs" : "bfs",
    minDepth: options.minDepth,
    maxDepth: options.maxDepth,
    threads: options.threads,
    backend: options.backend,
    needs: needsOf(expr),
    ignoreRace: options.ignoreRace,
    // (on a terminal, paths are shown with ? for what is not printable)
    fast: tty ? undefined : fastPlanOf(expr, options.count),
  };
  try {
    try {
      // (not `counted += await ...`: visit() counts while drive() runs)
      const matched = await drive(plan, target);
      counted += matched;
    } finally {
      // Batches of -exec ... + run even after -quit or an error
      for (const p of primaries(expr)) p.finish?.(ctx);
    }
    if (options.count) out.text(`${counted}\n`);
    await out.finish();
  } catch (error) {
    if (error instanceof PipeClosed) return ctx.status;
    if (error instanceof WriteError) {
      stderrLine([`walk: write error: ${error.message}`]);
      return 1;
    }
    // The walk itself failed (no queue, a refused backend): what was found is kept
    stderrLine([`walk: ${reasonOf(error)}`]);
    try {
      await out.finish();
    } catch (writing) {
      if (writing instanceof WriteError) stderrLine([`walk: write error: ${writing.message}`]);
    }
    return 1;
  }
  return ctx.status;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
