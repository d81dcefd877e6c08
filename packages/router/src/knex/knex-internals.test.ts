import knexFactory from "knex";
import { afterAll, describe, expect, it } from "vitest";
import { builderInsertRows } from "./knex-internals.js";

// Builds queries only: knex never connects without a query being run.
const k = knexFactory({ client: "mysql2" });
afterAll(() => k.destroy());

describe("builderInsertRows: the writeOne inserts the router may run again over a move's copies", () => {
  it("gives the row objects of a plain insert of one row or many", () => {
    expect(builderInsertRows(k("t").insert({ id: 1, v: "a" }))).toEqual([{ id: 1, v: "a" }]);
    expect(builderInsertRows(k("t").insert([{ id: 1 }, { id: 2 }]))).toEqual([
      { id: 1 },
      { id: 2 },
    ]);
  });

  it("gives nothing for an insert that handles duplicates itself, or whose rows are not objects", () => {
    const row = { id: 1, v: "a" };
    expect(builderInsertRows(k("t").insert(row).onConflict("id").merge())).toBeUndefined();
    expect(builderInsertRows(k("t").insert(row).onConflict("id").ignore())).toBeUndefined();
    expect(builderInsertRows(k("t").insert(k.raw("SELECT 1")))).toBeUndefined();
    expect(builderInsertRows(k("t").insert(k("u").select("id")))).toBeUndefined();
    expect(builderInsertRows(k("t").insert([]))).toBeUndefined();
  });
});
