import knexFactory, { type Knex } from "knex";
import { afterAll, describe, expect, it } from "vitest";
import { ClauseCache } from "./clause-cache.js";

// Builds SQL only: knex never connects without a query being run.
const k = knexFactory({ client: "mysql2" });
const other = knexFactory({ client: "mysql2", wrapIdentifier: (v, wrap) => wrap(v.toUpperCase()) });
afterAll(() => Promise.all([k.destroy(), other.destroy()]));

const native = (qb: Knex.QueryBuilder) => qb.toSQL().toNative();

/** Asks the cache for each builder in turn; returns what it gave and how many it compiled. */
function run(builders: readonly Knex.QueryBuilder[], cache = new ClauseCache()) {
  let compiled = 0;
  const answers = builders.map((qb) =>
    cache.get(k, "key", qb, () => {
      compiled++;
      return native(qb);
    }),
  );
  return { answers, compiled };
}

describe("ClauseCache", () => {
  it("reuses the SQL of a builder with the same clauses", () => {
    const { answers, compiled } = run([
      k("items").select("id", "v").where("v", ">", 3),
      k("items").select("id", "v").where("v", ">", 3),
      k("items").select("id", "v").where("v", ">", 3),
    ]);
    expect(compiled).toBe(1);
    expect(answers[2]).toStrictEqual(native(k("items").select("id", "v").where("v", ">", 3)));
  });

  const base = () => k("items").where("v", 3);
  it.each([
    ["another value", base, k("items").where("v", 4)],
    ["a string for a number", base, k("items").where("v", "3")],
    ["null for a number", base, k("items").where("v", null)],
    ["another operator", base, k("items").where("v", ">=", 3)],
    ["another column", base, k("items").where("w", 3)],
    ["another table", base, k("items2").where("v", 3)],
    ["one more clause", base, k("items").where("v", 3).where("w", 1)],
    ["a longer whereIn", () => k("items").whereIn("v", [3]), k("items").whereIn("v", [3, 4])],
    ["a NOT", base, k("items").whereNot("v", 3)],
    ["OR instead of AND", base, k("items").where("w", 1).orWhere("v", 3)],
    ["a comment", base, k("items").where("v", 3).comment("hint")],
    ["an update", base, k("items").where("v", 3).update({ v: 1 })],
    [
      "the same columns in another order",
      () => k("items").where({ v: 3, w: 1 }),
      k("items").where({ w: 1, v: 3 }),
    ],
  ])("compiles afresh for %s", (_, first, changed) => {
    const { answers, compiled } = run([first(), changed]);
    expect(compiled).toBe(2);
    expect(answers[1]).toStrictEqual(native(changed));
    expect(answers[1]).not.toStrictEqual(answers[0]);
  });

  it("compiles every time when a builder holds a raw, a callback, a subquery or a Date", () => {
    const at = new Date(Date.UTC(2030, 0, 1));
    for (const make of [
      () => k("items").select(k.raw("v + 1 as w")),
      () =>
        k("items").where((q) => {
          q.where("v", 1).orWhere("v", 2);
        }),
      () => k("items").whereIn("id", k("other").select("id")),
      () => k("items").where("at", at),
    ]) {
      const { answers, compiled } = run([make(), make(), make()]);
      expect(compiled).toBe(3);
      expect(answers[2]).toStrictEqual(native(make()));
    }
  });

  it("keeps its own copy: changing a remembered builder afterwards changes nothing", () => {
    const cache = new ClauseCache();
    const values = [1, 2];
    const first = k("items").whereIn("v", values);
    run([first], cache);
    values.push(3);
    first.where("w", 1);
    const { answers, compiled } = run([k("items").whereIn("v", [1, 2, 3]).where("w", 1)], cache);
    expect(compiled).toBe(1);
    expect(answers[0]?.sql).toBe("select * from `items` where `v` in (?, ?, ?) and `w` = ?");
  });

  it("never reuses SQL compiled by another knex client", () => {
    const cache = new ClauseCache();
    const mine = run([k("items").where("v", 3)], cache);
    const { answers, compiled } = run([other("items").where("v", 3)], cache);
    expect(mine.compiled + compiled).toBe(2);
    expect(answers[0]?.sql).toBe("select * from `ITEMS` where `V` = ?");
  });

  it("keeps entries apart by key and by knex instance", () => {
    const cache = new ClauseCache();
    const qb = () => k("items").where("v", 3);
    let compiled = 0;
    const get = (on: Knex, key: string) =>
      cache.get(on, key, qb(), () => {
        compiled++;
        return key;
      });
    expect([get(k, "a"), get(k, "b"), get(other, "a"), get(k, "a")]).toStrictEqual([
      "a",
      "b",
      "a",
      "a",
    ]);
    expect(compiled).toBe(3);
  });

  it("works a value out again when the remembered one is no longer valid", () => {
    const cache = new ClauseCache();
    let keyColumn = "id";
    const shape = () =>
      cache.get(
        k,
        "key",
        k("items").where("v", 3),
        () => ({ keyColumn }),
        (s) => s.keyColumn === keyColumn,
      );
    expect(shape()).toStrictEqual({ keyColumn: "id" });
    keyColumn = "owner_id";
    expect(shape()).toStrictEqual({ keyColumn: "owner_id" });
    expect(shape()).toBe(shape());
  });

  it("gives each builder its own SQL while the values change every run, and reuses again once they settle", () => {
    const cache = new ClauseCache();
    const builders = Array.from({ length: 400 }, (_, i) => k("items").where("v", i < 200 ? i : 7));
    const { answers, compiled } = run(builders, cache);
    answers.forEach((a, i) => {
      expect(a).toStrictEqual(native(builders[i] as Knex.QueryBuilder));
    });
    // Every changing run compiles; the settled ones only until the next look after a pause.
    expect(compiled).toBeGreaterThanOrEqual(200);
    expect(compiled).toBeLessThan(200 + 2 * 65);
    const settled = Array.from({ length: 10 }, () => k("items").where("v", 7));
    expect(run(settled, cache).compiled).toBe(0);
  });
});
