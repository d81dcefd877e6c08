import type { DirectoryAdmin } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { type MoveEvent, type MoveSummary, resumeMove, startMove } from "@shardkit/migrate";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FencedWorkload } from "./fenced-workload.js";
import { sleep } from "./helpers.js";
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

const options = { chunkSize: 50, user: MOVER.user, credentials: () => MOVER.password };

async function world(seed: number): Promise<MoveWorld> {
  const w = await moveWorld(fleet);
  worlds.push(w);
  const workload = new FencedWorkload(w.routerSource, 200, seed);
  workloads.push(workload);
  await workload.seed();
  return w;
}

/** The rows of the moved tables on s3 (none while the tables are not there). */
async function rowsOnTarget(w: MoveWorld): Promise<number> {
  const s3 = w.conns.get("s3");
  if (!s3) throw new Error("no s3");
  const tables = await s3.query<{ t: string }>(
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('accounts', 'orders')",
  );
  let n = 0;
  for (const { t } of tables) {
    const [row] = await s3.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`);
    n += Number(row?.n ?? 0);
  }
  return n;
}

/** The directory's state a refusal must leave alone. */
async function directoryState(w: MoveWorld): Promise<unknown> {
  const snapshot = await w.admin.snapshot();
  return { version: snapshot.version, ranges: snapshot.ranges, moves: await w.admin.listMoves() };
}

describe("before the copy", () => {
  it("waits until every live router holds a version that knows of the move, and records the wait", async () => {
    const w = await world(51);
    const before = (await w.admin.snapshot()).version;
    await w.admin.recordHeartbeat({ id: "router-a", host: "app1", pid: 21, version: before });
    const events: { at: number; event: MoveEvent }[] = [];
    const moving = startMove(
      w.admin,
      { range: "-40", to: "s3" },
      {
        ...options,
        stopAfter: "copy",
        cleanupGraceMs: 30_000,
        onEvent: (event) => events.push({ at: performance.now(), event }),
      },
    );
    let settled = false;
    void moving.finally(() => {
      settled = true;
    });
    await sleep(1500);
    expect(settled).toBe(false);
    expect(events.filter((e) => e.event.type === "copy")).toEqual([]);
    expect(await rowsOnTarget(w)).toBe(0);
    // The router loads the directory as it is now, which knows of the move.
    const current = (await w.admin.snapshot()).version;
    expect(current).toBeGreaterThan(before);
    const refreshedAt = performance.now();
    await w.admin.recordHeartbeat({ id: "router-a", host: "app1", pid: 21, version: current });
    const summary = await moving;
    expect(summary.state).toBe("copied");
    expect(summary.rowsCopied).toBeGreaterThan(0);
    const firstCopy = events.find((e) => e.event.type === "copy");
    expect(firstCopy?.at).toBeGreaterThan(refreshedAt);
    const history = (await w.admin.listMoveEvents(summary.moveId)).map((e) => e.message);
    const waited =
      /^before the copy, every live router holds version (\d+) or later \(waited (\d+) ms\)$/;
    const message = history.find((m) => waited.test(m)) ?? "";
    const [, version, ms] = waited.exec(message) ?? [];
    expect(Number(version)).toBeGreaterThan(before);
    expect(Number(version)).toBeLessThanOrEqual(current);
    expect(Number(ms)).toBeGreaterThanOrEqual(1400);
  });

  it("copies after the grace period when a live router stays behind, naming it", async () => {
    const w = await world(52);
    const before = (await w.admin.snapshot()).version;
    await w.admin.recordHeartbeat({ id: "router-stuck", host: "app2", pid: 22, version: before });
    const started = performance.now();
    const summary = await startMove(
      w.admin,
      { range: "-40", to: "s3" },
      { ...options, stopAfter: "copy", cleanupGraceMs: 1200 },
    );
    expect(summary.state).toBe("copied");
    expect(performance.now() - started).toBeGreaterThanOrEqual(1200);
    const history = (await w.admin.listMoveEvents(summary.moveId)).map((e) => e.message);
    expect(history).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^before the copy, grace period over after \\d+ ms; routers still behind: router-stuck \\(app2, version ${before}\\)$`,
        ),
      ),
    );
  });
});

describe("a move's start", () => {
  it("announces the move's id only once it holds the lease: a resume started then is refused", async () => {
    const w = await world(53);
    // The lease is slow to come: a resume started on `started` would otherwise get it first.
    const slowLease = new Proxy(w.admin, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        if (property !== "acquireMoveLease") return value.bind(target);
        return async (...args: unknown[]) => {
          await sleep(300);
          return value.apply(target, args);
        };
      },
    }) as DirectoryAdmin;
    let resumed: Promise<MoveSummary | unknown> | null = null;
    const summary = await startMove(
      slowLease,
      { range: "-40", to: "s3" },
      {
        ...options,
        stopAfter: "copy",
        onEvent: (event) => {
          if (event.type !== "started") return;
          resumed = resumeMove(w.routerSource as unknown as DirectoryAdmin, event.moveId, {
            ...options,
            stopAfter: "copy",
          }).catch((error: unknown) => error);
        },
      },
    );
    expect(summary.state).toBe("copied");
    expect(resumed).not.toBeNull();
    expect(await resumed).toMatchObject({ code: "MOVE_LEASED" });
  });

  it("is refused in one line, naming the user, the shard and where the password comes from, when a shard refuses the mover's login", async () => {
    const w = await world(54);
    const before = await directoryState(w);
    const wrong = "wrong-Secret-77";
    const refused = async (more: Record<string, unknown>) => {
      const error = await startMove(w.admin, { range: "-40", to: "s3" }, { ...more }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: "SHARD_UNAVAILABLE" });
      const message = (error as Error).message;
      expect(message).not.toContain("\n");
      expect(message).not.toContain(wrong);
      expect(await directoryState(w)).toEqual(before);
      return message;
    };
    expect(await refused({ user: MOVER.user, credentials: () => wrong })).toMatch(
      /^shard s1 \(.+\) refused the mover's login as user shardkit_mover \(Access denied for user 'shardkit_mover'@.+\); check that user shardkit_mover exists on .+ and that its password \(from the mover's credentials \(shardkit move --user: SHARDKIT_MOVER_PASSWORD_S1 or SHARDKIT_MOVER_PASSWORD\)\) is the server's$/,
    );
    expect(await refused({ user: MOVER.user })).toContain(
      "its password (from SHARDKIT_SHARD_PASSWORD_S1 or SHARDKIT_SHARD_PASSWORD) is the server's",
    );
    // A user that logs in but may not use the shard's database.
    await w.conns
      .get("s1")
      ?.execute("CREATE USER IF NOT EXISTS 'stranger'@'127.0.0.1' IDENTIFIED BY 'stranger-pw'");
    expect(await refused({ user: "stranger", credentials: () => "stranger-pw" })).toContain(
      `; grant stranger the mover's privileges on ${w.shards.s1?.database} (docs/operations.md, Grants)`,
    );
  });
});
