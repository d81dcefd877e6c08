import type { MoveRecord } from "@shardkit/directory";
import type { MoveSummary } from "@shardkit/migrate";
import { describe, expect, it } from "vitest";
import { millis, summaryText } from "./move-summary.js";

const ID = "3f0c2a9e-6f1b-4c55-9d0e-2b7f4e1d8a10";

function move(state: MoveRecord["state"], kind: "range" | "key" = "range"): MoveRecord {
  return {
    id: ID,
    kind,
    range: kind === "range" ? { start: 0x4000_0000, end: 0x8000_0000 } : { start: 7, end: 8 },
    keyBytes: null,
    keyText: kind === "key" ? "alice" : null,
    source: "s1",
    target: "s3",
    state,
    failedIn: null,
    options: {},
    progress: {},
    error: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    switchedVersion: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
  };
}

const summary: MoveSummary = {
  moveId: ID,
  state: "done",
  rowsCopied: 12345,
  eventsApplied: 678,
  verify: { mode: "checksum", differences: 0, tables: [] },
  pauseMs: 23,
  phaseMs: { copying: 1234, verifying: 310, cutting_over: 95, cleaning: 61_000 },
  rowsDeleted: 12345,
  dryRun: false,
};

describe("summaryText", () => {
  it("says what happened and lists rows, events, verify, the pause and each phase", () => {
    expect(summaryText(summary, move("done"))).toBe(
      [
        `move ${ID}: range 40-80 moved from s1 to s3; the source is cleaned up`,
        "  rows copied     12,345",
        "  events applied  678",
        "  verify          checksum: no differences (0 tables)",
        "  write pause     23 ms",
        "  rows deleted    12,345 from s1",
        "  phases          copying 1.2 s, verifying 310 ms, cutting over 95 ms, cleaning 1 min 1 s",
      ].join("\n"),
    );
  });

  it("says what to run next for a move that rests copied or switched, or was aborted", () => {
    const rest = { ...summary, pauseMs: null, verify: null, rowsDeleted: 0, phaseMs: {} };
    const copied = summaryText(rest, move("copied"));
    expect(copied).toMatch(
      new RegExp(
        `^move ${ID}: range 40-80 is copied on s3; cut it over with shardkit move cutover ${ID}, or abort`,
      ),
    );
    expect(copied).toContain("  write pause     no cutover in this run\n");
    expect(copied).toContain("  verify          not run in this run\n");
    expect(copied).not.toContain("rows deleted");
    expect(summaryText(rest, move("switched", "key"))).toMatch(
      new RegExp(`s3 owns key alice; delete the moved rows from s1 with shardkit cleanup ${ID}`),
    );
    expect(summaryText({ ...rest, rowsDeleted: 9 }, move("aborted"))).toMatch(
      /aborted: s1 serves range 40-80 as before and s3 holds none of its rows\n[\s\S]*rows deleted +9 from s3/,
    );
  });

  it("names the rows that differ when verify found some", () => {
    const v = { ...summary, verify: { mode: "count" as const, differences: 4, tables: [] } };
    expect(summaryText(v, move("verified"))).toContain(
      "  verify          count: 4 rows differ (0 tables)\n",
    );
  });
});

describe("millis", () => {
  it.each([
    [12, "12 ms"],
    [999, "999 ms"],
    [1500, "1.5 s"],
    [61_000, "1 min 1 s"],
    [3_660_000, "1 h 1 min"],
  ])("millis(%d) is %s", (ms, text) => {
    expect(millis(ms)).toBe(text);
  });
});
