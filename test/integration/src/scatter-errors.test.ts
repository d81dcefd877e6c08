// Scatter failures say what happened: a query MySQL rejects is QUERY_FAILED naming the shard and
// carrying MySQL's message; only a shard that cannot be reached is SHARD_UNAVAILABLE; bad
// options are refused before any query reaches a shard; allowPartial never answers from no shard.
import { MysqlDirectoryStore, parseMysqlUrl } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";
import { createRouter, type Router, RouterError, ScatterError } from "@shardkit/router";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadShop, type ScatterWorld, startScatterWorld } from "./fixtures/scatter-fixture.js";

let world: ScatterWorld;
let router: Router;

beforeAll(async () => {
  world = await startScatterWorld();
  router = world.router;
  await loadShop(world);
}, 180_000);

afterAll(async () => {
  await world?.stop();
});

async function failure(p: Promise<unknown>): Promise<ScatterError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ScatterError);
  expect((error as Error).message).not.toMatch(/\n/);
  return error as ScatterError;
}

describe("query errors", () => {
  it("reports an unknown column as QUERY_FAILED on each shard, with MySQL's message and code", async () => {
    const error = await failure(
      router.scatter({ query: (k) => k("customer").select("no_such_column") }),
    );
    expect(error.code).toBe("QUERY_FAILED");
    expect(error.failures.map((f) => f.shard)).toEqual(["s1", "s2", "s3"]);
    const first = error.failures[0]?.error as RouterError;
    expect(first).toBeInstanceOf(RouterError);
    expect(first.code).toBe("QUERY_FAILED");
    expect(first.shard).toBe("s1");
    expect(first.details).toMatchObject({
      errno: 1054,
      mysqlCode: "ER_BAD_FIELD_ERROR",
      sqlState: "42S22",
    });
    expect(error.message).toMatch(/s1.*Unknown column 'no_such_column'.*fix the query/);
  });

  it("reports a syntax error and a throwing query function as QUERY_FAILED", async () => {
    const syntax = await failure(
      router.scatter({ query: (k) => k("customer").select(k.raw("customer_id FROM WHERE")) }),
    );
    expect(syntax.code).toBe("QUERY_FAILED");
    expect(syntax.failures[0]?.error).toMatchObject({ details: { errno: 1064 } });
    const thrown = await failure(
      router.scatter({
        query: (k, shard) => {
          if (shard === "s2") throw new Error("no builder for s2");
          return k("customer").select("customer_id");
        },
      }),
    );
    expect(thrown.code).toBe("QUERY_FAILED");
    expect(thrown.failures.map((f) => f.shard)).toEqual(["s2"]);
    expect(thrown.message).toMatch(/s2.*no builder for s2.*fix the query function/);
  });

  it("returns the other shards' rows with allowPartial, and throws when no shard answered", async () => {
    await world.shards.s2?.raw("RENAME TABLE customer TO customer_away");
    try {
      const partial = await router.scatter<{ customer_id: number }>({
        query: (k) => k("customer").select("customer_id"),
        orderBy: [{ column: "customer_id" }],
        allowPartial: true,
      });
      expect(partial.failed.map((f) => [f.shard, (f.error as RouterError).code])).toEqual([
        ["s2", "QUERY_FAILED"],
      ]);
      const others = await Promise.all(
        ["s1", "s3"].map((s) => (world.shards[s] as Knex)("customer").pluck("customer_id")),
      );
      expect(partial.rows.map((r) => r.customer_id)).toEqual(others.flat().sort((a, b) => a - b));
    } finally {
      await world.shards.s2?.raw("RENAME TABLE customer_away TO customer");
    }
    for (const extra of [{}, { aggregates: { n: { fn: "count" } } } as const]) {
      const error = await failure(
        router.scatter({
          query: (k) => k("customer").where("no_such_column", 1),
          allowPartial: true,
          ...extra,
        }),
      );
      expect(error.failures).toHaveLength(3);
      expect(error.code).toBe("QUERY_FAILED");
    }
  });
});

describe("shards whose schemas differ", () => {
  it("refuses to merge a column whose type differs between shards, as SCHEMA_MISMATCH", async () => {
    const ddl = (type: string) =>
      `CREATE TABLE drifted (customer_id INT PRIMARY KEY, v ${type} NOT NULL)`;
    for (const [name, k] of Object.entries(world.shards)) {
      await k.raw(ddl(name === "s2" ? "VARCHAR(20)" : "INT"));
      await k("drifted").insert([
        { customer_id: 1, v: 10 },
        { customer_id: 2, v: 9 },
      ]);
    }
    try {
      for (const extra of [
        { orderBy: [{ column: "v" }] },
        { aggregates: { hi: { fn: "max", column: "v" } } },
      ] as const) {
        const error = await router
          .scatter({ query: (k) => k("drifted").select("customer_id", "v"), ...extra })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RouterError);
        expect(error).toMatchObject({ code: "SCHEMA_MISMATCH" });
        expect((error as Error).message).toMatch(
          /column (v|hi) is .* on shard s\d but .* on shard s\d/,
        );
      }
    } finally {
      for (const k of Object.values(world.shards)) await k.raw("DROP TABLE IF EXISTS drifted");
    }
  });
});

