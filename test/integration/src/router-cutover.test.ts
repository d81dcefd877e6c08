// Writes during a move's cutover, through the directory's own freeze and switch: the source's
// range is frozen, writes to it are refused and retried, and each lands within a few ms of the
// switch on the new owner (or of the unfreeze on the source, when the cutover backs off), while
// the directory is asked for its version no more often than the router's pacing allows.
import type { DirectorySource, MysqlDirectoryStore } from "@shardkit/directory";
import { createRouter, type Router } from "@shardkit/router";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RouterFixture, startRouterFixture, user } from "./fixtures/router-fixture.js";

let f: RouterFixture;

beforeAll(async () => {
  f = await startRouterFixture();
}, 120_000);

afterAll(async () => {
  await f?.close();
});

const OWNER = "cutover-test";
/** How long the range stays frozen while writes wait. */
const FROZEN_MS = 200;
/** The longest the router may take to see the new directory version after the switch. */
const SEES_WITHIN_MS = 20;
/** The longest a refused write may take to land after the switch (or unfreeze) completed. */
const LANDS_WITHIN_MS = 50;
/** The least time between two version reads for refused writes, as the router paces them. */
const REFRESH_GAP_MS = 2;

/** The store as a directory source that counts how often its version is read. */
function counted(store: MysqlDirectoryStore): { source: DirectorySource; versions: () => number } {
  let versions = 0;
  const source: DirectorySource = {
    location: store.location,
    snapshot: () => store.snapshot(),
    version: () => {
      versions++;
      return store.version();
    },
    recordHeartbeat: (h) => store.recordHeartbeat(h),
    listHeartbeats: () => store.listHeartbeats(),
    reserveIds: (sequence, count) => store.reserveIds(sequence, count),
    close: async () => undefined,
  };
  return { source, versions: () => versions };
}

/** `n` keys of the first range `shard` owns, from `from` upwards. */
function keysOf(router: Router, shard: string, n: number, from: number) {
  const range = router.directory.map.snapshot.ranges.find((a) => a.shard === shard)?.range;
  if (!range) throw new Error(`${shard} owns no range`);
  const keys: number[] = [];
  for (let k = from; keys.length < n; k++)
    if (router.locate(k).range.start === range.start) keys.push(k);
  return { range, keys };
}

/** One write per key, through each write path in turn; resolves to when each landed (performance.now()). */
function writeAll(router: Router, keys: readonly number[]): Promise<number[]> {
  return Promise.all(
    keys.map(async (k, i) => {
      const row = user(k);
      if (i % 3 === 0) await router.insert("users", row);
      else if (i % 3 === 1) await router.write(k, (trx) => trx("users").insert(row));
      else await router.writeOne(k, (knex) => knex("users").insert(row));
      return performance.now();
    }),
  );
}

/** A move of `range` from `source` to `target` brought to `copied`, its lease held by OWNER. */
async function copiedMove(
  id: string,
  range: { start: number; end: number },
  source: string,
  target: string,
) {
  await f.store.createMove({ id, kind: "range", range, source, target });
  await f.store.acquireMoveLease(id, OWNER, 60_000);
  await f.store.updateMove(id, OWNER, { state: "copying" });
  await f.store.updateMove(id, OWNER, { state: "copied" });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function shardsHolding(keys: readonly number[]): Promise<string[]> {
  const out = new Set<string>();
  for (const [name, db] of Object.entries(f.shardDb)) {
    if ((await (db as Knex)("users").whereIn("user_id", [...keys])).length > 0) out.add(name);
  }
  return [...out];
}

describe("writes during a cutover", () => {
  it("a write refused by the frozen range lands on the new owner within a few ms of the switch", async () => {
    const { source, versions } = counted(f.store);
    const router = await createRouter({ directory: source, pollIntervalMs: 0, heartbeatId: false });
    try {
      const { range, keys } = keysOf(router, "s1", 12, 1_000_000);
      // The router has written to both shards before, as an application's has: the time
      // measured is the cutover's, not that of opening the first connections to the target.
      await writeAll(router, keysOf(router, "s2", 12, 1_100_000).keys);
      await copiedMove("cutover-switch", range, "s1", "s2");
      await f.store.freezeRange("cutover-switch", OWNER);
      const before = versions();
      let landed = 0;
      const writes = writeAll(router, keys).then((at) => {
        landed = at.length;
        return at;
      });
      await sleep(FROZEN_MS);
      expect(landed).toBe(0);
      // Every refused write shares the paced refreshes: no more than one per gap.
      expect(versions() - before).toBeLessThanOrEqual(FROZEN_MS / REFRESH_GAP_MS + 5);
      let seen = Number.POSITIVE_INFINITY;
      router.directory.subscribe(() => {
        seen = Math.min(seen, performance.now());
      });
      await f.store.switchRange("cutover-switch", OWNER);
      const switched = performance.now();
      const at = await writes;
      expect(seen - switched).toBeLessThan(SEES_WITHIN_MS);
      expect(Math.max(...at) - switched).toBeLessThan(LANDS_WITHIN_MS);
      expect(await shardsHolding(keys)).toEqual(["s2"]);
      await f.store.updateMove("cutover-switch", OWNER, { state: "cleaning" });
      await f.store.updateMove("cutover-switch", OWNER, { state: "done" });
    } finally {
      await router.close();
    }
  });

  it("when the cutover backs off, a refused write lands on the source within a few ms of the unfreeze", async () => {
    const { source } = counted(f.store);
    const router = await createRouter({ directory: source, pollIntervalMs: 0, heartbeatId: false });
    try {
      const { range, keys } = keysOf(router, "s3", 6, 2_000_000);
      await copiedMove("cutover-back-off", range, "s3", "s1");
      await f.store.freezeRange("cutover-back-off", OWNER);
      const writes = writeAll(router, keys);
      await sleep(FROZEN_MS);
      await f.store.unfreezeRange("cutover-back-off", OWNER);
      const unfrozen = performance.now();
      const at = await writes;
      expect(Math.max(...at) - unfrozen).toBeLessThan(LANDS_WITHIN_MS);
      expect(await shardsHolding(keys)).toEqual(["s3"]);
      await f.store.updateMove("cutover-back-off", OWNER, { state: "aborting" });
      await f.store.updateMove("cutover-back-off", OWNER, { state: "aborted" });
    } finally {
      await router.close();
    }
  });

  it("a write still refused at its deadline names the move cutting its range over, and writes nothing", async () => {
    const router = await createRouter({
      directory: f.store,
      pollIntervalMs: 0,
      heartbeatId: false,
    });
    try {
      const { range, keys } = keysOf(router, "s2", 1, 3_000_000);
      const key = keys[0] as number;
      await copiedMove("cutover-deadline", range, "s2", "s3");
      await f.store.freezeRange("cutover-deadline", OWNER);
      const error = await router
        .write(key, (trx) => trx("users").insert(user(key)), { deadlineMs: 100 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: "DEADLINE_EXCEEDED",
        details: { shard: "s2", move: "cutover-deadline" },
      });
      expect((error as Error).message).toMatch(
        /^shard s2 refused the write for range \S+ \d+ time\(s\) within 100 ms: move cutover-deadline is cutting the range over from s2 to s3; see shardkit move status cutover-deadline, or give the write a longer deadline$/,
      );
      expect(await shardsHolding(keys)).toEqual([]);
      await f.store.updateMove("cutover-deadline", OWNER, { state: "aborting" });
      await f.store.unfreezeRange("cutover-deadline", OWNER);
      await f.store.updateMove("cutover-deadline", OWNER, { state: "aborted" });
    } finally {
      await router.close();
    }
  });
});
