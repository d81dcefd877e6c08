import { describe, expect, it } from "vitest";
import { RouterError } from "../router-errors.js";
import { planScatter } from "./scatter-validation.js";

const query = () => ({}) as never;

describe("planScatter", () => {
  it.each([
    [null, "options", /options must be an object/],
    [[], "options", /options must be an object/],
    [{}, "query", /query must be a function/],
    [{ query: "users" }, "query", /query must be a function/],
    [{ query, oderBy: [] }, "oderBy", /unknown option oderBy/],
    [{ query, range: 5 }, "range", /range must be a key range/],
    [{ query, allowPartial: 1 }, "allowPartial", /true or false/],
    [{ query, limit: -1 }, "limit", /non-negative integer, got -1/],
    [{ query, limit: 2.5 }, "limit", /non-negative integer/],
    [{ query, limit: "10" }, "limit", /non-negative integer, got "10"/],
    [{ query, offset: Number.NaN }, "offset", /non-negative integer/],
    [{ query, orderBy: { column: "a" } }, "orderBy", /must be an array/],
    [{ query, orderBy: [{ col: "a" }] }, "orderBy", /each orderBy term/],
    [{ query, orderBy: [{ column: "a", order: "DESC" }] }, "orderBy", /"asc" or "desc"/],
    [{ query, orderBy: [{ column: "a as b" }] }, "orderBy", /name the alias alone/],
    [{ query, groupBy: ["a"] }, "groupBy", /groupBy needs aggregates/],
    [{ query, having: () => true }, "having", /having needs aggregates/],
    [{ query, aggregates: [] }, "aggregates", /must be an object/],
    [{ query, aggregates: {} }, "aggregates", /aggregates is empty/],
    [
      { query, aggregates: { n: { fn: "median" } } },
      "aggregates",
      /unknown fn "median"; use one of count, sum/,
    ],
    [{ query, aggregates: { n: "count" } }, "aggregates", /must be \{ fn, column \}/],
    [{ query, aggregates: { s: { fn: "sum" } } }, "aggregates", /sum needs a column/],
    [{ query, aggregates: { s: { fn: "avg" } } }, "aggregates", /avg needs a column/],
    [
      { query, aggregates: { s: { fn: "min", column: "" } } },
      "aggregates",
      /column must be a column name/,
    ],
    [
      { query, aggregates: { d: { fn: "countDistinct" } } },
      "aggregates",
      /countDistinct needs a column/,
    ],
    [{ query, aggregates: { __shardkit_x: { fn: "count" } } }, "aggregates", /reserved/],
    [{ query, aggregates: { n: { fn: "count" } }, groupBy: "a" }, "groupBy", /must be an array/],
    [
      { query, aggregates: { n: { fn: "count" } }, groupBy: [{ sql: "YEAR(?)", as: "y" }] },
      "groupBy",
      /no placeholders/,
    ],
    [
      { query, aggregates: { n: { fn: "count" } }, groupBy: [{ sql: "YEAR(d)" }] },
      "groupBy",
      /each groupBy term/,
    ],
    [
      { query, aggregates: { n: { fn: "count" } }, groupBy: ["a as n"] },
      "aggregates",
      /two output columns are named n/,
    ],
    [
      { query, aggregates: { n: { fn: "count" } }, orderBy: [{ column: "m" }] },
      "orderBy",
      /orderBy m is not an output column; use one of n/,
    ],
    [
      { query, aggregates: { n: { fn: "count" } }, having: { n: 1 } },
      "having",
      /array of \{ column, op, value \} or a function/,
    ],
    [
      { query, aggregates: { n: { fn: "count" } }, having: [{ column: "n", op: "=>", value: 1 }] },
      "having",
      /op must be one of/,
    ],
    [
      {
        query,
        aggregates: { n: { fn: "count" } },
        having: [{ column: "n", op: ">", value: null }],
      },
      "having",
      /must not be null/,
    ],
    [
      {
        query,
        aggregates: { n: { fn: "count" } },
        having: [{ column: "n", op: ">", value: "many" }],
      },
      "having",
      /count is a number/,
    ],
  ])("refuses %j naming %s", (options, option, message) => {
    let error: unknown;
    try {
      planScatter(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RouterError);
    expect(error).toMatchObject({ code: "BAD_ARGUMENT", details: { option } });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toMatch(/\n/);
  });

  it("reads valid options into a plan, resolving orderBy and having to output columns", () => {
    const plan = planScatter({
      query,
      limit: 10,
      aggregates: {
        n: { fn: "count" },
        films: { fn: "countDistinct", column: "inventory.film_id" },
      },
      groupBy: [
        "inventory.store_id",
        "customer.last_name as name",
        { sql: "YEAR(rental_date)", as: "y" },
      ],
      orderBy: [
        { column: "INVENTORY.store_id", order: "desc" },
        { column: "films" },
        { column: "y" },
      ],
      having: [
        { column: "name", op: ">=", value: "m" },
        { column: "n", op: ">", value: 10n },
      ],
    });
    expect(plan).toMatchObject({ limit: 10, offset: 0, allowPartial: false });
    expect(plan.aggregate?.groups.map((g) => [g.expr, g.name, g.raw])).toEqual([
      ["inventory.store_id", "store_id", false],
      ["customer.last_name", "name", false],
      ["YEAR(rental_date)", "y", true],
    ]);
    expect(plan.aggregate?.order.map((o) => [o.output.source, o.output.index, o.desc])).toEqual([
      ["group", 0, true],
      ["aggregate", 1, false],
      ["group", 2, false],
    ]);
    expect(
      Array.isArray(plan.aggregate?.having) && plan.aggregate.having.map((h) => h.output.name),
    ).toEqual(["name", "n"]);
  });
});
