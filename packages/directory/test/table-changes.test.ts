import { type Fleet, startFleet } from "@shardkit/fleet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { directories, refused, sql } from "./helpers.js";

let fleet: Fleet;
const dirs = directories(() => fleet);

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
});
afterEach(() => dirs.closeAll());
afterAll(async () => {
  await fleet?.stop();
});

const USERS = "CREATE TABLE users (user_id BIGINT PRIMARY KEY, name VARCHAR(50))";
const users = { name: "users", keyColumn: "user_id", keyFunction: "hash" } as const;

describe("sharded tables", () => {
  it("declares a table every shard has, once", async () => {
    const { store } = await dirs.create({ shards: ["a", "b"], onShard: (url) => sql(url, USERS) });
    const v = await store.version();
    expect((await store.addTable(users)).version).toBe(v + 1);
    expect((await store.snapshot()).tables).toEqual([users]);
    await refused(store, () => store.addTable({ ...users, keyColumn: "name" }), "TABLE_EXISTS");
  });

  it("refuses bad names and unknown key functions", async () => {
    const { store } = await dirs.create();
    const unchecked = { check: false };
    await refused(
      store,
      () => store.addTable({ ...users, name: "bad-name" }, unchecked),
      "BAD_NAME",
    );
    await refused(
      store,
      () => store.addTable({ ...users, keyColumn: "1x" }, unchecked),
      "BAD_NAME",
    );
    await refused(
      store,
      () => store.addTable({ ...users, keyFunction: "modulo" as never }, unchecked),
      "BAD_KEY_FUNCTION",
    );
  });

  it("refuses a name equal ignoring case to a sharded table", async () => {
    const { store } = await dirs.create({ tables: [users] });
    const error = await refused(
      store,
      () => store.addTable({ ...users, name: "Users" }, { check: false }),
      "NAME_CLASH",
    );
    expect(error.message).toContain("use the registered name users");
  });

  it("refuses a table that a shard lacks, or whose key column it lacks, naming each shard", async () => {
    const { store, shards } = await dirs.create({ shards: ["a", "b", "c"] });
    await sql(shards.a ?? "", USERS);
    await sql(shards.b ?? "", "CREATE TABLE users (id BIGINT PRIMARY KEY)");
    const error = await refused(store, () => store.addTable(users), "TABLE_NOT_ON_SHARD");
    expect(error.message).toBe(
      "table users is missing on shard c; users has no column user_id on shard b; create it there, or pass --no-check to declare it ahead of its creation",
    );
    expect(error.details).toMatchObject({ missingTable: ["c"], missingColumn: ["b"] });
    expect((await store.snapshot()).tables).toEqual([]);
  });

  it("on a case-sensitive server, a table named in another case is not the table", async () => {
    const { store, shards } = await dirs.create({ shards: ["a"] });
    const [rows] = await sql(shards.a ?? "", "SELECT @@lower_case_table_names AS lctn");
    const caseSensitive = Number((rows as { lctn: number }[])[0]?.lctn) === 0;
    await sql(shards.a ?? "", "CREATE TABLE Orders (user_id BIGINT PRIMARY KEY)");
    const orders = { name: "orders", keyColumn: "USER_ID", keyFunction: "hash" } as const;
    if (caseSensitive) {
      await refused(store, () => store.addTable(orders), "TABLE_NOT_ON_SHARD");
      await store.addTable({ ...orders, name: "Orders" });
    } else {
      await store.addTable(orders);
    }
  });

  it("declares a table ahead of its creation without the check", async () => {
    const { store } = await dirs.create({ shards: ["a"] });
    await store.addTable(users, { check: false });
    expect((await store.snapshot()).tables.map((t) => t.name)).toEqual(["users"]);
  });

  it("removes a sharded table with one version bump; an unknown one is UNKNOWN_TABLE", async () => {
    const events = { name: "events", keyColumn: "id", keyFunction: "identity" } as const;
    const { store } = await dirs.create({ shards: ["a"], tables: [users, events], layout: 2 });
    const v = await store.version();
    expect((await store.removeTable("events")).version).toBe(v + 1);
    expect((await store.snapshot()).tables).toEqual([users]);
    const error = await refused(store, () => store.removeTable("events"), "UNKNOWN_TABLE");
    expect(error.message).toContain("(sharded: users)");
    await refused(store, () => store.removeTable("USERS"), "UNKNOWN_TABLE");
  });
});
