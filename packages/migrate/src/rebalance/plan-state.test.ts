import {
  type DirectorySnapshot,
  type MoveState,
  parseKeyRange,
  type RangeAssignment,
} from "@shardkit/directory";
import { describe, expect, it } from "vitest";
import { checkPlanOptions, layoutOf, type PlanFile, parsePlanFile } from "./plan-file.js";
import { planProgress } from "./plan-state.js";

const shard = (name: string) => ({
  name,
  host: "127.0.0.1",
  port: 3306,
  user: "root",
  database: name,
  state: "serving" as const,
});

function snapshot(
  version: number,
  ranges: [string, string][],
  extra: Partial<DirectorySnapshot> = {},
): DirectorySnapshot {
  return {
    version,
    shards: ["s1", "s2", "s3"].map(shard),
    tables: [{ name: "users", keyColumn: "id", keyFunction: "hash" }],
    ranges: ranges.map(
      ([r, s]): RangeAssignment => ({ range: parseKeyRange(r), shard: s, state: "serving" }),
    ),
    pins: [],
    moves: [],
    ...extra,
  };
}

/** A plan made at version 5 from s1: -80, s2: 80-: split -80 at 40, move 40-80 to s3, move 80- to s3. */
const START = snapshot(5, [
  ["-80", "s1"],
  ["80-", "s2"],
]);
const PLAN: PlanFile = {
  ...JSON.parse(
    JSON.stringify({
      format: "shardkit-plan",
      formatVersion: 1,
      createdAt: "2026-12-07T00:00:00.000Z",
      directoryVersion: 5,
      assumed: {},
      shards: [],
      rowsMoved: 0,
      bytesMoved: 0,
      lowerBoundBytes: 0,
      closeness: 1,
      withinImbalance: true,
      unmet: [],
      maxOverMean: { before: 1, after: 1 },
    }),
  ),
  layout: layoutOf(START),
  steps: [
    { step: 1, kind: "split", range: "-80", at: "40" },
    { step: 2, kind: "move", range: "40-80", from: "s1", to: "s3", rows: 1, bytes: 1 },
    { step: 3, kind: "move", range: "80-", from: "s2", to: "s3", rows: 1, bytes: 1 },
  ],
};

const active = (id: string, range: string, source: string, target: string, state: MoveState) => ({
  id,
  kind: "range" as const,
  range: parseKeyRange(range),
  keyBytes: null,
  source,
  target,
  state,
});

describe("planProgress: where a plan stands, from the directory alone", () => {
  it("nothing done at the plan's version", () => {
    const p = planProgress(PLAN, START);
    expect([...p.splitsDone]).toEqual([]);
    expect([...p.moves.values()].map((m) => m.state)).toEqual(["pending", "pending"]);
  });

  it("a split made, one move done, one halfway (its move active)", () => {
    const now = snapshot(
      9,
      [
        ["-40", "s1"],
        ["40-80", "s3"],
        ["80-", "s2"],
      ],
      { moves: [active("m-2", "80-", "s2", "s3", "copying")] },
    );
    const p = planProgress(PLAN, now);
    expect([...p.splitsDone]).toEqual([1]);
    expect(p.moves.get(2)).toEqual({ state: "done" });
    expect(p.moves.get(3)).toEqual({ state: "active", moveId: "m-2" });
  });

  it("a switched move still cleaning up is active, not done", () => {
    const now = snapshot(
      9,
      [
        ["-40", "s1"],
        ["40-80", "s3"],
        ["80-", "s3"],
      ],
      { moves: [active("m-3", "80-", "s2", "s3", "switched")] },
    );
    expect(planProgress(PLAN, now).moves.get(3)).toEqual({ state: "active", moveId: "m-3" });
  });

  const stale: [string, DirectorySnapshot, RegExp][] = [
    [
      "a shard added",
      { ...START, version: 6, shards: [...START.shards, shard("s4")] },
      /shard s4 added/,
    ],
    ["a table removed", { ...START, version: 6, tables: [] }, /table users removed/],
    [
      "a key pinned",
      {
        ...START,
        version: 6,
        pins: [
          {
            keyBytes: new Uint8Array([55]),
            keyText: "7",
            ksid: 1,
            shard: "s2",
            state: "serving",
          },
        ],
      },
      /pin 7 \(on s2\) added/,
    ],
    [
      "a split the plan does not make",
      snapshot(6, [
        ["-20", "s1"],
        ["20-80", "s1"],
        ["80-", "s2"],
      ]),
      /a range now starts at 20, which the plan never splits at/,
    ],
    [
      "a range moved elsewhere",
      snapshot(6, [
        ["-80", "s1"],
        ["80-", "s1"],
      ]),
      /range 80- is on s1, the plan expects s2 or s3/,
    ],
    [
      "a range the plan leaves alone moved",
      snapshot(7, [
        ["-40", "s2"],
        ["40-80", "s1"],
        ["80-", "s2"],
      ]),
      /range -40 is on s2, the plan expects s1/,
    ],
    [
      "a move not in the plan",
      { ...START, version: 6, moves: [active("x", "80-", "s2", "s1", "copying")] },
      /move x \(range 80- from s2 to s1\) is running and is not in the plan/,
    ],
  ];
  for (const [what, now, message] of stale) {
    it(`refuses a plan whose directory changed: ${what}`, () => {
      expect(() => planProgress(PLAN, now)).toThrow(message);
      expect(() => planProgress(PLAN, now)).toThrow(
        /since the plan was made \(version 5, now \d+\)/,
      );
    });
  }
});

describe("parsePlanFile", () => {
  it("reads a plan and refuses anything else with BAD_PLAN", () => {
    expect(parsePlanFile(JSON.stringify(PLAN), "p.json").steps).toHaveLength(3);
    const bad = (text: string, message: RegExp) => {
      expect(() => parsePlanFile(text, "p.json")).toThrow(message);
      try {
        parsePlanFile(text, "p.json");
      } catch (e) {
        expect((e as { code: string }).code).toBe("BAD_PLAN");
      }
    };
    bad("{", /p.json is not JSON/);
    bad("[]", /is not a shardkit plan/);
    bad(JSON.stringify({ ...PLAN, formatVersion: 9 }), /plan format 9, this shardkit reads 1/);
    bad(
      JSON.stringify({ ...PLAN, steps: [{ step: 1, kind: "split", range: "zz", at: "40" }] }),
      /step 1 is not a split or move/,
    );
  });
});

describe("checkPlanOptions", () => {
  it("refuses to plan while a move runs, and names unknown shards", () => {
    const busy = { ...START, moves: [active("m-9", "80-", "s2", "s3", "copying")] };
    expect(() => checkPlanOptions(busy, {})).toThrow(
      /move m-9 \(80- from s2 to s3\) is running: let it finish/,
    );
    expect(() => checkPlanOptions(START, { add: ["s9"] })).toThrow(/unknown shard s9/);
    expect(() => checkPlanOptions(START, { add: ["s3"] })).not.toThrow();
  });
});
