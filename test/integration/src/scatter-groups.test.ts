// GROUP BY, ORDER BY, HAVING and countDistinct across shards on a real foreign-keyed schema: each
// merged answer equals the same SQL on one reference database, values and JS types.
import type { Router } from "@shardkit/router";
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

const rentalsByStore = (k: Knex) =>
  k("rental").join("inventory", "inventory.inventory_id", "rental.inventory_id");

describe("GROUP BY across shards", () => {
  it("groups by a qualified column of a join, as one server names and counts it", async () => {
    const { rows } = await router.scatter({
      query: rentalsByStore,
      groupBy: ["inventory.store_id"],
      aggregates: { n: { fn: "count" }, last: { fn: "max", column: "rental.rental_date" } },
      orderBy: [{ column: "inventory.store_id" }],
    });
    const expected = await rentalsByStore(reference)
      .select("inventory.store_id")
      .select(reference.raw("COUNT(*) AS n, MAX(rental.rental_date) AS last"))
      .groupBy("inventory.store_id")
      .orderBy("inventory.store_id");
    expect(expected).toHaveLength(2);
    expect(rows).toStrictEqual(expected);
  });

  it("groups under an alias and by a SQL expression, ordered by the aggregate", async () => {
    const { rows } = await router.scatter({
      query: rentalsByStore,
      groupBy: ["inventory.store_id as store", { sql: "MONTH(rental.rental_date)", as: "month" }],
      aggregates: {
        n: { fn: "count" },
        films: { fn: "countDistinct", column: "inventory.film_id" },
      },
      orderBy: [{ column: "n", order: "desc" }, { column: "store" }, { column: "month" }],
    });
    const expected = await rentalsByStore(reference)
      .select(
        reference.raw(
          "inventory.store_id AS store, MONTH(rental.rental_date) AS month, COUNT(*) AS n, COUNT(DISTINCT inventory.film_id) AS films",
        ),
      )
      .groupBy("inventory.store_id", reference.raw("MONTH(rental.rental_date)"))
      .orderBy([{ column: "n", order: "desc" }, "store", "month"]);
    expect(rows).toStrictEqual(expected);
  });
});

/** Folds a name as utf8mb4_general_ci compares it, for groups whose spelling one server picks. */
const fold = (s: unknown) =>
  String(s).normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().trimEnd();

describe("text by collation", () => {
  it("groups text by collation and orders the groups and MIN/MAX by it, not by JS string order", async () => {
    const { rows } = await router.scatter<Record<string, unknown>>({
      query: (k) => k("customer"),
      groupBy: ["customer.last_name"],
      aggregates: {
        n: { fn: "count" },
        lo: { fn: "min", column: "first_name" },
        hi: { fn: "max", column: "first_name" },
      },
      orderBy: [{ column: "last_name", order: "desc" }],
    });
    const expected = await reference("customer")
      .select("customer.last_name")
      .select(reference.raw("COUNT(*) AS n, MIN(first_name) AS lo, MAX(first_name) AS hi"))
      .groupBy("customer.last_name")
      .orderBy("last_name", "desc");
    // 'García' and 'garcia' are one group: one server shows either spelling.
    const folded = (rs: Record<string, unknown>[]) =>
      rs.map((r) => ({ ...r, last_name: fold(r.last_name) }));
    expect(folded(rows)).toStrictEqual(folded(expected));
    expect(rows.length).toBeLessThan(14);

    const overall = await router.scatter({
      query: (k) => k("customer"),
      aggregates: {
        lo: { fn: "min", column: "last_name" },
        hi: { fn: "max", column: "last_name" },
      },
    });
    expect(overall.rows).toStrictEqual(
      await reference("customer").select(
        reference.raw("MIN(last_name) AS lo, MAX(last_name) AS hi"),
      ),
    );
  });

  it("compares trailing spaces and characters below space as PAD SPACE does", async () => {
    const ids = [2001, 2002, 2003, 2004, 2005, 2006];
    const names = ["Ab", "Ab\t", "ab ", "Ab\u0001", "AB", "Ab  "];
    await world.insertSharded(
      "customer",
      "customer_id",
      ids.map((customer_id, i) => ({
        customer_id,
        store_id: 1,
        first_name: "Pad",
        last_name: names[i],
        active: 1,
        create_date: new Date(Date.UTC(2024, 0, 1)),
      })),
    );
    expect(new Set(ids.map((id) => world.ownerOf(id))).size).toBeGreaterThan(1);
    try {
      const { rows } = await router.scatter({
        query: (k) => k("customer").select("customer_id", "last_name").where("first_name", "Pad"),
        orderBy: [{ column: "last_name" }, { column: "customer_id", order: "desc" }],
      });
      expect(rows).toStrictEqual(
        await reference("customer")
          .select("customer_id", "last_name")
          .where("first_name", "Pad")
          .orderBy([{ column: "last_name" }, { column: "customer_id", order: "desc" }]),
      );
      const grouped = await router.scatter<{ last_name: string; n: number }>({
        query: (k) => k("customer").where("first_name", "Pad"),
        groupBy: ["last_name"],
        aggregates: { n: { fn: "count" } },
        orderBy: [{ column: "last_name" }],
      });
      const expected = await reference("customer")
        .where("first_name", "Pad")
        .select("last_name")
        .count("* as n")
        .groupBy("last_name")
        .orderBy("last_name");
      expect(grouped.rows.map((r) => r.n)).toStrictEqual(expected.map((r) => r.n));
      expect(grouped.rows.map((r) => r.n)).toStrictEqual([1, 1, 4]);
    } finally {
      await Promise.all(
        [...Object.values(world.shards), reference].map((k) =>
          k("customer").whereIn("customer_id", ids).delete(),
        ),
      );
    }
  });
});

