import { describe, expect, it } from "vitest";
import { MoveMetrics } from "./move-metrics.js";

describe("MoveMetrics", () => {
  it("turns the engine's events into the move's metrics, labelled by its id", async () => {
    const m = new MoveMetrics();
    m.onEvent({ type: "started", moveId: "m1", source: "s1", target: "s3", range: "-40" });
    m.onEvent({ type: "phase", moveId: "m1", phase: "copying" });
    m.onEvent({
      type: "copy",
      table: "t",
      rowsCopied: 500,
      rowsRead: 900,
      totalEstimate: 1000,
      rowsPerSecond: 2500,
    });
    m.onEvent({ type: "catchup", eventsApplied: 42, lagMs: 1500 });
    m.onEvent({ type: "phase", moveId: "m1", phase: "copied" });
    m.onEvent({ type: "verify", table: "t", chunks: 3, differences: 1 });
    m.onEvent({ type: "cutover", attempt: 1, pauseMs: 300, ok: false, reason: "lag" });
    m.onEvent({ type: "cutover", attempt: 2, pauseMs: 40, ok: true });
    m.onEvent({ type: "cleanup", table: "t", rowsDeleted: 77 });
    m.failed({ code: "SHARD_UNAVAILABLE" });
    const text = await m.registry.metrics();
    for (const line of [
      'shardkit_move_phase{move="m1",phase="copying"} 0',
      'shardkit_move_phase{move="m1",phase="copied"} 1',
      'shardkit_move_rows_copied{move="m1",table="t"} 500',
      'shardkit_move_rows_read{move="m1",table="t"} 900',
      'shardkit_move_copy_rows_per_second{move="m1"} 2500',
      'shardkit_move_events_applied{move="m1"} 42',
      'shardkit_move_catchup_lag_seconds{move="m1"} 1.5',
      'shardkit_move_verify_differences{move="m1",table="t"} 1',
      'shardkit_move_cutover_pause_seconds{move="m1"} 0.04',
      'shardkit_move_cutover_attempts_total{move="m1",result="backed_off"} 1',
      'shardkit_move_cutover_attempts_total{move="m1",result="ok"} 1',
      'shardkit_move_rows_deleted{move="m1",table="t"} 77',
      'shardkit_move_errors_total{move="m1",code="SHARD_UNAVAILABLE"} 1',
    ]) {
      expect(text.split("\n")).toContain(line);
    }
  });
});
