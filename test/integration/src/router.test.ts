// Reads and scatters over a shared, read-only fixture (300 users written before the tests),
// and the router's failures. A test that changes anything puts it back before it ends, so
// each passes alone and in any order. Writes are in router-writes.test.ts, routers in other
// processes in router-processes.test.ts, key columns in router-keys.test.ts.
import {
  hashKeyFunction,
  MysqlDirectoryStore,
  parseKeyRange,
  parseMysqlUrl,
  rangeContains,
} from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { createRouter, type Router, RouterError, ScatterError } from "@shardkit/router";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RouterFixture, startRouterFixture, USERS, user } from "./fixtures/router-fixture.js";

/** Rows of one test only ("handles an empty shard"), so no other test's rows show up in it. */
const PAYMENTS =
  "CREATE TABLE payments (payment_id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, total INT NOT NULL)";

let f: RouterFixture;
let fleet: Fleet;
let store: MysqlDirectoryStore;
let router: Router;
let shardDb: Readonly<Record<string, Knex>>;
let reference: Knex;

beforeAll(async () => {
  f = await startRouterFixture({
    tables: [USERS, PAYMENTS],
    sharded: [["users", "user_id"]],
    seedUsers: 300,
  });
  ({ fleet, store, router, shardDb, reference } = f);
}, 120_000);

afterAll(async () => {
  await f?.close();
});

describe("routing reads", () => {
  it("writes each row to the shard that owns its key, and only there", async () => {
    const snap = await store.snapshot();
    for (const key of [1, 2, 3, 77, 150, 299]) {
      const ksid = hashKeyFunction.ksid(key);
      const owner = snap.ranges.find((r) => rangeContains(r.range, ksid))?.shard;
      expect(await f.whereIs("users", "user_id", key)).toEqual([owner]);
      expect(router.locate(key).shard).toBe(owner);
    }
    const counts = await Promise.all(
      Object.values(shardDb).map(async (db) => Number((await db("users").count({ n: "*" }))[0]?.n)),
    );
    expect(counts.reduce((a, b) => a + b)).toBe(300);
    expect(counts.every((c) => c > 0)).toBe(true);
  });

  it("reads a key through knex bound to its owner", async () => {
    for (const key of [5, 42, 250]) {
      const row = await router.read(key).from("users").where({ user_id: key }).first();
      expect(row).toMatchObject({ user_id: key, name: user(key).name });
    }
  });

  it("reads many keys with one query per shard, exactly as one table would", async () => {
    const keys = [3, 9, 27, 81, 243, 100, 200, 299, 1000];
    const rows = await router.readMany<{ user_id: number }>("users", keys, (qb) =>
      qb.select("user_id", "name"),
    );
    const expected = await reference("users").whereIn("user_id", keys).select("user_id", "name");
    expect(rows.sort((a, b) => a.user_id - b.user_id)).toEqual(
      expected.sort((a, b) => a.user_id - b.user_id),
    );
  });
});

