import { canonicalKeyBytes, hashKeyFunction } from "@shardkit/directory";
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

describe("a key move", () => {
  it("moves a whale key's rows to their own shard under concurrent writes, pinning it there", async () => {
    const workload = new FencedWorkload(world.routerSource, 300, 31);
    try {
      await workload.seed();
      // The whale: a user of s1's range with many rows.
      const whale = Array.from({ length: 300 }, (_, i) => i + 1).find(
        (k) => hashKeyFunction.ksid(k) < 0x8000_0000,
      ) as number;
      await workload.seedOrders(whale, 500);
      workload.start();
      const events: MoveEvent[] = [];
      // Given as text and read as the BIGINT user_id stores it.
      const summary = await startMove(
        world.admin,
        { key: ` 0${whale}`, table: "accounts", to: "s3" },
        {
          chunkSize: 100,
          user: MOVER.user,
          credentials: () => MOVER.password,
          cleanupGraceMs: 500,
          onEvent: (e) => events.push(e),
        },
      );
      await workload.stop();
      expect(summary.state).toBe("done");
      expect(events[0]).toMatchObject({
        type: "started",
        source: "s1",
        target: "s3",
        key: String(whale),
      });
      const pin = (await world.admin.snapshot()).pins.find((p) =>
        Buffer.from(p.keyBytes).equals(canonicalKeyBytes(whale)),
      );
      expect(pin).toMatchObject({ shard: "s3", state: "serving" });
      // Only the whale's rows moved: the rest of its range stayed on s1.
      const rows = await shardRows(world.conns);
      const onS3 = rows.filter((r) => r.shard === "s3");
      expect(onS3.length).toBeGreaterThan(500);
      expect(new Set(onS3.map((r) => Number(r.row.user_id)))).toEqual(new Set([whale]));
      expect(rows.filter((r) => r.shard === "s1" && Number(r.row.user_id) === whale)).toEqual([]);
      expect(rows.filter((r) => r.shard === "s1").length).toBeGreaterThan(100);
      await expectModel(world, workload.model);
    } finally {
      await workload.close();
    }
  });
});
