import { type Fleet, startFleet } from "@shardkit/fleet";
import { abortMove, type MoveEvent, resumeMove, startMove } from "@shardkit/migrate";
import { armFailpoint, disarmFailpoint, type FailpointName } from "@shardkit/migrate/internal";
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
  disarmFailpoint();
  await Promise.all(workloads.splice(0).map((w) => w.close()));
  await Promise.all(worlds.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await fleet?.stop();
});

const options = {
  chunkSize: 60,
  // Fixed chunks, so that the copy passes each failpoint as often as the tests count on.
  chunkTimeMs: 0,
  user: MOVER.user,
  credentials: () => MOVER.password,
  cleanupGraceMs: 500,
};

async function busyWorld(seed: number): Promise<{ world: MoveWorld; workload: FencedWorkload }> {
  const world = await moveWorld(fleet);
  worlds.push(world);
  const workload = new FencedWorkload(world.routerSource, 300, seed);
  workloads.push(workload);
  await workload.seed();
  workload.start();
  return { world, workload };
}

function idOf(events: readonly MoveEvent[]): string {
  const started = events.find((e) => e.type === "started");
  if (started?.type !== "started") throw new Error("no started event");
  return started.moveId;
}

describe("a move that fails", () => {
  it.each([
    ["after-copy-chunk", 3, ["copying"]],
    // The applier's second batch comes during the copy or, when writes are slow, in verify or
    // in the catch-up after it (state verified, before the cutover): every one before the switch.
    ["after-apply-batch", 2, ["copying", "verifying", "verified"]],
    ["after-freeze", 1, ["cutting_over"]],
    ["before-directory-switch", 1, ["cutting_over"]],
    ["after-directory-switch", 1, ["switched"]],
    ["after-cleanup-chunk", 2, ["cleaning"]],
  ] as const)(
    "at %s (hit %i) is recorded failed in %j and resume finishes it with every write in place",
    async (point, hit, failedIn) => {
      const { world, workload } = await busyWorld(100 + hit);
      const events: MoveEvent[] = [];
      armFailpoint(point as FailpointName, hit, new Error(`stopped at ${point}`));
      await expect(
        startMove(
          world.admin,
          { range: "-40", to: "s3" },
          { ...options, onEvent: (e) => events.push(e) },
        ),
      ).rejects.toThrow(`stopped at ${point}`);
      const id = idOf(events);
      const failed = await world.admin.getMove(id);
      expect({ state: failed.state, error: failed.error }).toEqual({
        state: "failed",
        error: `stopped at ${point}`,
      });
      expect(failedIn).toContain(failed.failedIn);
      expect(failed.leaseOwner).toBeNull();
      // Before the switch the source still serves the range: the writes go on meanwhile.
      const snapshot = await world.admin.snapshot();
      const owner = snapshot.ranges.find((r) => r.range.start === 0);
      expect(owner?.shard).toBe(failed.switchedVersion === null ? "s1" : "s3");
      expect(owner?.state).not.toBe("frozen");

      const summary = await resumeMove(world.admin, id, options);
      await workload.stop();
      expect(summary.state).toBe("done");
      await expectModel(world, workload.model);
    },
  );

  it("resumes a cutover whose mover died with the range frozen", async () => {
    const { world, workload } = await busyWorld(7);
    const copied = await startMove(
      world.admin,
      { range: "-40", to: "s3" },
      { ...options, stopAfter: "copy" },
    );
    expect(copied.state).toBe("copied");
    // A mover that froze the range and vanished: its lease lapses after a second.
    await world.admin.acquireMoveLease(copied.moveId, "vanished", 1000);
    await world.admin.freezeRange(copied.moveId, "vanished");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const summary = await resumeMove(world.admin, copied.moveId, options);
    await workload.stop();
    expect(summary.state).toBe("done");
    expect(summary.pauseMs).toBeLessThan(1000);
    await expectModel(world, workload.model);
  });

  it("is refused to a second mover while the first runs it", async () => {
    const { world, workload } = await busyWorld(8);
    let id = "";
    let second: Promise<unknown> | null = null;
    const summary = await startMove(
      world.admin,
      { range: "-40", to: "s3" },
      {
        ...options,
        chunkSize: 20,
        onEvent: (e) => {
          if (e.type === "started") id = e.moveId;
          if (e.type === "copy" && second === null) {
            second = resumeMove(world.admin, id, options).then(
              () => "it ran",
              (error: unknown) => error,
            );
          }
        },
      },
    );
    await workload.stop();
    expect(await second).toMatchObject({ code: "MOVE_LEASED" });
    expect(summary.state).toBe("done");
    await expectModel(world, workload.model);
  });

  it("is undone by abort before the switch: the source serves as before and the target is clean", async () => {
    const { world, workload } = await busyWorld(9);
    armFailpoint("before-directory-switch", 1, new Error("stopped before the switch"));
    const events: MoveEvent[] = [];
    await expect(
      startMove(
        world.admin,
        { range: "-40", to: "s3" },
        { ...options, onEvent: (e) => events.push(e) },
      ),
    ).rejects.toThrow();
    const id = idOf(events);
    const summary = await abortMove(world.admin, id, options);
    expect(summary.state).toBe("aborted");
    expect(summary.rowsDeleted).toBeGreaterThan(0);
    // The application kept writing to the source all along.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await workload.stop();
    const snapshot = await world.admin.snapshot();
    expect(snapshot.moves).toEqual([]);
    expect(snapshot.ranges.filter((r) => r.shard === "s1").map((r) => r.state)).toEqual([
      "serving",
      "serving",
    ]);
    const s3 = world.conns.get("s3");
    expect(
      await s3?.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE 'shardkit%'",
      ),
    ).toEqual([]);
    expect(await s3?.query("SELECT * FROM shardkit_move_progress")).toEqual([]);
    expect(await world.conns.get("s1")?.query("SELECT * FROM shardkit_move_markers")).toEqual([]);
    await expectModel(world, workload.model);
    await expect(abortMove(world.admin, id, options)).rejects.toMatchObject({ code: "MOVE_STATE" });
  });
});
