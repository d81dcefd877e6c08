// A router reading the directory through the directory service (no directory database
// credentials), following a range change by the service's watch; and the router's metrics.
import { createRouter, type Router } from "@shardkit/router";
import { type RunningDirectoryService, startDirectoryService } from "@shardkit/service";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RouterFixture, startRouterFixture, user } from "./fixtures/router-fixture.js";

const TOKEN = "router-service-token";
let f: RouterFixture;
let service: RunningDirectoryService;

beforeAll(async () => {
  f = await startRouterFixture();
  service = await startDirectoryService({ directory: f.store, token: TOKEN, port: 0 });
}, 120_000);

afterAll(async () => {
  await service?.close();
  await f?.close();
});

/** Waits until `router` routes by the directory's current version; returns how long that took. */
async function follows(router: Router): Promise<number> {
  const version = await f.store.version();
  const t0 = performance.now();
  while (router.directory.version !== version && performance.now() - t0 < 5000) {
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(router.directory.version).toBe(version);
  return performance.now() - t0;
}

/** A key of the first range `shard` owns, from `from` upwards. */
function keyOn(router: Router, shard: string, from: number): number {
  for (let k = from; ; k++) if (router.locate(k).shard === shard) return k;
}

function rowsOf(shard: string, key: number) {
  return (f.shardDb[shard] as Knex)("users").where({ user_id: key });
}

describe("a router over the directory service", () => {
  it("refuses a wrong token with a one-line error saying what to pass", async () => {
    await expect(createRouter({ directory: service.url, token: "nope" })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      message: expect.stringMatching(/refused the token.*SHARDKIT_SERVICE_TOKEN/),
    });
  });

  it("routes, writes, reads, reserves ids and follows a range change by watch, not polling", async () => {
    // Polling once a minute: only the watch can bring the change within the bound below.
    const router = await createRouter({
      directory: service.url,
      token: TOKEN,
      pollIntervalMs: 60_000,
    });
    try {
      expect(router.directory.source.location).toBe(service.url);
      const key = keyOn(router, "s1", 1000);
      const range = router.locate(key).range;
      await router.insert("users", user(key));
      expect((await router.read(key).from("users").where({ user_id: key }).first())?.user_id).toBe(
        key,
      );
      expect(await rowsOf("s1", key)).toHaveLength(1);
      const a = await router.nextId("svc_orders");
      const b = await router.nextId("svc_orders");
      expect(b).toBe(a + 1);
      expect((await f.store.listHeartbeats()).map((h) => h.id)).toContain(
        router.directory.heartbeatId,
      );

      // The range goes to s2 (no rows move: the next key written in it lands on s2).
      await f.store.assignRange(range, "s1", "s2");
      expect(await follows(router)).toBeLessThan(1000);
      const next = key + 1_000_000;
      const moved = (() => {
        for (let k = next; ; k++) if (router.locate(k).range.start === range.start) return k;
      })();
      expect(router.locate(moved).shard).toBe("s2");
      await router.writeOne(moved, (k) => k("users").insert(user(moved)));
      expect(await rowsOf("s2", moved)).toHaveLength(1);
      expect(await rowsOf("s1", moved)).toHaveLength(0);
      await f.store.assignRange(range, "s2", "s1");
      await follows(router);
    } finally {
      await router.close();
    }
  });
});

describe("router metrics", () => {
  it("counts queries by shard and kind, fence refusals and retries, write latency, scatter fan-out and the directory version", async () => {
    // A router that never polls: after the range changes hands it writes to the old owner,
    // whose fence refuses, and it retries on the new one.
    const stale = await createRouter({ directory: f.store, pollIntervalMs: 0, heartbeatId: false });
    try {
      const key = keyOn(stale, "s3", 5000);
      const range = stale.locate(key).range;
      await stale.read(key).from("users").where({ user_id: key }).first();
      await stale.scatter({ query: (k) => k("users").select("user_id") });
      await expect(stale.read(key).from("no_such_table")).rejects.toThrow();
      await f.store.assignRange(range, "s3", "s2");
      await stale.write(key, (trx) => trx("users").insert(user(key)));
      await stale.insert("users", user(key + 1_000_000_000));
      expect(await rowsOf("s2", key)).toHaveLength(1);
      await f.store.assignRange(range, "s2", "s3");

      const text = await stale.metrics.metrics();
      const value = (line: string) =>
        Number(new RegExp(`^${escapeRegExp(line)} (\\S+)$`, "m").exec(text)?.[1]);
      expect(value('shardkit_router_queries_total{shard="s3",kind="read"}')).toBe(2);
      expect(
        value('shardkit_router_errors_total{shard="s3",kind="read",code="ER_NO_SUCH_TABLE"}'),
      ).toBe(1);
      expect(value('shardkit_router_queries_total{shard="s3",kind="write"}')).toBe(1);
      expect(value('shardkit_router_queries_total{shard="s2",kind="write"}')).toBe(1);
      expect(value('shardkit_router_fence_refusals_total{shard="s3"}')).toBe(1);
      expect(value('shardkit_router_write_retries_total{shard="s3",reason="fenced"}')).toBe(1);
      expect(value('shardkit_router_write_duration_seconds_count{kind="write"}')).toBe(1);
      expect(value('shardkit_router_write_duration_seconds_count{kind="insert"}')).toBe(1);
      expect(value("shardkit_router_scatter_fanout_sum")).toBe(3);
      for (const s of ["s1", "s2", "s3"]) {
        expect(value(`shardkit_router_queries_total{shard="${s}",kind="scatter"}`)).toBe(1);
      }
      expect(value("shardkit_router_directory_version")).toBe(stale.directory.version);
      expect(value("shardkit_router_directory_age_seconds")).toBeGreaterThanOrEqual(0);
      expect(stale.metrics.contentType).toMatch(/^text\/plain/);
    } finally {
      await stale.close();
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
