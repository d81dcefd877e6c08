import type { MoveEventRecord, MoveState } from "@shardkit/directory";
import { describe, expect, it } from "vitest";
import { stateDurations } from "./move-fields.js";

const at = (ms: number, state: MoveState): MoveEventRecord => ({
  moveId: "m",
  seq: ms,
  at: new Date(ms),
  state,
  message: "",
  details: {},
});

describe("stateDurations", () => {
  const history = [
    at(0, "created"),
    at(100, "copying"),
    at(150, "copying"),
    at(1100, "copied"),
    at(1300, "failed"),
  ];

  it("counts a state from its first entry to the next entry in another state", () => {
    expect(stateDurations(history, new Date(2000), false)).toEqual({
      created: 100,
      copying: 1000,
      copied: 200,
      failed: 700,
    });
  });

  it("stops the clock at the last entry of a move that ended, and adds up states visited twice", () => {
    const again = [...history, at(1400, "copying"), at(1600, "copied"), at(1700, "done")];
    expect(stateDurations(again, new Date(9999), true)).toEqual({
      created: 100,
      copying: 1200,
      copied: 300,
      failed: 100,
    });
  });

  it("is empty without history", () => {
    expect(stateDurations([], new Date(5), false)).toEqual({});
  });
});
