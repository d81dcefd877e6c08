import knexFactory, { type Knex } from "knex";
import { afterAll, describe, expect, it } from "vitest";
import { groupsOnOneShard, queryShape, refusal } from "./query-shape.js";

// Builds SQL only: knex never connects without a query being run.
const k = knexFactory({ client: "mysql2" });
afterAll(() => k.destroy());
const keys: Record<string, string> = { payment: "customer_id", rental: "customer_id" };
const shape = (qb: Knex.QueryBuilder) => queryShape(qb, (t) => keys[t]);

describe("refusal", () => {
  it.each([
    ["plain rows", k("payment").select("payment_id", "amount").where("amount", ">", 1)],
    [
      "a join",
      k("payment").join("staff", "staff.staff_id", "payment.staff_id").select("payment.*"),
    ],
    [
      "GROUP BY the shard key",
      k("payment").select("customer_id").sum("amount as s").groupBy("customer_id"),
    ],
    [
      "GROUP BY alias.key with HAVING",
      k("payment as p")
        .select("p.customer_id")
        .count("* as n")
        .groupBy("p.customer_id", "p.staff_id")
        .having("n", ">", 1),
    ],
    ["DISTINCT with the shard key", k("rental").distinct("customer_id", "staff_id")],
    ["DISTINCT *", k("rental").distinct()],
  ])("lets %s run per shard", (_, qb) => {
    expect(refusal(shape(qb), false)).toBeUndefined();
  });

  it.each([
    [
      "GROUP BY another column",
      k("payment").select("staff_id").count("* as n").groupBy("staff_id"),
      /GROUP BY without the shard key; group by the shard key column customer_id/,
    ],
    [
      "GROUP BY another table's key",
      k("payment")
        .join("rental", "rental.rental_id", "payment.rental_id")
        .groupBy("rental.customer_id"),
      /GROUP BY/,
    ],
    ["groupByRaw", k("payment").groupByRaw("customer_id"), /GROUP BY/],
    [
      "GROUP BY on an unsharded table",
      k("staff").select("store_id").count("* as n").groupBy("store_id"),
      /pass groupBy and aggregates/,
    ],
    ["HAVING without GROUP BY", k("payment").havingRaw("COUNT(*) > 1"), /HAVING/],
    [
      "DISTINCT without the key",
      k("payment").distinct("staff_id"),
      /DISTINCT without the shard key column; select the shard key column customer_id too/,
    ],
    [
      "DISTINCT with the key but an aggregate",
      k("payment").distinct("customer_id").count("* as n"),
      /aggregate/,
    ],
    ["count()", k("payment").count("* as n"), /aggregate in its select list/],
    ["a raw SUM", k("payment").select(k.raw("sum(amount) as s")), /aggregate/],
    ["a raw GROUP_CONCAT", k("payment").select(k.raw("GROUP_CONCAT(staff_id)")), /aggregate/],
    ["LIMIT", k("payment").limit(1), /LIMIT\/OFFSET; pass limit and offset/],
    ["OFFSET", k("payment").offset(1), /LIMIT\/OFFSET/],
    ["first()", k("payment").first(), /first\(\) query/],
    ["ORDER BY", k("payment").orderBy("amount"), /ORDER BY; pass orderBy/],
    ["UNION", k("payment").select("payment_id").union(k("rental").select("rental_id")), /UNION/],
    ["WITH", k.with("w", k("payment")).select("*").from("w"), /WITH/],
    ["a window function", k("payment").select(k.raw("rank() over w")), /window function/],
    ["a knex window function", k("payment").rowNumber("r", "amount"), /window function/],
    ["an update", k("payment").update({ amount: 1 }), /update\(\) query/],
    ["driver options", k("payment").options({ nestTables: true }), /driver options/],
  ])("refuses %s", (_, qb, message) => {
    const why = refusal(shape(qb), false);
    expect(why).toMatch(message);
  });

  it("wants plain rows when the scatter computes the aggregates", () => {
    expect(refusal(shape(k("payment").where("amount", ">", 1)), true)).toBeUndefined();
    expect(refusal(shape(k("payment").select("customer_id").groupBy("customer_id")), true)).toMatch(
      /give the rows only/,
    );
  });

  it("finds the table, its alias and key", () => {
    const s = shape(k("payment as p").distinct("p.customer_id"));
    expect([s.table, s.tableAlias, s.keyColumn]).toEqual(["payment", "p", "customer_id"]);
    expect(groupsOnOneShard(s)).toBe(true);
    expect(groupsOnOneShard(shape(k("payment as p").distinct("payment.customer_id")))).toBe(true);
    expect(groupsOnOneShard(shape(k("payment as p").distinct("rental.customer_id")))).toBe(false);
  });
});
