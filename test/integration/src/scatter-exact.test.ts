// Exact numbers across shards: BIGINT (signed and UNSIGNED, past 2^53) and DECIMAL of any
// precision order, MIN/MAX, SUM and AVG exactly as one server computes and prints them, with the
// JS types mysql2 gives for the same query on one server.
import type { Router } from "@shardkit/router";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seeded } from "./fixtures/databases.js";
import { type ScatterWorld, startScatterWorld } from "./fixtures/scatter-fixture.js";

let world: ScatterWorld;
let router: Router;
let reference: Knex;
let cent: number;

const LEDGER = `CREATE TABLE ledger (entry_id INT PRIMARY KEY, customer_id INT NOT NULL,
  big BIGINT NULL, ubig BIGINT UNSIGNED NULL, wide DECIMAL(65,30) NULL, money DECIMAL(30,2) NULL,
  qty INT NULL, ratio DOUBLE NULL, at DATETIME NULL)`;
const PROBE = `CREATE TABLE probe (id INT PRIMARY KEY, customer_id INT NOT NULL, g INT NOT NULL,
  v DECIMAL(12,5) NOT NULL, n INT NOT NULL, b BIGINT NOT NULL)`;

// Pairs that differ past a double's precision.
const WIDE_TWIN = [
  "99999999999999999999999999999999999.000000000000000000000000000001",
  "99999999999999999999999999999999999.000000000000000000000000000002",
  "-99999999999999999999999999999999999.000000000000000000000000000002",
  "-99999999999999999999999999999999999.000000000000000000000000000001",
];
const BIG = [
  "9007199254740993",
  "9007199254740992",
  "9007199254740994",
  "-9007199254740993",
  "-9007199254740994",
  "9007199254740995",
  "0",
  "-1",
  "123",
  null,
];
const UBIG = [
  "9007199254740995",
  "9007199254740994",
  "9007199254740993",
  "9007199254740992",
  "9223372036854775808",
  "0",
  "1",
  null,
  "42",
  "18446744073709551613",
];
const WIDE = [
  "99999999999999999999999999999999998.000000000000000000000000000001",
  "99999999999999999999999999999999998.000000000000000000000000000002",
  "-0.000000000000000000000000000001",
  "0.000000000000000000000000000002",
  "-99999999999999999999999999999999998.999999999999999999999999999999",
  "12345.678901234567890123456789012345",
  "0",
  null,
  "1.5",
  "-1.499999999999999999999999999999",
];

beforeAll(async () => {
  world = await startScatterWorld([
    { table: "ledger", ddl: LEDGER },
    { table: "probe", ddl: PROBE },
  ]);
  router = world.router;
  reference = world.reference;
  // Customer ids spread over the shards: entry i belongs to customer i + 1; the two money
  // values of the exact-sum test live on different shards.
  cent = BIG.findIndex((_, i) => world.ownerOf(i + 1) !== world.ownerOf(1));
  await world.insertSharded(
    "ledger",
    "customer_id",
    BIG.map((big, i) => ({
      entry_id: i + 1,
      customer_id: i + 1,
      big,
      ubig: UBIG[i],
      wide: WIDE[i],
      money: i === 0 ? "12345678901234567.89" : i === cent ? "0.01" : `${i}.${i}5`,
      qty: i === 7 ? null : 1000 * i - 3,
      ratio: i / 3,
      at: i === 8 ? null : new Date(Date.UTC(2020 + i, i, 1 + i, i)),
    })),
  );
  // Values a float cannot tell apart, the smaller on s1 and the extreme on s3, so a merge that
  // compares them as floats keeps s1's.
  const on = (shard: string) =>
    Array.from({ length: 200 }, (_, i) => 100 + i).filter((id) => world.ownerOf(id) === shard);
  const [a1, a2] = on("s1");
  const [b1, b2] = on("s3");
  await world.insertSharded("ledger", "customer_id", [
    {
      entry_id: 11,
      customer_id: a1,
      big: "9223372036854775806",
      ubig: "18446744073709551614",
      wide: WIDE_TWIN[0],
    },
    {
      entry_id: 12,
      customer_id: b1,
      big: "9223372036854775807",
      ubig: "18446744073709551615",
      wide: WIDE_TWIN[1],
    },
    { entry_id: 13, customer_id: a2, big: "-9223372036854775807", ubig: "1", wide: WIDE_TWIN[3] },
    { entry_id: 14, customer_id: b2, big: "-9223372036854775808", ubig: "0", wide: WIDE_TWIN[2] },
  ]);
  const rnd = seeded(11);
  const signed = (scale: number) => Math.floor((rnd() - 0.5) * scale);
  await world.insertSharded(
    "probe",
    "customer_id",
    Array.from({ length: 4000 }, (_, i) => ({
      id: i + 1,
      customer_id: 1 + Math.floor(rnd() * 500),
      g: i % 400,
      v: (signed(2e11) / 1e5).toFixed(5),
      n: signed(2e9),
      b: String(BigInt(signed(2e9)) * 1_000_000_007n),
    })),
  );
}, 180_000);