describe("scatter", () => {
  it("concatenates every shard's rows", async () => {
    const { rows, failed } = await router.scatter<{ user_id: number }>({
      query: (k) => k("users").select("user_id"),
    });
    expect(failed).toEqual([]);
    expect(rows.map((r) => r.user_id).sort((a, b) => a - b)).toEqual(
      [...Array(300).keys()].map((i) => i + 1),
    );
  });

  it.each([
    [[{ column: "amount", order: "desc" }, { column: "user_id" }], 10, 0],
    [[{ column: "amount", order: "desc" }, { column: "user_id" }], 25, 40],
    [[{ column: "name" }, { column: "user_id", order: "desc" }], 30, 7],
    [[{ column: "country", order: "desc" }, { column: "name" }, { column: "user_id" }], 100, 150],
    [[{ column: "created" }, { column: "user_id" }], 20, 0],
    [[{ column: "user_id", order: "desc" }], 1000, 0],
  ] as const)(
    "ORDER BY %j LIMIT %d OFFSET %d equals one big table",
    async (orderBy, limit, offset) => {
      const { rows } = await router.scatter({
        query: (k) => k("users").select("user_id", "name", "country", "amount", "created"),
        orderBy,
        limit,
        offset,
      });
      let q = reference("users").select("user_id", "name", "country", "amount", "created");
      for (const t of orderBy) q = q.orderBy(t.column, "order" in t ? t.order : "asc");
      const expected = limit === undefined ? await q : await q.limit(limit).offset(offset);
      expect(rows).toEqual(expected);
    },
  );

  it("computes COUNT, SUM, MIN, MAX and AVG, overall and per GROUP BY group", async () => {
    const aggregates = {
      n: { fn: "count" },
      total: { fn: "sum", column: "amount" },
      lo: { fn: "min", column: "amount" },
      hi: { fn: "max", column: "name" },
      mean: { fn: "avg", column: "amount" },
      dated: { fn: "count", column: "created" },
    } as const;
    const {
      rows: [all],
    } = await router.scatter({ query: (k) => k("users"), aggregates });
    const [ref] = await reference("users").select(
      reference.raw(
        "COUNT(*) AS n, SUM(amount) AS total, MIN(amount) AS lo, MAX(name) AS hi, AVG(amount) AS mean, COUNT(created) AS dated",
      ),
    );
    // Value for value and type for type: DECIMAL sums and averages are strings, as one server's.
    expect(all).toStrictEqual({
      n: ref.n,
      total: ref.total,
      lo: ref.lo,
      hi: ref.hi,
      mean: ref.mean,
      dated: ref.dated,
    });

    const { rows: grouped } = await router.scatter({
      query: (k) => k("users").where("amount", ">", 10),
      aggregates: {
        n: { fn: "count" },
        total: { fn: "sum", column: "amount" },
        mean: { fn: "avg", column: "amount" },
      },
      groupBy: ["country"],
      orderBy: [{ column: "n", order: "desc" }],
    });
    const expected = await reference("users")
      .where("amount", ">", 10)
      .select("country", reference.raw("COUNT(*) AS n, SUM(amount) AS total, AVG(amount) AS mean"))
      .groupBy("country")
      .orderBy("n", "desc");
    // utf8mb4_general_ci groups "FR" and "fr" together, on every shard and across them.
    expect(grouped).toHaveLength(expected.length);
    for (const e of expected) {
      const g = grouped.find(
        (x) => String(x.country).toLowerCase() === String(e.country).toLowerCase(),
      );
      expect(g).toStrictEqual({ country: g?.country, n: e.n, total: e.total, mean: e.mean });
    }
  });

  it("handles an empty shard and an aggregate over no rows", async () => {
    // payments only on shards s1 and s2: s3 is empty.
    const keys = [...Array(400).keys()]
      .map((i) => i + 5000)
      .filter((k) => router.locate(k).shard !== "s3")
      .slice(0, 40);
    try {
      for (const k of keys) {
        const row = { payment_id: k, user_id: k, total: k % 13 };
        await router.write(k, (trx) => trx("payments").insert(row));
        await reference("payments").insert(row);
      }
      expect(await shardDb.s3?.("payments").count({ n: "*" })).toEqual([{ n: 0 }]);
      const { rows } = await router.scatter({
        query: (k) => k("payments").select("payment_id", "total"),
        orderBy: [{ column: "total", order: "desc" }, { column: "payment_id" }],
        limit: 15,
      });
      expect(rows).toEqual(
        await reference("payments")
          .select("payment_id", "total")
          .orderBy([{ column: "total", order: "desc" }, "payment_id"])
          .limit(15),
      );
      const { rows: none } = await router.scatter({
        query: (k) => k("payments").where("total", ">", 1000),
        aggregates: {
          n: { fn: "count" },
          s: { fn: "sum", column: "total" },
          m: { fn: "avg", column: "total" },
        },
      });
      expect(none).toEqual([{ n: 0, s: null, m: null }]);
    } finally {
      for (const db of [...Object.values(shardDb), reference]) await db("payments").delete();
    }
  });

  it("scatters only to the shards a key range covers", async () => {
    const snap = await store.snapshot();
    const first = snap.ranges[0];
    const { rows } = await router.scatter<{ user_id: number }>({
      query: (k) => k("users").select("user_id"),
      range: "-2a",
    });
    const onOwner = await shardDb[first?.shard ?? ""]?.("users").select("user_id");
    expect(rows.length).toBe(onOwner?.length);
  });

  it("names each failing shard, or returns the others' rows with allowPartial", async () => {
    await shardDb.s2?.raw("RENAME TABLE users TO users_away");
    try {
      const error = await router
        .scatter({ query: (k) => k("users").select("user_id") })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ScatterError);
      // A shard without the table answered with an SQL error: a query error, not an outage.
      expect((error as ScatterError).code).toBe("QUERY_FAILED");
      expect((error as ScatterError).failures.map((f) => f.shard)).toEqual(["s2"]);
      expect((error as Error).message).toMatch(/s2.*users/);
      const partial = await router.scatter<{ user_id: number }>({
        query: (k) => k("users").select("user_id"),
        orderBy: [{ column: "user_id" }],
        allowPartial: true,
      });
      expect(partial.failed.map((f) => f.shard)).toEqual(["s2"]);
      const expected =
        Number((await shardDb.s1?.("users").count({ n: "*" }))?.[0]?.n) +
        Number((await shardDb.s3?.("users").count({ n: "*" }))?.[0]?.n);
      expect(partial.rows).toHaveLength(expected);
    } finally {
      await shardDb.s2?.raw("RENAME TABLE users_away TO users");
    }
  });
});

