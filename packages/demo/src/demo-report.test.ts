import { describe, expect, it } from "vitest";
import { type DemoReportData, latencyChart, renderReport, rowsChart } from "./demo-report.js";

/** A run as the demo records it: two shards scaled to four, two cutovers, one slow write at each. */
const recorded: DemoReportData = {
  title: "shardkit demo: 2 shards to 4 under load",
  generatedAt: "2026-12-07T15:00:00.000Z",
  before: { s1: 1000, s2: 1000, s3: 0, s4: 0 },
  after: { s1: 500, s2: 500, s3: 500, s4: 500 },
  writes: Array.from({ length: 400 }, (_, i) => ({
    at: i * 0.05,
    ms: i === 100 || i === 300 ? 120 : 4,
    ok: true,
  })),
  cutovers: [
    { at: 5, label: "40-80 s1→s3", pauseMs: 38 },
    { at: 15, label: "c0- s2→s4 <&>", pauseMs: 41 },
  ],
  checks: [{ name: "every acknowledged write present exactly once", ok: true, detail: "ok" }],
  figures: [["writes acknowledged", "400 (20/s)"]],
  commands: ["shardkit split -80 --json", "shardkit move 40-80 --to s3 --json"],
};

function barHeights(svg: string, side: "before" | "after"): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of svg.matchAll(
    new RegExp(
      `class="bar-${side}" data-shard="(\\w+)" x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"`,
      "g",
    ),
  )) {
    out[m[1] as string] = Number(m[2]);
  }
  return out;
}

describe("the demo's report", () => {
  it("draws each shard's rows before and after, in proportion", () => {
    const svg = rowsChart(recorded.before, recorded.after);
    const before = barHeights(svg, "before");
    const after = barHeights(svg, "after");
    expect(Object.keys(after)).toEqual(["s1", "s2", "s3", "s4"]);
    expect(before.s3).toBe(0);
    expect(before.s1).toBeGreaterThan(0);
    expect(after.s1).toBeCloseTo((before.s1 ?? 0) / 2, 5);
    expect(after.s4).toBeCloseTo(after.s1 ?? 0, 5);
  });

  it("marks every cutover on the latency chart with its pause, labels escaped", () => {
    const svg = latencyChart(recorded);
    expect(svg.match(/class="cutover"/g)).toHaveLength(2);
    expect(svg).toContain("40-80 s1→s3: pause 38 ms");
    // Labels are escaped.
    expect(svg).toContain("c0- s2→s4 &lt;&amp;&gt;: pause 41 ms");
    expect(svg).not.toContain("<&>");
  });

  it("is one self-contained document: no script, no link, nothing fetched", () => {
    const html = renderReport(recorded);
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//);
    expect(html).toContain("all checks passed");
    expect(html.match(/<svg /g)).toHaveLength(2);
    const failed = renderReport({
      ...recorded,
      checks: [{ name: "no write failed", ok: false, detail: "2 failed" }],
    });
    expect(failed).toContain("a check failed");
    expect(failed).toContain("FAIL");
  });
});