afterAll(async () => {
  await world?.stop();
});

describe("exact ORDER BY, MIN and MAX", () => {
  it("spreads the ledger over every shard", () => {
    expect(new Set(BIG.map((_, i) => world.ownerOf(i + 1))).size).toBe(3);
    expect(cent).toBeGreaterThan(0);
  });

  it.each([
    ["big", "asc"],
    ["big", "desc"],
    ["ubig", "asc"],
    ["ubig", "desc"],
    ["wide", "asc"],
    ["wide", "desc"],
  ] as const)("orders by %s %s exactly", async (column, order) => {
    for (const [limit, offset] of [
      [3, 0],
      [4, 2],
      [100, 0],
    ]) {
      const { rows } = await router.scatter({
        query: (k) => k("ledger").select("entry_id", column),
        orderBy: [{ column, order }, { column: "entry_id" }],
        limit,
        offset,
      });
      expect(rows).toStrictEqual(
        await reference("ledger")
          .select("entry_id", column)
          .orderBy([{ column, order }, "entry_id"])
          .limit(limit as number)
          .offset(offset as number),
      );
    }
  });

  it("takes MIN and MAX exactly, in the types one server returns", async () => {
    const columns = ["big", "ubig", "wide", "money", "at", "ratio"];
    const aggregates = Object.fromEntries(
      columns.flatMap((c) => [
        [`lo_${c}`, { fn: "min", column: c }],
        [`hi_${c}`, { fn: "max", column: c }],
      ]),
    ) as Record<string, { fn: "min" | "max"; column: string }>;
    const { rows } = await router.scatter({ query: (k) => k("ledger"), aggregates });
    const [expected] = await reference("ledger").select(
      reference.raw(columns.map((c) => `MIN(${c}) AS lo_${c}, MAX(${c}) AS hi_${c}`).join(", ")),
    );
    expect(rows).toStrictEqual([expected]);
    expect(rows[0]?.hi_ubig).toBe("18446744073709551615");
    expect(rows[0]?.lo_big).toBe("-9223372036854775808");
    expect(rows[0]?.lo_at).toBeInstanceOf(Date);
  });
});

