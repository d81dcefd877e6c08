import { describe, expect, it } from "vitest";
import {
  canMoveTransition,
  ENDED_MOVE_STATES,
  isMoveActive,
  isMoveState,
  MOVE_STATES,
  MOVE_TRANSITIONS,
  type MoveState,
} from "./move-model.js";

describe("the move state machine", () => {
  it("lists every state once, each with its transitions to known states", () => {
    expect(Object.keys(MOVE_TRANSITIONS).sort()).toEqual([...MOVE_STATES].sort());
    for (const [from, tos] of Object.entries(MOVE_TRANSITIONS)) {
      for (const to of tos) expect(isMoveState(to), `${from} -> ${to}`).toBe(true);
      expect(new Set(tos).size, from).toBe(tos.length);
    }
  });

  it.each<[MoveState, MoveState, boolean]>([
    // The way a move goes when all goes well.
    ["created", "copying", true],
    ["copying", "copied", true],
    ["copied", "verifying", true],
    ["verifying", "verified", true],
    ["verified", "cutting_over", true],
    ["copied", "cutting_over", true],
    ["cutting_over", "switched", true],
    ["switched", "cleaning", true],
    ["cleaning", "done", true],
    // A cutover that backs off, and verifying again.
    ["cutting_over", "copied", true],
    ["cutting_over", "verified", true],
    ["verified", "verifying", true],
    // Abort before the switch, never after it.
    ["created", "aborting", true],
    ["cutting_over", "aborting", true],
    ["aborting", "aborted", true],
    ["switched", "aborting", false],
    ["cleaning", "aborting", false],
    ["switched", "copied", false],
    // No skipping ahead.
    ["created", "copied", false],
    ["copying", "cutting_over", false],
    ["verified", "switched", false],
    ["copied", "switched", false],
    ["cleaning", "switched", false],
    ["switched", "done", false],
    ["created", "aborted", false],
    ["cutting_over", "aborted", false],
    // Ended moves stay ended, even in place.
    ["done", "done", false],
    ["done", "cleaning", false],
    ["aborted", "aborted", false],
    ["aborted", "copying", false],
    // Any running state can fail, and stay where it is.
    ["copying", "failed", true],
    ["switched", "failed", true],
    ["aborting", "failed", true],
    ["copying", "copying", true],
  ])("%s -> %s: %s", (from, to, allowed) => {
    expect(canMoveTransition(from, to)).toBe(allowed);
  });

  it.each<[MoveState, MoveState, boolean]>([
    // Resume goes back to where it failed, or on from there.
    ["copying", "copying", true],
    ["copying", "copied", true],
    ["copying", "aborting", true],
    ["copying", "cutting_over", false],
    ["cutting_over", "switched", true],
    ["cutting_over", "aborting", true],
    // Failed past the switch: forward only.
    ["switched", "switched", true],
    ["switched", "cleaning", true],
    ["switched", "aborting", false],
    ["cleaning", "done", true],
    ["cleaning", "aborting", false],
    ["aborting", "aborted", true],
    ["aborting", "copying", false],
  ])("failed in %s -> %s: %s", (failedIn, to, allowed) => {
    expect(canMoveTransition("failed", to, failedIn)).toBe(allowed);
  });

  it("lets a failed move whose phase is unknown only abort", () => {
    expect(canMoveTransition("failed", "aborting", null)).toBe(true);
    expect(canMoveTransition("failed", "copying", null)).toBe(false);
    expect(canMoveTransition("failed", "failed", null)).toBe(true);
  });

  it("reaches done only through the switch and cleanup, and aborted only through aborting", () => {
    const into = (state: MoveState) =>
      MOVE_STATES.filter((s) => MOVE_TRANSITIONS[s].includes(state)).sort();
    expect(into("switched")).toEqual(["cutting_over"]);
    expect(into("done")).toEqual(["cleaning"]);
    expect(into("aborted")).toEqual(["aborting"]);
    expect(into("aborting")).toEqual([
      "copied",
      "copying",
      "created",
      "cutting_over",
      "verified",
      "verifying",
    ]);
  });

  it("counts a move active until it is done or aborted", () => {
    expect(ENDED_MOVE_STATES).toEqual(["done", "aborted"]);
    expect(MOVE_STATES.filter(isMoveActive)).toHaveLength(MOVE_STATES.length - 2);
    expect(isMoveActive("failed")).toBe(true);
    expect(isMoveActive("done")).toBe(false);
    expect(isMoveState("paused")).toBe(false);
  });
});