describe("unreachable shards", () => {
  it("is SHARD_UNAVAILABLE only for a shard that cannot be reached, and QUERY_FAILED wins", async () => {
    const [a] = world.fleet.servers;
    const doomed = await startFleet({ servers: 1 });
    const store = new MysqlDirectoryStore({
      directory: (await a?.createDatabase("dir_down")) ?? "",
    });
    let r: Router | undefined;
    try {
      await store.init();
      await store.addShard({ name: "up", ...parseMysqlUrl((await a?.createDatabase("up")) ?? "") });
      const down = (await doomed.servers[0]?.createDatabase("down")) ?? "";
      await store.addShard({ name: "down", ...parseMysqlUrl(down) });
      await store.layoutEven(2);
      await doomed.stop();
      r = await createRouter({ directory: store, pollIntervalMs: 0, heartbeatId: false });
      const error = await failure(r.scatter({ query: (k) => k.select(k.raw("1 AS one")) }));
      expect(error.code).toBe("SHARD_UNAVAILABLE");
      expect(error.failures.map((f) => [f.shard, (f.error as RouterError).code])).toEqual([
        ["down", "SHARD_UNAVAILABLE"],
      ]);
      expect(error.message).toMatch(/down.*retry.*allowPartial/);
      const partial = await r.scatter({
        query: (k) => k.select(k.raw("1 AS one")),
        allowPartial: true,
      });
      expect(partial.rows).toEqual([{ one: 1 }]);
      const mixed = await failure(r.scatter({ query: (k) => k.select(k.raw("no_such_column")) }));
      expect(mixed.code).toBe("QUERY_FAILED");
      expect(mixed.failures.map((f) => f.shard).sort()).toEqual(["down", "up"]);
    } finally {
      await r?.close();
      await store.close();
      await doomed.stop();
    }
  });
});

describe("options checked before any query is sent", () => {
  const marker = "scatter-marker-7f3a";
  const query = (k: Knex) => k("customer").where("first_name", marker);
  const logged = async () => {
    let n = 0;
    for (const k of [world.reference, world.shards.s2 as Knex]) {
      const [rows] = await k.raw(
        "SELECT COUNT(*) AS n FROM mysql.general_log WHERE argument LIKE ? AND argument NOT LIKE '%general_log%'",
        [`%${marker}%`],
      );
      n += Number(rows[0].n);
    }
    return n;
  };

  beforeAll(async () => {
    for (const k of [world.reference, world.shards.s2 as Knex]) {
      await k.raw("SET GLOBAL log_output = 'TABLE'");
      await k.raw("SET GLOBAL general_log = 1");
    }
  });

  afterAll(async () => {
    for (const k of [world.reference, world.shards.s2 as Knex])
      await k.raw("SET GLOBAL general_log = 0");
  });

  it.each([
    ["options", "not an object", /options must be an object/],
    ["query", { query: "SELECT 1" }, /query must be a function/],
    ["query", { query: (k: Knex) => k.raw(`SELECT '${marker}'`) }, /knex query builder.*knex.raw/],
    ["query", { query: () => undefined }, /knex query builder.*undefined/],
    ["query", { query: async (k: Knex) => query(k) }, /not an async function/],
    ["query", { query: (k: Knex) => query(k).del() }, /del\(\)/],
    [
      "aggregates",
      { query, aggregates: { n: { fn: "median", column: "x" } } },
      /unknown fn "median"/,
    ],
    ["aggregates", { query, aggregates: { s: { fn: "sum" } } }, /sum needs a column/],
    [
      "aggregates",
      { query, aggregates: { d: { fn: "countDistinct" } } },
      /countDistinct needs a column/,
    ],
    ["limit", { query, limit: -1 }, /limit must be a non-negative integer/],
    ["offset", { query, offset: 1.5 }, /offset must be a non-negative integer/],
    [
      "orderBy",
      { query, orderBy: [{ column: "customer_id", order: "up" }] },
      /order must be "asc" or "desc"/,
    ],
    ["groupBy", { query, groupBy: ["store_id"] }, /groupBy needs aggregates/],
    ["having", { query, having: [{ column: "n", op: ">", value: 1 }] }, /having needs aggregates/],
    [
      "having",
      { query, aggregates: { n: { fn: "count" } }, having: [{ column: "m", op: ">", value: 1 }] },
      /having m is not an output column/,
    ],
    [
      "orderBy",
      { query, aggregates: { n: { fn: "count" } }, orderBy: [{ column: "store_id" }] },
      /orderBy store_id is not an output column/,
    ],
    ["orderBy", { query, orderBy: "customer_id" }, /orderBy must be an array/],
    ["allowPartial", { query, allowPartial: "yes" }, /allowPartial must be true or false/],
    ["orderby", { query, orderby: [] }, /unknown option orderby/],
  ])(
    "refuses bad %s (%j) with BAD_ARGUMENT and sends nothing",
    async (option, options, message) => {
      const error = await router.scatter(options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RouterError);
      expect(error).toMatchObject({ code: "BAD_ARGUMENT" });
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toMatch(/\n/);
      expect((error as RouterError).details.option).toBe(option);
      expect(await logged()).toBe(0);
    },
  );

  it("sends nothing when the query function throws for one shard", async () => {
    const error = await failure(
      router.scatter({
        query: (k, shard) => {
          if (shard === "s3") throw new Error("no builder");
          return query(k);
        },
      }),
    );
    expect(error.code).toBe("QUERY_FAILED");
    expect(await logged()).toBe(0);
  });

  it("logs the marker once a valid scatter runs, so the log above would have seen one", async () => {
    await router.scatter({ query });
    expect(await logged()).toBe(3);
  });
});
