import { type Fleet, startFleet } from "@shardkit/fleet";
import { cleanupMove, type MoveEvent, startMove } from "@shardkit/migrate";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { expectModel } from "./expect-model.js";
import { FencedWorkload } from "./fenced-workload.js";
import { sleep } from "./helpers.js";
import { MOVER, type MoveWorld, moveWorld } from "./move-world.js";

let fleet: Fleet;
let replica: Fleet;
const worlds: MoveWorld[] = [];
const workloads: FencedWorkload[] = [];

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
  replica = await startFleet({ servers: 1, serverArgs: ["--report-host=127.0.0.1"] });
  // The replica follows the first server from now on, four seconds behind.
  const [one] = fleet.servers;
  const [copy] = replica.servers;
  if (!one || !copy) throw new Error("no servers");
  const { connect } = await import("@shardkit/directory/internal");
  const { parseMysqlUrl } = await import("@shardkit/directory");
  const primary = await connect(parseMysqlUrl(one.adminUrl));
  const [row] = await primary.query<{ pos: string }>("SELECT @@gtid_binlog_pos AS pos");
  await primary.close();
  const follower = await connect(parseMysqlUrl(copy.adminUrl));
  await follower.query(`SET GLOBAL gtid_slave_pos = '${row?.pos}'`);
  await follower.query(
    `CHANGE MASTER TO MASTER_HOST = '${one.host}', MASTER_PORT = ${one.port}, MASTER_USER = '${one.user}', MASTER_PASSWORD = '', MASTER_USE_GTID = slave_pos, MASTER_DELAY = 4`,
  );
  await follower.query("START SLAVE");
  await follower.close();
});
afterEach(async () => {
  await Promise.all(workloads.splice(0).map((w) => w.close()));
  await Promise.all(worlds.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await replica?.stop();
  await fleet?.stop();
});

const options = { chunkSize: 50, user: MOVER.user, credentials: () => MOVER.password };

async function world(seed: number) {
  const w = await moveWorld(fleet);
  worlds.push(w);
  const workload = new FencedWorkload(w.routerSource, 200, seed);
  workloads.push(workload);
  await workload.seed();
  return { w, workload };
}

describe("cleanup", () => {
  it("waits for every live router to hold the switched version, then deletes the source's rows", async () => {
    const { w, workload } = await world(41);
    const switched = await startMove(
      w.admin,
      { range: "-40", to: "s3" },
      { ...options, cleanup: false },
    );
    expect(switched.state).toBe("switched");
    const version = (await w.admin.getMove(switched.moveId)).switchedVersion as number;
    await w.admin.recordHeartbeat({ id: "router-a", host: "app1", pid: 11, version: version - 1 });
    const started = performance.now();
    const cleaning = cleanupMove(w.admin, switched.moveId, { ...options, cleanupGraceMs: 30_000 });
    let settled = false;
    void cleaning.finally(() => {
      settled = true;
    });
    await sleep(1000);
    expect(settled).toBe(false);
    await w.admin.recordHeartbeat({ id: "router-a", host: "app1", pid: 11, version });
    const done = await cleaning;
    expect(done.state).toBe("done");
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(done.rowsDeleted).toBeGreaterThan(0);
    const history = (await w.admin.listMoveEvents(switched.moveId)).map((e) => e.message);
    const waited = new RegExp(
      `^every live router holds version ${version} or later \\(waited (\\d+) ms\\)$`,
    );
    const message = history.find((m) => waited.test(m)) ?? "";
    expect(Number(waited.exec(message)?.[1])).toBeGreaterThanOrEqual(1000);
    await expectModel(w, workload.model);
  });

  it("goes ahead after the grace period when a live router stays behind, naming it", async () => {
    const { w } = await world(42);
    const switched = await startMove(
      w.admin,
      { range: "-40", to: "s3" },
      { ...options, cleanup: false },
    );
    const version = (await w.admin.getMove(switched.moveId)).switchedVersion as number;
    await w.admin.recordHeartbeat({
      id: "router-stuck",
      host: "app2",
      pid: 12,
      version: version - 1,
    });
    const started = performance.now();
    const done = await cleanupMove(w.admin, switched.moveId, { ...options, cleanupGraceMs: 1500 });
    expect(done.state).toBe("done");
    expect(performance.now() - started).toBeGreaterThanOrEqual(1500);
    const history = (await w.admin.listMoveEvents(switched.moveId)).map((e) => e.message);
    expect(
      history.some((m) =>
        /grace period over after \d+ ms; routers still behind: router-stuck \(app2, version \d+\)/.test(
          m,
        ),
      ),
    ).toBe(true);
  });
});

describe("the replica throttle", () => {
  it("holds the copy while a replica of the source lags more than throttle-replica-lag-ms", async () => {
    const { w, workload } = await world(43);
    workload.start();
    // Writes for three seconds: the replica, four seconds behind, now lags.
    await sleep(3000);
    const events: MoveEvent[] = [];
    let stoppedAt = 0;
    const copying = startMove(
      w.admin,
      { range: "-40", to: "s3" },
      {
        ...options,
        stopAfter: "copy",
        throttleReplicaLagMs: 1000,
        replicas: [replica.servers[0]?.adminUrl as string],
        onEvent: (e) => events.push(e),
      },
    ).then((summary) => ({ summary, at: performance.now() }));
    await sleep(2000);
    // Nothing was copied while the replica lagged.
    expect(events.filter((e) => e.type === "copy")).toEqual([]);
    await workload.stop();
    stoppedAt = performance.now();
    const { summary, at } = await copying;
    expect(summary.state).toBe("copied");
    expect(at).toBeGreaterThan(stoppedAt);
    const history = (await w.admin.listMoveEvents(summary.moveId)).map((e) => e.message);
    expect(history).toContain(
      `copy and cleanup wait while a replica lags more than 1000 ms (127.0.0.1:${replica.servers[0]?.port})`,
    );
  });
});
