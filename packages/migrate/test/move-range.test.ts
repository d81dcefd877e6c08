import { hashKeyFunction, parseKeyRange, rangeContains } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { type MoveEvent, startMove } from "@shardkit/migrate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectModel } from "./expect-model.js";
import { FencedWorkload, shardRows } from "./fenced-workload.js";
import { MOVER, type MoveWorld, moveWorld } from "./move-world.js";

let fleet: Fleet;
let world: MoveWorld;

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
  world = await moveWorld(fleet);
});
afterAll(async () => {
  await world?.close();
  await fleet?.stop();
});

describe("a range move", () => {
  it("moves a range of two tables under concurrent fenced writes, as the least-privileged mover, and cleans the source", async () => {
    const workload = new FencedWorkload(world.routerSource, 400, 3);
    try {
      await workload.seed();
      workload.start();
      const events: MoveEvent[] = [];
      const summary = await startMove(
        world.admin,
        { range: "-40", to: "s3" },
        {
          chunkSize: 100,
          user: MOVER.user,
          credentials: () => MOVER.password,
          cleanupGraceMs: 1000,
          onEvent: (e) => events.push(e),
        },
      );
      await workload.stop();

      expect(summary.state).toBe("done");
      expect(summary.rowsCopied).toBeGreaterThan(200);
      expect(summary.verify?.differences).toBe(0);
      expect(summary.pauseMs).toBeGreaterThan(0);
      expect(summary.pauseMs).toBeLessThanOrEqual(500 + 200);
      expect(summary.rowsDeleted).toBeGreaterThan(200);
      expect(workload.writes).toBeGreaterThan(100);
      expect(workload.fencedRetries).toBeGreaterThan(0);

      expect(events[0]).toMatchObject({
        type: "started",
        source: "s1",
        target: "s3",
        range: "-40",
      });
      const phases = events.flatMap((e) => (e.type === "phase" ? [e.phase] : []));
      expect(phases).toEqual([
        "copying",
        "copied",
        "verifying",
        "verified",
        "cutting_over",
        "switched",
        "cleaning",
        "done",
      ]);
      expect(events.some((e) => e.type === "copy" && e.table === "orders")).toBe(true);
      expect(events.filter((e) => e.type === "cutover" && e.ok)).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({ type: "done" });

      const snapshot = await world.admin.snapshot();
      expect(
        snapshot.ranges.map((r) => `${r.range.start.toString(16)}:${r.shard}:${r.state}`),
      ).toEqual(["0:s3:serving", "40000000:s1:serving", "80000000:s2:serving"]);
      expect(snapshot.moves).toEqual([]);
      await expectModel(world, workload.model);
      // Nothing of the moved range is left on the source.
      const range = parseKeyRange("-40");
      const left = (await shardRows(world.conns)).filter(
        (r) =>
          r.shard === "s1" && rangeContains(range, hashKeyFunction.ksid(Number(r.row.user_id))),
      );
      expect(left).toEqual([]);
      const history = await world.admin.listMoveEvents(summary.moveId);
      expect(history.map((e) => e.state)).toContain("switched");
      expect(JSON.stringify(history)).not.toContain(MOVER.password);
    } finally {
      await workload.close();
    }
  });
});
