// ORDER BY across shards with qualified names, aliases and expressions, and the shard queries
// that group their own rows on the shard key: each merged page equals the same SQL on one
// reference database, values and JS types.
import { type Router, RouterError } from "@shardkit/router";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadShop, type ScatterWorld, startScatterWorld } from "./fixtures/scatter-fixture.js";

let world: ScatterWorld;
let router: Router;
let reference: Knex;

beforeAll(async () => {
  world = await startScatterWorld();
  router = world.router;
  reference = world.reference;
  await loadShop(world);
}, 180_000);

afterAll(async () => {
  await world?.stop();
});

const rentals = (k: Knex) =>
  k("rental")
    .join("inventory", "inventory.inventory_id", "rental.inventory_id")
    .select(
      "rental.rental_id",
      "inventory.store_id as store",
      "rental.rental_date",
      "rental.customer_id",
    );

describe("ORDER BY terms", () => {
  it.each([
    [
      [
        { column: "store" },
        { column: "rental.rental_date", order: "desc" },
        { column: "rental.rental_id" },
      ],
      25,
      5,
    ],
    [[{ column: "inventory.store_id", order: "desc" }, { column: "rental_id" }], 40, 0],
    [[{ column: "rental.customer_id" }, { column: "rental.rental_date" }], 2000, 0],
  ] as const)(
    "orders a join by %j (LIMIT %d OFFSET %d) as one server",
    async (orderBy, limit, offset) => {
      const { rows } = await router.scatter({ query: rentals, orderBy, limit, offset });
      let q = rentals(reference);
      for (const t of orderBy) q = q.orderBy(t.column, "order" in t ? t.order : "asc");
      expect(rows).toStrictEqual(await q.limit(limit).offset(offset));
      expect(rows.length).toBeGreaterThan(0);
    },
  );

  it("answers one query function whose captured values change from run to run, each run as one server", async () => {
    // The same function text every run; the scatter may reuse compiled SQL only for the same clauses.
    const byStaff = (staff: number, after: number) => (k: Knex) =>
      k("rental")
        .select("rental_id", "customer_id", "staff_id")
        .where("staff_id", staff)
        .andWhere("rental_id", ">", after);
    const runs = [
      [1, 0],
      [1, 0],
      [2, 0],
      [2, 500],
      [1, 500],
      [1, 500],
      [2, 0],
    ] as const;
    for (const [staff, after] of runs) {
      const orderBy = [{ column: "customer_id" }, { column: "rental_id", order: "desc" }] as const;
      const { rows } = await router.scatter({ query: byStaff(staff, after), orderBy, limit: 15 });
      const expected = await byStaff(
        staff,
        after,
      )(reference)
        .orderBy("customer_id")
        .orderBy("rental_id", "desc")
        .limit(15);
      expect(rows).toStrictEqual(expected);
      expect(rows).toHaveLength(15);
      expect(rows.every((r) => r.staff_id === staff && Number(r.rental_id) > after)).toBe(true);
    }
  });

  it("orders by an alias defined in raw select text, and by a column it does not select", async () => {
    const query = (k: Knex) =>
      k("rental").select("rental_id", k.raw("DATEDIFF(return_date, rental_date) AS days"));
    const { rows } = await router.scatter({
      query,
      orderBy: [{ column: "days", order: "desc" }, { column: "rental_id" }],
      limit: 30,
    });
    expect(rows).toStrictEqual(
      await query(reference)
        .orderBy([{ column: "days", order: "desc" }, "rental_id"])
        .limit(30),
    );
    const byHidden = await router.scatter({
      query: (k) => k("customer").select("customer_id"),
      orderBy: [{ column: "create_date" }, { column: "customer_id" }],
      limit: 20,
    });
    expect(byHidden.rows).toStrictEqual(
      await reference("customer")
        .select("customer_id")
        .orderBy(["create_date", "customer_id"])
        .limit(20),
    );
  });

  it("orders DATETIME(6) values to the microsecond", async () => {
    const at = "2030-01-01 10:00:00.000";
    const rows = [1, 2, 3, 4, 5, 6].map((i) => ({
      rental_id: 9000 + i,
      rental_date: `${at}${7 - i}`,
      inventory_id: 1,
      customer_id: 10 + i,
      return_date: null,
      staff_id: 1,
    }));
    await world.insertSharded("rental", "customer_id", rows);
    expect(new Set(rows.map((r) => world.ownerOf(r.customer_id))).size).toBeGreaterThan(1);
    const { rows: merged } = await router.scatter({
      query: (k) => k("rental").select("rental_id"),
      orderBy: [{ column: "rental_date", order: "desc" }],
      limit: 6,
    });
    expect(merged).toStrictEqual(
      await reference("rental").select("rental_id").orderBy("rental_date", "desc").limit(6),
    );
    expect(merged.map((r) => r.rental_id)).toStrictEqual([9001, 9002, 9003, 9004, 9005, 9006]);
  });

  it("follows a column that turns from INT to text between two runs of one query", async () => {
    const query = (k: Knex) => k("payment").select("payment_id", "amount");
    const orderBy = [{ column: "payment_id", order: "desc" }] as const;
    const expected = () => query(reference).orderBy("payment_id", "desc").limit(30);
    expect((await router.scatter({ query, orderBy, limit: 30 })).rows).toStrictEqual(
      await expected(),
    );
    await world.ddl(
      "ALTER TABLE payment MODIFY payment_id VARCHAR(10) COLLATE utf8mb4_general_ci NOT NULL",
    );
    try {
      const { rows } = await router.scatter({ query, orderBy, limit: 30 });
      expect(rows).toStrictEqual(await expected());
      // Text order: '99' sorts after '900'.
      expect(rows[0]).toMatchObject({ payment_id: "99" });
    } finally {
      await world.ddl("ALTER TABLE payment MODIFY payment_id INT NOT NULL");
    }
  });

  it("refuses to order by an ENUM, which MySQL sorts by member index", async () => {
    const error = await router
      .scatter({
        query: (k) => k("film").select("film_id", "rating"),
        orderBy: [{ column: "rating" }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RouterError);
    expect(error).toMatchObject({ code: "BAD_ARGUMENT" });
    expect((error as Error).message).toMatch(/rating.*ENUM/);
    expect((error as Error).message).not.toMatch(/\n/);
  });
});

describe("queries that group their own rows", () => {
  it("runs GROUP BY on the shard key per shard and merges the groups in order", async () => {
    const query = (k: Knex) =>
      k("payment")
        .select("customer_id")
        .sum("amount as total")
        .count("* as n")
        .groupBy("customer_id");
    const { rows } = await router.scatter({
      query,
      orderBy: [{ column: "total", order: "desc" }, { column: "customer_id" }],
      limit: 12,
      offset: 3,
    });
    expect(rows).toStrictEqual(
      await query(reference)
        .orderBy([{ column: "total", order: "desc" }, "customer_id"])
        .limit(12)
        .offset(3),
    );
    const all = await router.scatter<{ customer_id: number }>({
      query: (k) =>
        k("rental as r")
          .select("r.customer_id")
          .count("* as n")
          .groupBy("r.customer_id")
          .having("n", ">", 7),
    });
    const expected = await reference("rental as r")
      .select("r.customer_id")
      .count("* as n")
      .groupBy("r.customer_id")
      .having("n", ">", 7);
    const byId = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      Number(a.customer_id) - Number(b.customer_id);
    expect(all.rows.sort(byId)).toStrictEqual(expected.sort(byId));
  });

  it("runs DISTINCT with the shard key per shard", async () => {
    const query = (k: Knex) => k("rental").distinct("customer_id", "staff_id");
    const { rows } = await router.scatter({
      query,
      orderBy: [{ column: "customer_id" }, { column: "staff_id" }],
    });
    expect(rows).toStrictEqual(await query(reference).orderBy(["customer_id", "staff_id"]));
  });

  it.each([
    [
      "GROUP BY",
      (k: Knex) => k("payment").select("staff_id").count("* as n").groupBy("staff_id"),
      /GROUP BY.*groupBy/,
    ],
    [
      "HAVING",
      (k: Knex) => k("payment").select("staff_id").havingRaw("COUNT(*) > 1"),
      /HAVING.*having/,
    ],
    ["DISTINCT", (k: Knex) => k("payment").distinct("staff_id"), /DISTINCT.*customer_id/],
    [
      "a builder aggregate",
      (k: Knex) => k("payment").sum("amount as total"),
      /aggregate.*aggregates/,
    ],
    [
      "a raw aggregate",
      (k: Knex) => k("payment").select(k.raw("SUM(amount) AS total")),
      /aggregate.*aggregates/,
    ],
    ["LIMIT", (k: Knex) => k("payment").select("payment_id").limit(5), /LIMIT.*limit/],
    [
      "ORDER BY",
      (k: Knex) => k("payment").select("payment_id").orderBy("amount"),
      /ORDER BY.*orderBy/,
    ],
    [
      "UNION",
      (k: Knex) => k("payment").select("payment_id").union(k("rental").select("rental_id")),
      /UNION/,
    ],
    [
      "a window function",
      (k: Knex) => k("payment").select(k.raw("ROW_NUMBER() OVER (ORDER BY amount) AS r")),
      /window/,
    ],
  ])(
    "refuses a query carrying its own %s, naming it and what to use instead",
    async (_, query, message) => {
      const error = await router.scatter({ query }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RouterError);
      expect(error).toMatchObject({ code: "BAD_ARGUMENT" });
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toMatch(/\n/);
    },
  );
});