describe("errors", () => {
  it("says SHARD_UNAVAILABLE, naming the shard and range, when a shard's server is down", async () => {
    const doomed = await startFleet({ servers: 1 });
    const [a] = fleet.servers;
    const url = await a?.createDatabase("dir_down");
    const s = new MysqlDirectoryStore({ directory: url ?? "" });
    let r: Router | undefined;
    try {
      await s.init();
      await s.addShard({ name: "up", ...parseMysqlUrl((await a?.createDatabase("up")) ?? "") });
      await s.addShard({
        name: "down",
        ...parseMysqlUrl((await doomed.servers[0]?.createDatabase("down")) ?? ""),
      });
      await s.layoutEven(2);
      r = await createRouter({ directory: s, pollIntervalMs: 0, heartbeatId: false });
      await doomed.stop();
      const key = [...Array(100).keys()].find((k) => r?.locate(k).shard === "down") as number;
      const error = (await r
        .write(key, (trx) => trx.raw("SELECT 1"))
        .catch((e: unknown) => e)) as RouterError;
      expect(error).toBeInstanceOf(RouterError);
      expect(error.code).toBe("SHARD_UNAVAILABLE");
      expect(error.shard).toBe("down");
      expect(error.range).toBe(r.locate(key).range.start === 0 ? "-80" : "80-");
      const scatter = (await r
        .scatter({ query: (k) => k.select(k.raw("1 AS one")) })
        .catch((e: unknown) => e)) as ScatterError;
      expect(scatter.failures.map((f) => [f.shard, (f.error as RouterError).code])).toEqual([
        ["down", "SHARD_UNAVAILABLE"],
      ]);
    } finally {
      await r?.close();
      await s.close();
      await doomed.stop();
    }
  });

  it("says NO_OWNER when no layout exists", async () => {
    const [a] = fleet.servers;
    const url = await a?.createDatabase("empty_dir");
    const s = new MysqlDirectoryStore({ directory: url ?? "" });
    await s.init();
    const r = await createRouter({ directory: s, pollIntervalMs: 0, heartbeatId: false });
    try {
      expect(() => r.locate(1)).toThrow(expect.objectContaining({ code: "NO_OWNER" }));
    } finally {
      await r.close();
      await s.close();
    }
    expect(parseKeyRange("-2a").end).toBe(0x2a000000);
  });
});