describe("other collations", () => {
  const keyed = (collation: string) => (k: Knex) =>
    k("customer").select(
      "customer_id",
      k.raw(`CONVERT(last_name USING utf8mb4) COLLATE ${collation} AS k`),
    );

  it("orders by a one-level UCA collation named in the query", async () => {
    const query = keyed("utf8mb4_uca1400_ai_ci");
    const { rows } = await router.scatter({
      query,
      orderBy: [{ column: "k" }, { column: "customer_id" }],
      limit: 60,
    });
    expect(rows).toStrictEqual(await query(reference).orderBy(["k", "customer_id"]).limit(60));
  });

  it("refuses a PAD SPACE collation with several weight levels", async () => {
    const error = await router
      .scatter({ query: keyed("utf8mb4_uca1400_as_cs"), orderBy: [{ column: "k" }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "BAD_ARGUMENT" });
    expect((error as Error).message).toMatch(/k: its collation utf8mb4_uca1400_as_cs pads/);
  });
});

describe("HAVING after the merge", () => {
  it("keeps the groups whose merged values pass, numbers exactly and text by collation", async () => {
    const { rows } = await router.scatter({
      query: (k) => k("payment").join("customer", "customer.customer_id", "payment.customer_id"),
      groupBy: ["customer.last_name"],
      aggregates: { n: { fn: "count" }, total: { fn: "sum", column: "payment.amount" } },
      having: [
        { column: "total", op: ">", value: "300.50" },
        { column: "last_name", op: ">=", value: "j" },
      ],
      orderBy: [{ column: "total", order: "desc" }],
    });
    const expected = await reference("payment")
      .join("customer", "customer.customer_id", "payment.customer_id")
      .select("customer.last_name")
      .select(reference.raw("COUNT(*) AS n, SUM(payment.amount) AS total"))
      .groupBy("customer.last_name")
      .havingRaw("total > 300.50 AND last_name >= 'j'")
      .orderBy("total", "desc");
    expect(expected.length).toBeGreaterThan(2);
    expect(rows.map((r) => ({ ...r, last_name: fold(r.last_name) }))).toStrictEqual(
      expected.map((r) => ({ ...r, last_name: fold(r.last_name) })),
    );

    const byPredicate = await router.scatter<{ n: number }>({
      query: (k) => k("payment"),
      groupBy: ["staff_id"],
      aggregates: { n: { fn: "count" } },
      having: (row) => Number(row.n) % 2 === 0,
    });
    const all = await reference("payment").select("staff_id").count("* as n").groupBy("staff_id");
    expect(byPredicate.rows.map((r) => r.n).sort()).toStrictEqual(
      all
        .map((r) => Number(r.n))
        .filter((n) => n % 2 === 0)
        .sort(),
    );
  });
});

describe("countDistinct", () => {
  it("adds per-shard counts for the shard key and counts the union of values otherwise", async () => {
    const { rows } = await router.scatter({
      query: rentalsByStore,
      groupBy: ["inventory.store_id"],
      aggregates: {
        customers: { fn: "countDistinct", column: "rental.customer_id" },
        films: { fn: "countDistinct", column: "inventory.film_id" },
        returned: { fn: "countDistinct", column: "rental.return_date" },
      },
      orderBy: [{ column: "store_id" }],
    });
    const expected = await rentalsByStore(reference)
      .select("inventory.store_id")
      .select(
        reference.raw(
          "COUNT(DISTINCT rental.customer_id) AS customers, COUNT(DISTINCT inventory.film_id) AS films, COUNT(DISTINCT rental.return_date) AS returned",
        ),
      )
      .groupBy("inventory.store_id")
      .orderBy("store_id");
    expect(rows).toStrictEqual(expected);
  });

  it("answers one row over no rows at all without GROUP BY", async () => {
    const aggregates = {
      n: { fn: "count" },
      total: { fn: "sum", column: "amount" },
      mean: { fn: "avg", column: "amount" },
      lo: { fn: "min", column: "payment_date" },
      people: { fn: "countDistinct", column: "staff_id" },
    } as const;
    const { rows } = await router.scatter({
      query: (k) => k("payment").where("amount", "<", 0),
      aggregates,
    });
    expect(rows).toStrictEqual(
      await reference("payment")
        .where("amount", "<", 0)
        .select(
          reference.raw(
            "COUNT(*) AS n, SUM(amount) AS total, AVG(amount) AS mean, MIN(payment_date) AS lo, COUNT(DISTINCT staff_id) AS people",
          ),
        ),
    );
  });
});
