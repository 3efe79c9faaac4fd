/**
 * A hand-written SVG bar chart of whole-process wall times: one group of
 * bars per tree, one bar per tool (its median), a whisker for min–max, the
 * ioq CLI variants highlighted.  No dependencies.
 *
 * @module
 */

/** One bar. */
export interface Bar {
  label: string;
  /** Median, ms. */
  median: number;
  min: number;
  max: number;
  /** Text after the bar, such as the ratio. */
  note: string;
  highlight: boolean;
}

/** One group of bars (a tree). */
export interface BarGroup {
  title: string;
  bars: Bar[];
}

/** Escapes text for XML. */
function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Formats a number of ms for the chart. */
function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

/**
 * Draws the chart.  Each group has its own scale (trees differ in size), with
 * the longest whisker filling the bar area.
 *
 * @param title The chart's title.
 * @param subtitle A line under the title (machine, date).
 * @param groups The trees and their bars (drawn in the order given).
 * @returns The SVG document.
 */
export function barChart(title: string, subtitle: string, groups: BarGroup[]): string {
  const width = 960;
  const labelW = 230;
  const barW = 520;
  const rowH = 22;
  const groupGap = 18;
  const top = 64;
  const parts: string[] = [];
  let y = top;
  for (const group of groups) {
    parts.push(
      `<text x="12" y="${y + 14}" class="group">${esc(group.title)}</text>`,
    );
    y += 24;
    const scale = barW / Math.max(1e-9, ...group.bars.map((b) => b.max));
    for (const bar of group.bars) {
      const w = Math.max(1, bar.median * scale);
      const cy = y + rowH / 2;
      parts.push(
        `<text x="${labelW - 8}" y="${cy + 4}" class="label" text-anchor="end">${
          esc(bar.label)
        }</text>`,
        `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" ` +
          `class="${bar.highlight ? "ioq" : "other"}"><title>${esc(bar.label)}: median ` +
          `${esc(seconds(bar.median))}, min ${esc(seconds(bar.min))}, max ${
            esc(seconds(bar.max))
          }` +
          `</title></rect>`,
        `<line x1="${(labelW + bar.min * scale).toFixed(1)}" x2="${
          (labelW + bar.max * scale).toFixed(1)
        }" y1="${cy}" y2="${cy}" class="whisker"/>`,
        `<text x="${labelW + barW + 10}" y="${cy + 4}" class="value">${
          esc(`${seconds(bar.median)}  ${bar.note}`)
        }</text>`,
      );
      y += rowH;
    }
    y += groupGap;
  }
  const height = y + 8;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">
<style>
  .title { font-size: 17px; font-weight: 600; fill: #1f2328; }
  .subtitle { font-size: 12px; fill: #59636e; }
  .group { font-size: 14px; font-weight: 600; fill: #1f2328; }
  .label { font-size: 12px; fill: #1f2328; }
  .value { font-size: 12px; fill: #1f2328; font-variant-numeric: tabular-nums; }
  .ioq { fill: #2f6fde; }
  .other { fill: #9aa5b1; }
  .whisker { stroke: #1f2328; stroke-width: 1.2; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="12" y="26" class="title">${esc(title)}</text>
<text x="12" y="46" class="subtitle">${esc(subtitle)}</text>
${parts.join("\n")}
</svg>
`;
}
