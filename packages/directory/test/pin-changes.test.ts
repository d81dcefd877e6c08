import { hashKeyFunction } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { databaseOf, directories, fenceOf, refused, shardInput, sql } from "./helpers.js";

let fleet: Fleet;
const dirs = directories(() => fleet);

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
});
afterEach(() => dirs.closeAll());
afterAll(async () => {
  await fleet?.stop();
});

const TABLES = [
  { name: "users", keyColumn: "user_id", keyFunction: "hash" },
  { name: "notes", keyColumn: "owner", keyFunction: "hash" },
] as const;
const CREATE = [
  "CREATE TABLE users (user_id VARCHAR(64) PRIMARY KEY, name VARCHAR(50))",
  "CREATE TABLE notes (id INT PRIMARY KEY, owner VARCHAR(64), KEY (owner))",
];

describe("pinned keys", () => {
  it("pins and unpins a key, fencing it on every shard", async () => {
    const { store, shards } = await dirs.create({ shards: ["a", "b", "c"], layout: 4 });
    await store.pinKey("whale", "c");
    const s = await store.snapshot();
    expect(s.pins.map((p) => [p.keyText, p.shard])).toEqual([["whale", "c"]]);
    expect((await fenceOf(shards.c ?? "")).filter((r) => r.startsWith("pin"))).toEqual([
      expect.stringMatching(/^pin \w+-\w+ whale serving$/),
    ]);
    expect((await fenceOf(shards.a ?? "")).filter((r) => r.startsWith("pin"))).toEqual([
      expect.stringMatching(/^pin_away \w+-\w+ whale serving$/),
    ]);
    // Range rows count the pinned keys whose keyspace id they hold.
    const whale = hashKeyFunction.ksid("whale");
    for (const url of [shards.a, shards.b, shards.c]) {
      const [rows] = await sql(
        url ?? "",
        "SELECT range_start, range_end, pinned_keys FROM shardkit_ownership WHERE kind = 'range'",
      );
      for (const r of rows as { range_start: number; range_end: number; pinned_keys: number }[]) {
        const holds = Number(r.range_start) <= whale && whale < Number(r.range_end);
        expect(Number(r.pinned_keys), `${r.range_start}-${r.range_end}`).toBe(holds ? 1 : 0);
      }
    }
    await refused(store, () => store.pinKey("whale", "a"), "ALREADY_PINNED");
    await refused(store, () => store.pinKey("other", "zz"), "UNKNOWN_SHARD");
    await refused(store, () => store.unpinKey("nobody"), "NOT_PINNED");
    await refused(store, () => store.removeShard("c"), "SHARD_OWNS_RANGES");
    await store.unpinKey("whale");
    expect((await fenceOf(shards.c ?? "")).some((r) => r.startsWith("pin"))).toBe(false);
    expect((await fenceOf(shards.a ?? "")).some((r) => r.startsWith("pin"))).toBe(false);
  });

  it("refuses to unpin a key whose rows are still on its shard, naming the tables", async () => {
    const { store, shards } = await dirs.create({
      shards: ["a", "b"],
      onShard: (url) => sql(url, ...CREATE),
      tables: TABLES,
      layout: 2,
    });
    await store.pinKey("whale", "b");
    await sql(
      shards.b ?? "",
      "INSERT INTO notes VALUES (1, 'whale')",
      // Rows of other keys, equal to the pinned one only under a case-insensitive collation.
      "INSERT INTO users VALUES ('Whale', 'not the pinned key'), ('orca', 'x')",
    );
    const error = await refused(store, () => store.unpinKey("whale"), "KEY_HAS_ROWS");
    expect(error.message).toBe(
      "key whale still has rows on its shard b (in notes), which unpinning would make unreachable; delete those rows or move them first",
    );
    expect((await store.snapshot()).pins.map((p) => p.keyText)).toEqual(["whale"]);
    expect((await fenceOf(shards.b ?? "")).filter((r) => r.startsWith("pin"))).toEqual([
      expect.stringMatching(/^pin \w+-\w+ whale serving$/),
    ]);
    await sql(shards.b ?? "", "DELETE FROM notes WHERE owner = 'whale'");
    await store.unpinKey("whale");
    expect((await store.snapshot()).pins).toEqual([]);
  });

  it("checks an integer key against an integer key column by its exact digits", async () => {
    const { store, shards } = await dirs.create({
      shards: ["a"],
      onShard: (url) => sql(url, "CREATE TABLE accounts (id BIGINT PRIMARY KEY)"),
      tables: [{ name: "accounts", keyColumn: "id", keyFunction: "identity" }],
      layout: 1,
    });
    await store.pinKey(42, "a");
    await store.pinKey("007", "a");
    await sql(shards.a ?? "", "INSERT INTO accounts VALUES (42), (7)");
    await refused(store, () => store.unpinKey(42), "KEY_HAS_ROWS");
    // "007" is not the key 7: its rows are not "007"'s.
    await store.unpinKey("007");
    // A sharded table not created on the pinned shard holds no rows of the key.
    await store.addTable({ name: "later", keyColumn: "id", keyFunction: "hash" }, { check: false });
    await sql(shards.a ?? "", "DELETE FROM accounts");
    await store.unpinKey(42);
  });

  it("rolls back the directory and the fences when a shard cannot be written", async () => {
    const { store, shards } = await dirs.create({ shards: ["a", "b"], layout: 2 });
    const doomed = await fleet.servers[1]?.createDatabase("doomed");
    await store.addShard(shardInput("d", doomed ?? ""));
    const before = await store.snapshot();
    const fenceA = await fenceOf(shards.a ?? "");
    await sql(shards.b ?? "", `DROP DATABASE ${databaseOf(doomed ?? "")}`);
    // Pinning writes pin_away to every shard; d is gone, so the change must not happen at all.
    await refused(store, () => store.pinKey("k1", "a"), "SHARD_UNAVAILABLE");
    expect((await store.snapshot()).pins).toEqual(before.pins);
    expect(await fenceOf(shards.a ?? "")).toEqual(fenceA);
  });
});
