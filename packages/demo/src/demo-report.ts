// The demo's report: one self-contained HTML file (inline CSS and SVG drawn here, no script, no
// network) with the rows per shard before and after, and the workload's write latency over time
// with each cutover marked; built from recorded data, so it can be drawn again from the JSON.

/** One cutover to mark on the latency chart. */
export interface ReportCutover {
  /** Seconds since the workload started. */
  readonly at: number;
  readonly label: string;
  readonly pauseMs: number | null;
}

/** One pass or fail line of the report. */
export interface ReportCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Everything the report shows, as the demo recorded it (also written next to it as JSON). */
export interface DemoReportData {
  readonly title: string;
  /** ISO 8601. */
  readonly generatedAt: string;
  /** Rows per shard before and after the scale-out (all tables). */
  readonly before: Readonly<Record<string, number>>;
  readonly after: Readonly<Record<string, number>>;
  /** Write latency samples: seconds since the workload started, milliseconds. */
  readonly writes: readonly { readonly at: number; readonly ms: number; readonly ok: boolean }[];
  readonly cutovers: readonly ReportCutover[];
  readonly checks: readonly ReportCheck[];
  /** Figures shown as a table: name and value. */
  readonly figures: readonly (readonly [string, string])[];
  /** The scale-out commands, as run. */
  readonly commands: readonly string[];
}

const COLORS = { before: "#9db4d0", after: "#2f6db5", max: "#d9822b", median: "#2f6db5" };

