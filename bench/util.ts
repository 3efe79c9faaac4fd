/**
 * What every benchmark script shares: where the repository is, command-line
 * flags, running a command, alternating rounds and their statistics,
 * progress on stderr.  No dependencies.
 *
 * @module
 */

/** The repository's root, without a trailing slash. */
export const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/** Scratch and generated trees: bench/.cache. */
export const CACHE = `${REPO}/bench/.cache`;

/** The Deno running the bench, for every Deno process it starts. */
export const DENO = Deno.execPath();

/** The kind of value a flag takes. */
export type FlagKind = "boolean" | "number" | "string" | "strings";

/** Parsed flags: booleans, numbers, strings and repeated strings by name. */
export type Flags = Record<string, boolean | number | string | string[] | undefined>;

/**
 * Parses `--name value`, `--name=value` and `--flag` arguments.
 *
 * @param argv The arguments.
 * @param spec The kind of each known flag (by name, without dashes).
 * @param usage Shown with an error for an unknown flag or a bad value.
 * @returns The flags given (absent ones are undefined; "strings" ones are arrays).
 * @throws {Error} For an unknown flag, a missing value or a bad number.
 */
export function parseFlags(argv: string[], spec: Record<string, FlagKind>, usage: string): Flags {
  const out: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !(m[1] in spec)) throw new Error(`unknown argument ${arg}\n\n${usage}`);
    const [, name, inline] = m;
    const kind = spec[name];
    if (kind === "boolean") {
      if (inline !== undefined) throw new Error(`--${name} takes no value\n\n${usage}`);
      out[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value\n\n${usage}`);
    if (kind === "number") {
      const n = Number(value.replaceAll("_", ""));
      if (!Number.isFinite(n)) {
        throw new Error(`--${name} needs a number, not ${value}\n\n${usage}`);
      }
      out[name] = n;
    } else if (kind === "strings") {
      out[name] = [...((out[name] as string[] | undefined) ?? []), value];
    } else {
      out[name] = value;
    }
  }
  return out;
}

/** Whether a path exists (following symlinks). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

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

/** What a finished command left. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (stdin closed, stdout and stderr piped), never throwing. */
export async function output(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<Output> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      cwd: REPO,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
  } catch (error) {
    return { code: 127, stdout: "", stderr: `${cmd}: ${(error as Error).message}` };
  }
}

/** A sample's median and range. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** The median and range of a list's finite values (NaN fields when there are none). */
export function stats(values: number[]): Stats {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/**
 * Runs every item once per round, alternating: round r starts with item r
 * (mod their number), so no item always runs first, last or after the same
 * neighbour.  A warm-up round first, not recorded, when asked.
 *
 * @param items What to run.
 * @param rounds Recorded rounds.
 * @param run Runs one item; `round` is -1 for the warm-up.
 * @param warmup Whether to run a warm-up round first.
 */
export async function alternate<T>(
  items: T[],
  rounds: number,
  run: (item: T, round: number) => Promise<void>,
  warmup = false,
): Promise<void> {
  if (warmup) { for (const item of items) await run(item, -1); }
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < items.length; i++) await run(items[(round + i) % items.length], round);
  }
}

/**
 * Writes a progress line to stderr, after the seconds since the process
 * started (over the previous line on a terminal, unless `keep`).
 */
export function progress(message: string, keep = true): void {
  const line = `[${(performance.now() / 1000).toFixed(0).padStart(4)} s] ${message}`;
  const enc = new TextEncoder();
  if (Deno.stderr.isTerminal()) {
    Deno.stderr.writeSync(enc.encode(`\r\x1b[K${line}${keep ? "\n" : ""}`));
  } else {
    Deno.stderr.writeSync(enc.encode(`${line}\n`));
  }
}
