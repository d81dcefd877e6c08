import { hashKeyFunction } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import {
  abortMove,
  cleanupMove,
  cutoverMove,
  type MoveEvent,
  resumeMove,
  startMove,
  verifyMove,
} from "@shardkit/migrate";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { expectModel } from "./expect-model.js";
import { FencedWorkload } from "./fenced-workload.js";
import { MOVER, type MoveWorld, moveWorld } from "./move-world.js";

let fleet: Fleet;
const worlds: MoveWorld[] = [];
const workloads: FencedWorkload[] = [];

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
});
afterEach(async () => {
  await Promise.all(workloads.splice(0).map((w) => w.close()));
  await Promise.all(worlds.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await fleet?.stop();
});

const options = {
  chunkSize: 50,
  user: MOVER.user,
  credentials: () => MOVER.password,
  cleanupGraceMs: 500,
};

async function world(seed: number, write: boolean) {
  const w = await moveWorld(fleet);
  worlds.push(w);
  const workload = new FencedWorkload(w.routerSource, 200, seed);
  workloads.push(workload);
  await workload.seed();
  if (write) workload.start();
  return { w, workload };
}

describe("verify", () => {
  it("names the primary keys that differ and fails the move, which abort then undoes", async () => {
    const { w } = await world(21, false);
    const copied = await startMove(
      w.admin,
      { range: "-40", to: "s3" },
      { ...options, stopAfter: "copy" },
    );
    const s3 = w.conns.get("s3");
    // A row the source never had, and a copied row changed behind the mover's back.
    const stray = Array.from({ length: 500 }, (_, i) => i + 1000).find(
      (k) => hashKeyFunction.ksid(k) < 0x4000_0000,
    ) as number;
    await s3?.execute(
      "INSERT INTO accounts (id, user_id, balance, name) VALUES (77777777, ?, '1.00', 'stray')",
      [stray],
    );
    const [changed] =
      (await s3?.query<{ id: number }>("SELECT id FROM accounts ORDER BY id LIMIT 1")) ?? [];
    await s3?.execute("UPDATE accounts SET balance = balance + 1 WHERE id = ?", [changed?.id]);

    const error = await verifyMove(w.admin, copied.moveId, options).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "VERIFY_FAILED" });
    const message = (error as Error).message;
    expect(message).toContain("found 2 rows that differ");
    expect(message).toContain("accounts [77777777] extra");
    expect(message).toContain(`accounts [${changed?.id}] different`);
    expect(message).not.toContain("\n");
    const failed = await w.admin.getMove(copied.moveId);
    expect([failed.state, failed.failedIn]).toEqual(["failed", "verifying"]);

    await abortMove(w.admin, copied.moveId, options);
    // The tables the move created on the target are gone with their rows (the stray one too: it was in the range).
    expect(
      await s3?.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('accounts', 'orders')",
      ),
    ).toEqual([]);
  });

  it("in count mode compares the number of rows in each chunk", async () => {
    const { w } = await world(22, false);
    const copied = await startMove(
      w.admin,
      { range: "-40", to: "s3" },
      { ...options, stopAfter: "copy" },
    );
    const verified = await verifyMove(w.admin, copied.moveId, { ...options, verify: "count" });
    expect(verified.state).toBe("verified");
    expect(verified.verify?.mode).toBe("count");
    const rows = verified.verify?.tables.map((t) => [
      t.table,
      t.sourceRows === t.targetRows,
      t.sourceRows > 0,
    ]);
    expect(rows).toEqual([
      ["accounts", true, true],
      ["orders", true, true],
    ]);
    await abortMove(w.admin, copied.moveId, options);
  });
});

describe("the cutover", () => {
  it("waits, when the move stops after verify, for cutoverMove to finish it", async () => {
    const { w, workload } = await world(24, true);
    const verified = await startMove(
      w.admin,
      { range: "-40", to: "s3" },
      { ...options, stopAfter: "verify" },
    );
    expect(verified.state).toBe("verified");
    expect(verified.verify?.differences).toBe(0);
    expect(verified.pauseMs).toBeNull();
    // The source still serves the range, and cleanup has nothing to do yet.
    expect((await w.admin.snapshot()).ranges[0]).toMatchObject({ shard: "s1", state: "moving" });
    await expect(cleanupMove(w.admin, verified.moveId, options)).rejects.toMatchObject({
      code: "MOVE_STATE",
    });
    const done = await cutoverMove(w.admin, verified.moveId, options);
    await workload.stop();
    expect(done.state).toBe("done");
    expect(done.pauseMs).toBeGreaterThan(0);
    expect(Object.keys(done.phaseMs)).toEqual(["cutting_over", "cleaning"]);
    await expectModel(w, workload.model);
  });

  it("backs off when the pause would pass max-pause-ms, retries, then gives up with the source serving; a later resume finishes", async () => {
    const { w, workload } = await world(23, true);
    const events: MoveEvent[] = [];
    const error = await startMove(
      w.admin,
      { range: "-40", to: "s3" },
      {
        ...options,
        maxPauseMs: 10,
        cutoverAttempts: 2,
        onEvent: (e) => events.push(e),
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CUTOVER_TIMEOUT" });
    expect((error as Error).message).toMatch(/did not fit in 10 ms in 2 attempts.*--max-pause-ms/);
    const attempts = events.filter((e) => e.type === "cutover");
    expect(attempts.map((e) => e.type === "cutover" && e.ok)).toEqual([false, false]);
    const started = events[0];
    const id = started?.type === "started" ? started.moveId : "";
    const move = await w.admin.getMove(id);
    expect(move.state).toBe("verified");
    expect(move.error).toContain("did not fit");
    expect((await w.admin.snapshot()).ranges[0]).toMatchObject({ shard: "s1", state: "moving" });

    // The move keeps the options it was started with unless told otherwise.
    const summary = await resumeMove(w.admin, id, { ...options, maxPauseMs: 500 });
    await workload.stop();
    expect(summary.state).toBe("done");
    expect(summary.pauseMs).toBeLessThan(500);
    await expectModel(w, workload.model);
  });
});