function esc(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** A round step (1, 2 or 5 times a power of ten) of at least `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
}

/** A grouped bar chart of rows per shard, before and after. */
export function rowsChart(
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
): string {
  const shards = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const w = 400;
  const h = 240;
  const left = 64;
  const bottom = 40;
  const top = 20;
  const step = niceStep(Math.max(1, ...Object.values(before), ...Object.values(after)) / 4);
  const max =
    step * Math.ceil(Math.max(1, ...Object.values(before), ...Object.values(after)) / step);
  const group = (w - left - 10) / Math.max(1, shards.length);
  const bar = Math.min(50, group / 3);
  const y = (v: number) => top + (h - top - bottom) * (1 - v / max);
  const parts: string[] = [];
  for (let v = 0; v <= max; v += step) {
    parts.push(
      `<line x1="${left}" x2="${w - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e3e3"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" class="tick">${fmt(v)}</text>`,
    );
  }
  shards.forEach((shard, i) => {
    const x0 = left + group * i + group / 2 - bar;
    for (const [j, side] of (["before", "after"] as const).entries()) {
      const v = (side === "before" ? before : after)[shard] ?? 0;
      const x = x0 + j * bar;
      parts.push(
        `<rect class="bar-${side}" data-shard="${esc(shard)}" x="${x}" y="${y(v)}" width="${bar - 4}" height="${y(0) - y(v)}" fill="${COLORS[side]}"><title>${esc(shard)} ${side}: ${fmt(v)} rows</title></rect>`,
        `<text x="${x + (bar - 4) / 2}" y="${y(v) - 4}" text-anchor="middle" class="tick">${v > 0 ? fmt(v) : ""}</text>`,
      );
    }
    parts.push(
      `<text x="${left + group * i + group / 2}" y="${h - bottom + 18}" text-anchor="middle">${esc(shard)}</text>`,
    );
  });
  const legend = `<rect x="${left}" y="${h - 14}" width="12" height="10" fill="${COLORS.before}"/><text x="${left + 16}" y="${h - 5}" class="tick">before</text><rect x="${left + 70}" y="${h - 14}" width="12" height="10" fill="${COLORS.after}"/><text x="${left + 86}" y="${h - 5}" class="tick">after</text>`;
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="rows per shard before and after">${parts.join("")}${legend}</svg>`;
}

/** Per time bucket: the median and the slowest write. */
function buckets(
  writes: DemoReportData["writes"],
  seconds: number,
): { at: number; median: number; max: number }[] {
  const size = Math.max(0.25, seconds / 240);
  const byBucket = new Map<number, number[]>();
  for (const w of writes) {
    const b = Math.floor(w.at / size);
    const list = byBucket.get(b);
    if (list) list.push(w.ms);
    else byBucket.set(b, [w.ms]);
  }
  return [...byBucket.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([b, ms]) => {
      ms.sort((x, y) => x - y);
      return {
        at: (b + 0.5) * size,
        median: ms[Math.floor(ms.length / 2)] ?? 0,
        max: ms.at(-1) ?? 0,
      };
    });
}

/** Whether cutover label `i` at `x` goes left of its line: even ones do, unless that leaves the chart. */
function labelLeft(i: number, x: number, maxX: number, minX: number): boolean {
  const room = 200;
  if (x - room < minX) return false;
  if (x + room > maxX) return true;
  return i % 2 === 0;
}

/** Write latency over time (log scale): the slowest and the median write per slice, cutovers marked. */
export function latencyChart(data: Pick<DemoReportData, "writes" | "cutovers">): string {
  const w = 900;
  const h = 320;
  const left = 60;
  const right = 20;
  const top = 34;
  const bottom = 40;
  const seconds = Math.max(1, ...data.writes.map((x) => x.at), ...data.cutovers.map((c) => c.at));
  const points = buckets(data.writes, seconds);
  const maxMs = Math.max(10, ...points.map((p) => p.max));
  const topMs = 10 ** Math.ceil(Math.log10(maxMs));
  const x = (s: number) => left + ((w - left - right) * s) / seconds;
  const y = (ms: number) =>
    top + (h - top - bottom) * (1 - Math.log10(Math.max(1, ms)) / Math.log10(topMs));
  const parts: string[] = [];
  for (let ms = 1; ms <= topMs; ms *= 10) {
    parts.push(
      `<line x1="${left}" x2="${w - right}" y1="${y(ms)}" y2="${y(ms)}" stroke="#e3e3e3"/>`,
      `<text x="${left - 6}" y="${y(ms) + 4}" text-anchor="end" class="tick">${fmt(ms)} ms</text>`,
    );
  }
  const step = seconds > 120 ? 30 : seconds > 30 ? 10 : 5;
  for (let s = 0; s <= seconds; s += step) {
    parts.push(
      `<text x="${x(s)}" y="${h - bottom + 16}" text-anchor="middle" class="tick">${s}s</text>`,
    );
  }
  const path = (key: "median" | "max") =>
    points.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.at).toFixed(1)},${y(p[key]).toFixed(1)}`);
  parts.push(
    `<path d="${path("max").join("")}" fill="none" stroke="${COLORS.max}" stroke-width="1.5"/>`,
    `<path d="${path("median").join("")}" fill="none" stroke="${COLORS.median}" stroke-width="1.5"/>`,
  );
  [...data.cutovers]
    .sort((a, b) => a.at - b.at)
    .forEach((c, i) => {
      const cx = x(c.at);
      const label = `${c.label}${c.pauseMs === null ? "" : `: pause ${fmt(c.pauseMs)} ms`}`;
      parts.push(
        `<line class="cutover" x1="${cx}" x2="${cx}" y1="${top - 4}" y2="${h - bottom}" stroke="#c0392b" stroke-dasharray="4 3"/>`,
        // Labels alternate sides of their line (and rows), so two cutovers close together stay
        // readable; one that would leave the chart goes to the other side.
        labelLeft(i, cx, w - right, left)
          ? `<text x="${cx - 4}" y="${top - 8 + (i % 2) * 12}" text-anchor="end" class="cut">${esc(label)}</text>`
          : `<text x="${cx + 4}" y="${top - 8 + (i % 2) * 12}" class="cut">${esc(label)}</text>`,
      );
    });
  const legend = `<line x1="${left}" x2="${left + 18}" y1="${h - 8}" y2="${h - 8}" stroke="${COLORS.max}" stroke-width="2"/><text x="${left + 22}" y="${h - 4}" class="tick">slowest write</text><line x1="${left + 120}" x2="${left + 138}" y1="${h - 8}" y2="${h - 8}" stroke="${COLORS.median}" stroke-width="2"/><text x="${left + 142}" y="${h - 4}" class="tick">median write</text><line x1="${left + 240}" x2="${left + 258}" y1="${h - 8}" y2="${h - 8}" stroke="#c0392b" stroke-dasharray="4 3"/><text x="${left + 262}" y="${h - 4}" class="tick">cutover</text>`;
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="write latency over time">${parts.join("")}${legend}</svg>`;
}

/** The whole report as one HTML document. */
export function renderReport(data: DemoReportData): string {
  const allOk = data.checks.every((c) => c.ok);
  const checks = data.checks
    .map(
      (c) =>
        `<tr><td class="${c.ok ? "ok" : "fail"}">${c.ok ? "pass" : "FAIL"}</td><td>${esc(c.name)}</td><td>${esc(c.detail)}</td></tr>`,
    )
    .join("");
  const figures = data.figures
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`)
    .join("");
  const commands = data.commands.map((c) => esc(c)).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(data.title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:940px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 6px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;background:${allOk ? "#2e8540" : "#c0392b"}}
table{border-collapse:collapse}td{padding:2px 10px 2px 0;vertical-align:top}
.ok{color:#2e8540;font-weight:600}.fail{color:#c0392b;font-weight:600}
svg text{font-size:11px;fill:#333}.tick{fill:#666}.cut{fill:#c0392b}
pre{background:#f5f5f5;padding:8px;overflow-x:auto;font-size:12px}
.row{display:flex;gap:20px;align-items:flex-start;flex-wrap:wrap}.row table{font-size:13px}
</style></head><body>
<h1>${esc(data.title)}</h1>
<div><span class="verdict">${allOk ? "all checks passed" : "a check failed"}</span> <span class="tick">${esc(data.generatedAt)}</span></div>
<div class="row"><div><h2>Rows per shard</h2>${rowsChart(data.before, data.after)}</div>
<div><h2>Figures</h2><table>${figures}</table></div></div>
<h2>Write latency during the scale-out</h2>${latencyChart(data)}
<h2>Checks</h2><table>${checks}</table>
<h2>Scale-out commands</h2><pre>${commands}</pre>
</body></html>
`;
}
