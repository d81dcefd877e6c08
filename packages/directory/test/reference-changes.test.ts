import type { ReferenceTable } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { directories, refused } from "./helpers.js";

let fleet: Fleet;
const dirs = directories(() => fleet);

beforeAll(async () => {
  fleet = await startFleet({ servers: 1 });
});
afterEach(() => dirs.closeAll());
afterAll(async () => {
  await fleet?.stop();
});

const source = {
  name: "global",
  host: "127.0.0.1",
  port: 3306,
  user: "app",
  database: "global_db",
  state: "serving",
} as const;
const products: ReferenceTable = { name: "products", source };

describe("reference tables in the directory", () => {
  it("declares one at a new version, shows it in the snapshot, and forgets it", async () => {
    const { store } = await dirs.create();
    const v = await store.version();
    expect((await store.addReferenceTable(products)).version).toBe(v + 1);
    expect((await store.snapshot()).referenceTables).toEqual([products]);
    await refused(store, () => store.addReferenceTable(products), "TABLE_EXISTS");
    await refused(
      store,
      () => store.addReferenceTable({ ...products, name: "PRODUCTS" }),
      "NAME_CLASH",
    );
    expect((await store.removeReferenceTable("products")).version).toBe(v + 2);
    expect((await store.snapshot()).referenceTables).toEqual([]);
    await refused(store, () => store.removeReferenceTable("products"), "UNKNOWN_TABLE");
  });

  it("refuses a sharded table's name, a source name used for another database, a shard's database as source, and bad names", async () => {
    const { store, shards } = await dirs.create({
      shards: ["a"],
      tables: [{ name: "orders", keyColumn: "customer_id", keyFunction: "hash" }],
    });
    await store.addReferenceTable(products);
    await refused(
      store,
      () => store.addReferenceTable({ ...products, name: "orders" }),
      "NAME_CLASH",
    );
    const elsewhere = { ...source, database: "other_db" };
    const clash = await refused(
      store,
      () => store.addReferenceTable({ name: "stores", source: elsewhere }),
      "NAME_CLASH",
    );
    expect(clash.message).toMatch(/source name global already names 127.0.0.1:3306\/global_db/);
    const shard = new URL(shards.a as string);
    const onShard = {
      ...source,
      name: "shardsrc",
      host: shard.hostname,
      port: Number(shard.port),
      database: shard.pathname.slice(1),
    };
    await refused(
      store,
      () => store.addReferenceTable({ name: "stores", source: onShard }),
      "NAME_CLASH",
    );
    await refused(
      store,
      () => store.addReferenceTable({ ...products, name: "bad-name" }),
      "BAD_NAME",
    );
    await refused(
      store,
      () => store.addReferenceTable({ name: "stores", source: { ...source, name: "9x" } }),
      "BAD_NAME",
    );
    // Another table from the same source is fine.
    await store.addReferenceTable({ name: "stores", source });
    expect((await store.snapshot()).referenceTables?.map((t) => t.name)).toEqual([
      "products",
      "stores",
    ]);
  });
});