describe("exact SUM and AVG", () => {
  it("sums DECIMAL(30,2) 12345678901234567.89 and 0.01 from two shards to '12345678901234567.90'", async () => {
    const { rows } = await router.scatter({
      query: (k) => k("ledger").whereIn("entry_id", [1, cent + 1]),
      aggregates: { total: { fn: "sum", column: "money" } },
    });
    expect(rows).toStrictEqual([{ total: "12345678901234567.90" }]);
  });

  it("sums, averages and counts every column as one server prints them", async () => {
    const sql = [
      "COUNT(*) AS n",
      "COUNT(qty) AS nq",
      "SUM(qty) AS sq",
      "AVG(qty) AS aq",
      "SUM(money) AS sm",
      "AVG(money) AS am",
      "SUM(wide) AS sw",
      "AVG(wide) AS aw",
      "SUM(big) AS sb",
      "AVG(big) AS ab",
      "SUM(ubig) AS su",
      "AVG(ubig) AS au",
    ];
    const { rows } = await router.scatter({
      query: (k) => k("ledger").where("entry_id", "<>", 5),
      aggregates: {
        n: { fn: "count" },
        nq: { fn: "count", column: "qty" },
        sq: { fn: "sum", column: "qty" },
        aq: { fn: "avg", column: "qty" },
        sm: { fn: "sum", column: "money" },
        am: { fn: "avg", column: "money" },
        sw: { fn: "sum", column: "wide" },
        aw: { fn: "avg", column: "wide" },
        sb: { fn: "sum", column: "big" },
        ab: { fn: "avg", column: "big" },
        su: { fn: "sum", column: "ubig" },
        au: { fn: "avg", column: "ubig" },
      },
    });
    const expected = await reference("ledger")
      .where("entry_id", "<>", 5)
      .select(reference.raw(sql.join(", ")));
    expect(rows).toStrictEqual(expected);
    const [r] = rows as Record<string, unknown>[];
    expect(typeof r?.n).toBe("number");
    expect(typeof r?.sq).toBe("string");
    expect(r?.aq).toMatch(/^-?\d+\.\d{4}$/);
    expect(r?.aw).toMatch(/^-?\d+\.\d{34}$/);
  });

  it("keeps FLOAT/DOUBLE sums as JS numbers", async () => {
    const { rows } = await router.scatter({
      query: (k) => k("ledger"),
      aggregates: { s: { fn: "sum", column: "ratio" }, a: { fn: "avg", column: "ratio" } },
    });
    const [e] = await reference("ledger").select(reference.raw("SUM(ratio) AS s, AVG(ratio) AS a"));
    expect(typeof rows[0]?.s).toBe("number");
    expect(rows[0]?.s).toBeCloseTo(e.s, 12);
    expect(rows[0]?.a).toBeCloseTo(e.a, 12);
  });

  it("rounds AVG as the server does, over 400 groups of random values, negatives included", async () => {
    const aggregates = {
      n: { fn: "count" },
      sv: { fn: "sum", column: "v" },
      av: { fn: "avg", column: "v" },
      an: { fn: "avg", column: "n" },
      ab: { fn: "avg", column: "b" },
      sb: { fn: "sum", column: "b" },
    } as const;
    const { rows } = await router.scatter({
      query: (k) => k("probe"),
      groupBy: ["g"],
      aggregates,
      orderBy: [{ column: "g" }],
    });
    const expected = await reference("probe")
      .select(
        "g",
        reference.raw(
          "COUNT(*) AS n, SUM(v) AS sv, AVG(v) AS av, AVG(n) AS an, AVG(b) AS ab, SUM(b) AS sb",
        ),
      )
      .groupBy("g")
      .orderBy("g");
    expect(rows).toHaveLength(400);
    expect(rows).toStrictEqual(expected);
  });

  it("takes the AVG scale from the server's div_precision_increment", async () => {
    const servers = world.fleet.servers;
    const admin = [world.reference, world.shards.s2 as Knex];
    await Promise.all(admin.map((k) => k.raw("SET GLOBAL div_precision_increment = 7")));
    const { createRouter } = await import("@shardkit/router");
    const fresh = await createRouter({
      directory: world.store,
      pollIntervalMs: 0,
      heartbeatId: false,
    });
    try {
      const { rows } = await fresh.scatter({
        query: (k) => k("probe").where("g", "<", 5),
        groupBy: ["g"],
        aggregates: { av: { fn: "avg", column: "v" }, an: { fn: "avg", column: "n" } },
        orderBy: [{ column: "g" }],
      });
      const expected = await reference.transaction(async (trx) => {
        await trx.raw("SET SESSION div_precision_increment = 7");
        const out = await trx("probe")
          .where("g", "<", 5)
          .select("g", trx.raw("AVG(v) AS av, AVG(n) AS an"))
          .groupBy("g")
          .orderBy("g");
        await trx.raw("SET SESSION div_precision_increment = 4");
        return out;
      });
      expect(rows).toStrictEqual(expected);
      expect(rows[0]?.an).toMatch(/\.\d{7}$/);
      expect(servers).toHaveLength(2);
    } finally {
      await Promise.all(admin.map((k) => k.raw("SET GLOBAL div_precision_increment = 4")));
      await fresh.close();
    }
  });
});
