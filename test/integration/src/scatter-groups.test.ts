// GROUP BY, ORDER BY, HAVING and countDistinct across shards on a real foreign-keyed schema: each
// merged answer equals the same SQL on one reference database, values and JS types.
import type { Router } from "@shardkit/router";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadShop, type ScatterWorld, startScatterWorld } from "./scatter-fixture.js";

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
      aggregates: { n: { fn: "count" }, films: { fn: "countDistinct", column: "inventory.film_id" } },
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
