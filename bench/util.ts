/**
 * Small helpers shared by the benchmark scripts: command-line flags,
 * statistics and number formatting.  No dependencies.
 *
 * @module
 */

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

/** The median of a non-empty list. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Formats an integer with thousands separators. */
export function int(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Formats milliseconds as a short duration ("812 ms", "1.23 s"). */
export function ms(n: number): string {
  if (n >= 1000) return `${(n / 1000).toFixed(n >= 10_000 ? 1 : 2)} s`;
  if (n >= 10) return `${n.toFixed(0)} ms`;
  return `${n.toFixed(2)} ms`;
}

/** Formats seconds with three decimals. */
export function sec(msValue: number): string {
  return (msValue / 1000).toFixed(3);
}

/** Formats a ratio ("0.84x"). */
export function ratio(n: number): string {
  return `${n >= 10 ? n.toFixed(1) : n.toFixed(2)}x`;
}

/** Formats a rate per second ("1.23 M/s", "456 k/s"). */
export function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M/s`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k/s`;
  return `${n.toFixed(0)} /s`;
}

/** Renders a markdown table. */
export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Writes a progress message to stderr: over the same line on a terminal. */
export function progress(message: string, done = false): void {
  const enc = new TextEncoder();
  if (Deno.stderr.isTerminal()) {
    Deno.stderr.writeSync(enc.encode(`\r\x1b[K${message}${done ? "\n" : ""}`));
  } else {
    Deno.stderr.writeSync(enc.encode(`${message}\n`));
  }
}
