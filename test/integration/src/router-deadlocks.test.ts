// Fenced writes while the directory inserts fence rows (splits, pins): the fence's locking
// read can deadlock with them, and a write that InnoDB rolled back whole must be retried by
// the router, never surfaced to the application.
import { formatKeyRange } from "@shardkit/directory";
import type { Router } from "@shardkit/router";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RouterFixture, startRouterFixture, user } from "./fixtures/router-fixture.js";

let f: RouterFixture;
let router: Router;

beforeAll(async () => {
  f = await startRouterFixture({ seedUsers: 0 });
  router = f.router;
}, 120_000);

afterAll(async () => {
  await f?.close();
});

describe("writes racing directory changes on the same fence rows", () => {
  it("retries writes that lose a deadlock to a split, a merge or a pin: no write fails, every one lands once", async () => {
    const owner = router.locate(1).shard;
    const range = router.locate(1).range;
    const keys = [...Array(5000).keys()]
      .map((i) => i + 800_000)
      .filter((k) => {
        const t = router.locate(k);
        return t.shard === owner && formatKeyRange(t.range) === formatKeyRange(range);
      })
      .slice(0, 240);
    const mid = range.start + Math.floor((range.end - range.start) / 2);
    let changing = true;
    const changes = (async () => {
      for (let i = 0; changing && i < 40; i++) {
        const [left, right] = (await f.store.splitRange(range, mid)).ranges;
        await f.store.pinKey(`whale-${i}`, owner);
        await f.store.mergeRanges(left, right);
        await f.store.unpinKey(`whale-${i}`);
      }
    })();
    const errors: unknown[] = [];
    const writers = [0, 1, 2, 3].map(async (w) => {
      for (let i = w; i < keys.length; i += 4) {
        const key = keys[i] as number;
        try {
          if (i % 3 === 0) await router.insert("users", user(key), { deadlineMs: 10_000 });
          else if (i % 3 === 1) {
            await router.writeOne(key, (k) => k("users").insert(user(key)), { deadlineMs: 10_000 });
          } else {
            await router.write(key, (trx) => trx("users").insert(user(key)), {
              deadlineMs: 10_000,
            });
          }
        } catch (error) {
          errors.push(error);
        }
      }
    });
    await Promise.all(writers);
    changing = false;
    await changes;
    expect(errors.map((e) => (e as Error).message)).toEqual([]);
    const db = f.shardDb[owner] as Knex;
    const stored = await db("users").whereIn("user_id", keys).pluck("user_id");
    expect(stored.map(Number).sort((a, b) => a - b)).toEqual([...keys].sort((a, b) => a - b));
    await db("users").whereIn("user_id", keys).delete();
  });
});
