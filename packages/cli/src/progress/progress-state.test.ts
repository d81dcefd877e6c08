import type { MoveEvent } from "@shardkit/migrate";
import { describe, expect, it } from "vitest";
import { count, duration, ProgressState } from "./progress-state.js";

const copy = (
  table: string,
  rowsCopied: number,
  rowsRead: number,
  totalEstimate = 1000,
): MoveEvent => ({
  type: "copy",
  table,
  rowsCopied,
  rowsRead,
  totalEstimate,
  rowsPerSecond: 250,
});

describe("ProgressState", () => {
  it("shows no phase before its first event, then the phases in workflow order", () => {
    const p = new ProgressState();
    expect(p.lines()).toEqual([]);
    expect(p.apply({ type: "phase", moveId: "m", phase: "copying" }, 0)).toBeNull();
    p.apply({ type: "cleanup", table: "a", rowsDeleted: 5 }, 0);
    p.apply({ type: "catchup", eventsApplied: 12, lagMs: 40 }, 0);
    p.apply(copy("a", 10, 20), 0);
    expect(p.lines().map((l) => l.phase)).toEqual(["copy", "catch-up", "cleanup"]);
  });

  it("sums the copy over tables, with rows/s, an ETA from the read rate and the catch-up lag", () => {
    const p = new ProgressState();
    p.apply(copy("accounts", 100, 200, 1000), 0);
    p.apply(copy("accounts", 150, 400, 1000), 1000);
    p.apply(copy("orders", 20, 100, 1000), 2000);
    p.apply({ type: "catchup", eventsApplied: 3, lagMs: 1234 }, 2000);
    const [line] = p.lines();
    // 300 rows read in the 2 s after the first event: 150/s, and 1500 of 2000 left to read.
    expect(line).toEqual({
      phase: "copy",
      value: 500,
      total: 2000,
      text: "170 rows copied (500 of ~2,000 read), 250 rows/s, ETA 10 s, lag 1,234 ms",
    });
    expect(p.rowsCopied()).toBe(170);
  });

  it("starts a resumed copy's rate from where it stood, and never shows more total than read", () => {
    const p = new ProgressState();
    p.apply(copy("a", 5000, 9000, 8000), 0);
    expect(p.lines()[0]).toMatchObject({ value: 9000, total: 9000 });
    expect(p.lines()[0]?.text).toContain("ETA -");
    p.apply(copy("a", 5100, 9500, 20000), 500);
    expect(p.lines()[0]?.text).toContain("ETA 11 s");
  });

  it("fills the copy bar once every table is copied, whatever the estimate said", () => {
    const p = new ProgressState();
    p.apply({ type: "phase", moveId: "m", phase: "copying" }, 0);
    p.apply(copy("a", 40, 99, 100), 0);
    expect(p.lines()[0]).toMatchObject({ value: 99, total: 100 });
    expect(p.apply({ type: "phase", moveId: "m", phase: "copied" }, 10)).toBe("copy");
    expect(p.lines()[0]).toMatchObject({ value: 99, total: 99 });
    expect(p.lines()[0]?.text).toMatch(/rows\/s, copied$/);
  });

  it("tells verify differences, cutover attempts and cleanup against the rows copied", () => {
    const p = new ProgressState();
    p.apply(copy("a", 80, 160), 0);
    p.apply({ type: "verify", table: "a", chunks: 3, differences: 0 }, 0);
    expect(p.lines().find((l) => l.phase === "verify")?.text).toBe(
      "3 chunks in 1 table, no differences",
    );
    p.apply({ type: "verify", table: "b", chunks: 2, differences: 2 }, 0);
    p.apply({ type: "cutover", attempt: 1, pauseMs: 510, ok: false, reason: "marker late" }, 0);
    expect(p.lines().find((l) => l.phase === "verify")?.text).toBe(
      "5 chunks in 2 tables, 2 rows differ",
    );
    expect(p.lines().find((l) => l.phase === "cutover")?.text).toBe(
      "attempt 1 backed off after 510 ms (marker late)",
    );
    p.apply({ type: "cutover", attempt: 2, pauseMs: 31, ok: true }, 0);
    expect(p.lines().find((l) => l.phase === "cutover")?.text).toBe(
      "switched on attempt 2, write pause 31 ms",
    );
    p.apply({ type: "cleanup", table: "a", rowsDeleted: 60 }, 0);
    expect(p.lines().find((l) => l.phase === "cleanup")).toMatchObject({ value: 60, total: 80 });
  });
});

describe("count and duration", () => {
  it.each([
    [0, "0"],
    [999.6, "1,000"],
    [1234567, "1,234,567"],
  ])("count(%d) is %s", (n, text) => {
    expect(count(n)).toBe(text);
  });

  it.each([
    [0.4, "0 s"],
    [59, "59 s"],
    [185, "3 min 5 s"],
    [7800, "2 h 10 min"],
  ])("duration(%d) is %s", (s, text) => {
    expect(duration(s)).toBe(text);
  });
});
