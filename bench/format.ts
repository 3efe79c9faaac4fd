/**
 * What the report's sections share: number formats, markdown tables, paired
 * ratios and the shape of a target with its verdict.
 *
 * Ratios are paired: a ratio is computed within each round (the two
 * walkers ran back to back there), and the report gives the median of the
 * per-round ratios with their range.
 *
 * @module
 */

import { type Stats, stats } from "./util.ts";

/** Formats an integer with thousands separators. */
export function int(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Milliseconds as seconds with three decimals. */
export function sec(ms: number): string {
  return Number.isFinite(ms) ? (ms / 1000).toFixed(3) : "—";
}

/** Milliseconds, rounded for a table ("153", "4.2", "0.31"). */
export function msText(n: number): string {
  if (!Number.isFinite(n)) return "—";
  const a = Math.abs(n);
  return a >= 100 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** A ratio ("0.84x", "12.1x"). */
export function ratio(n: number): string {
  return Number.isFinite(n) ? `${n >= 10 ? n.toFixed(1) : n.toFixed(2)}x` : "—";
}

/** KiB as MB (10^6 bytes). */
export function mb(kib: number): string {
  return (kib * 1024 / 1e6).toFixed(1);
}

/** A sample's median, formatted. */
export function med(values: number[], f: (n: number) => string): string {
  return f(stats(values).median);
}

/** A sample's range ("0.251–0.300"), formatted. */
export function spread(values: number[], f: (n: number) => string): string {
  const s = stats(values);
  return s.n ? `${f(s.min)}–${f(s.max)}` : "—";
}

/** Renders a markdown table. */
export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Per-round ratios a[r] / b[r], where both ran. */
export function paired(a: number[], b: number[]): Stats {
  return stats(a.map((x, r) => x / b[r]));
}

/** A paired ratio as "2.04x (1.90–2.21)". */
export function pairedText(s: Stats): string {
  return s.n ? `${ratio(s.median)} (${ratio(s.min)}–${ratio(s.max)})` : "—";
}

/** A target: what it asks, what was measured, and whether it holds (null: not measured). */
export interface Target {
  name: string;
  goal: string;
  measured: string;
  holds: boolean | null;
}

/** A target from a paired ratio, or "not measured" with the reason. */
export function ratioTarget(
  name: string,
  goal: string,
  x: Stats | string,
  text: string,
  holds: (ratio: number) => boolean,
): Target {
  return typeof x === "string"
    ? { name, goal, measured: `not measured: ${x}`, holds: null }
    : { name, goal, measured: `${text} per round: ${pairedText(x)}`, holds: holds(x.median) };
}
