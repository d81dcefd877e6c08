// Keys are routed by the value MySQL stores: the key column's type, read from the shards,
// decides the key, on every path (insert, write, writeOne, read, readMany, locate). Where
// the types come from, the CLI, and the docs' vectors: router-key-columns.test.ts.
import type { Router } from "@shardkit/router";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RouterFixture, startRouterFixture } from "./fixtures/router-fixture.js";

const TABLES = [
  "CREATE TABLE accts (id BIGINT PRIMARY KEY, note VARCHAR(20) NULL)",
  "CREATE TABLE u64 (id BIGINT UNSIGNED PRIMARY KEY, note VARCHAR(20) NULL)",
  "CREATE TABLE events (id INT UNSIGNED PRIMARY KEY)",
  "CREATE TABLE names (name VARCHAR(20) NOT NULL PRIMARY KEY) COLLATE utf8mb4_general_ci",
  "CREATE TABLE codes (code VARCHAR(20) NOT NULL PRIMARY KEY) COLLATE utf8mb4_bin",
  "CREATE TABLE tags (tag BINARY(4) NOT NULL PRIMARY KEY)",
  "CREATE TABLE lit (name VARCHAR(20) NOT NULL PRIMARY KEY) COLLATE utf8mb4_lithuanian_ci",
];

let f: RouterFixture;
let router: Router;

beforeAll(async () => {
  f = await startRouterFixture({
    tables: TABLES,
    sharded: [
      ["accts", "id"],
      ["u64", "id"],
      ["events", "id", "identity"],
      ["names", "name"],
      ["codes", "code"],
      ["tags", "tag"],
      ["lit", "name"],
    ],
  });
  router = f.router;
}, 120_000);

afterAll(async () => {
  await f?.close();
});

/** Every row of `table` on every shard, with the shard it is on. */
async function rowsEverywhere(table: string): Promise<{ shard: string; row: object }[]> {
  const out: { shard: string; row: object }[] = [];
  for (const [shard, db] of Object.entries(f.shardDb)) {
    for (const row of await db(table).select()) out.push({ shard, row });
  }
  return out;
}

/** Removes every row of `tables` from every shard and the reference. */
async function empty(...tables: string[]): Promise<void> {
  for (const db of [...Object.values(f.shardDb), f.reference]) {
    for (const t of tables) await db(t).delete();
  }
}

describe("integer key columns", () => {
  it('routes "06202" as 6202 on every path: one row, found by either form, and a second insert is a duplicate on the same shard', async () => {
    const table = { table: "accts" };
    const owner = router.locate(6202, table).shard;
    try {
      // Without the table the text is another key: the bug this rule prevents.
      expect(router.locate("06202").ksid).not.toBe(router.locate(6202).ksid);
      expect(router.locate("06202", table)).toMatchObject({ shard: owner, columnKey: 6202 });

      await router.insert("accts", { id: "06202", note: "first" });
      await f.reference("accts").insert({ id: "06202", note: "first" });
      expect(await f.whereIs("accts", "id", 6202)).toEqual([owner]);
      for (const key of [6202, "06202", " 6202", 6202n]) {
        const row = await router.read(key, table).from("accts").where({ id: 6202 }).first();
        expect(row).toMatchObject({ id: 6202, note: "first" });
      }
      expect(await router.readMany("accts", ["06202"])).toEqual([{ id: 6202, note: "first" }]);

      // The second insert meets the first row on its shard, as one MySQL server would answer.
      await expect(router.insert("accts", { id: 6202, note: "second" })).rejects.toMatchObject({
        code: "ER_DUP_ENTRY",
      });
      await expect(f.reference("accts").insert({ id: 6202, note: "second" })).rejects.toMatchObject(
        { code: "ER_DUP_ENTRY" },
      );
      await expect(
        router.writeOne("+6202", (k) => k("accts").insert({ id: 6202 }), table),
      ).rejects.toMatchObject({ code: "ER_DUP_ENTRY" });
      const everywhere = await rowsEverywhere("accts");
      expect(everywhere).toEqual([{ shard: owner, row: { id: 6202, note: "first" } }]);
      expect(everywhere.map((r) => r.row)).toEqual(await f.reference("accts").select());
    } finally {
      await empty("accts");
    }
  });

  it("refuses every form MySQL would store as another value (or not at all), writing nothing", async () => {
    const refused: [string, unknown][] = [
      ["accts", "4x"],
      ["accts", 1.5],
      ["accts", "1.5"],
      ["accts", "42.0"],
      ["accts", "1e3"],
      ["accts", ""],
      ["accts", "0x2A"],
      ["accts", true],
      ["accts", { id: 1 }],
      ["accts", Buffer.from("42")],
      ["accts", "9223372036854775808"],
      ["u64", -1],
      ["u64", "18446744073709551616"],
      ["events", "4294967296"],
      ["events", "-1"],
    ];
    let ran = 0;
    for (const [table, key] of refused) {
      const column = table === "accts" || table === "u64" || table === "events" ? "id" : "";
      const attempts = [
        router.insert(table, { [column]: key }),
        router.write(key, () => ran++, { table }),
        router.writeOne(key, (k) => k(table).insert({ [column]: 1 }), { table }),
        router.readMany(table, [1, key]),
      ];
      for (const attempt of attempts) {
        const error = await attempt.catch((e: unknown) => e);
        expect(error, `${table} ${String(key)}`).toMatchObject({ code: "BAD_SHARD_KEY" });
        expect((error as Error).message).toMatch(new RegExp(`^.*${table}\\.id.*; .*$`));
        expect((error as Error).message).not.toContain("\n");
      }
      expect(() => router.locate(key, { table })).toThrow(
        expect.objectContaining({ code: "BAD_SHARD_KEY" }),
      );
      expect(() => router.read(key, { table })).toThrow(
        expect.objectContaining({ code: "BAD_SHARD_KEY" }),
      );
    }
    expect(ran).toBe(0);
    for (const table of ["accts", "u64", "events"]) expect(await rowsEverywhere(table)).toEqual([]);
  });

  it('reads many keys given as "42", 42 and " 43": each row once, as one table would answer', async () => {
    try {
      for (const id of [42, 43, 44]) {
        await router.insert("accts", { id: String(id), note: `n${id}` });
        await f.reference("accts").insert({ id, note: `n${id}` });
      }
      const rows = await router.readMany<{ id: number }>("accts", ["42", 42, " 43", "0044", 45]);
      expect(rows.sort((a, b) => a.id - b.id)).toEqual(
        await f.reference("accts").whereIn("id", [42, 43, 44, 45]).orderBy("id"),
      );
    } finally {
      await empty("accts");
    }
  });

  it("writes and writeOne route string keys by the integer they store", async () => {
    const table = { table: "accts" };
    try {
      const inTransaction = await router.write(
        "0777",
        async (trx) => {
          await trx("accts").insert({ id: 777, note: "write" });
          return "done";
        },
        table,
      );
      expect(inTransaction).toBe("done");
      await router.writeOne(
        " 778",
        (k) => k("accts").insert({ id: "778", note: "writeOne" }),
        table,
      );
      expect(await f.whereIs("accts", "id", 777)).toEqual([router.locate(777, table).shard]);
      expect(await f.whereIs("accts", "id", 778)).toEqual([router.locate(778, table).shard]);
      const updated = await router.writeOne(
        "+777",
        (k) => k("accts").where({ id: 777 }).update({ note: "again" }),
        table,
      );
      expect(updated.affectedRows).toBe(1);
      // Two spellings of one key are one key of one shard, never CROSS_SHARD.
      await router.write(["777", 777n], (trx) => trx("accts").where({ id: 777 }).delete(), table);
      expect(await f.whereIs("accts", "id", 777)).toEqual([]);
    } finally {
      await empty("accts");
    }
  });

  it("routes the largest BIGINT UNSIGNED given as a string or a bigint alike", async () => {
    const max = 18446744073709551615n;
    const table = { table: "u64" };
    try {
      expect(router.locate("18446744073709551615", table)).toMatchObject({
        shard: router.locate(max, table).shard,
        columnKey: max,
      });
      await router.insert("u64", { id: "18446744073709551615", note: "max" });
      const owner = router.locate(max, table).shard;
      expect(await f.whereIs("u64", "id", max)).toEqual([owner]);
      await expect(router.insert("u64", { id: max })).rejects.toMatchObject({
        code: "ER_DUP_ENTRY",
      });
      const rows = await router.readMany("u64", [max, "018446744073709551615"]);
      expect(rows).toEqual([{ id: "18446744073709551615", note: "max" }]);
      expect((await rowsEverywhere("u64")).map((r) => r.shard)).toEqual([owner]);
    } finally {
      await empty("u64");
    }
  });

  it("routes an identity table's string keys by their integer", async () => {
    const table = { table: "events" };
    try {
      expect(router.locate("007", table).ksid).toBe(7);
      await router.insert("events", { id: "007" });
      expect(await f.whereIs("events", "id", 7)).toEqual([router.locate(7, table).shard]);
      await expect(router.insert("events", { id: 7 })).rejects.toMatchObject({
        code: "ER_DUP_ENTRY",
      });
    } finally {
      await empty("events");
    }
  });
});

describe("text and binary key columns", () => {
  it("routes keys of a case-insensitive column as the collation compares them", async () => {
    const table = { table: "names" };
    try {
      expect(router.locate("Alice", table)).toMatchObject({
        columnKey: "alice",
        shard: router.locate("alice", table).shard,
      });
      await router.insert("names", { name: "Alice" });
      await expect(router.insert("names", { name: "ALICE" })).rejects.toMatchObject({
        code: "ER_DUP_ENTRY",
      });
      const found = await router.read("aLiCe", table).from("names").where({ name: "aLiCe" });
      expect(found).toEqual([{ name: "Alice" }]);
      for (const key of ["alice ", "Zürich", "a\tb"]) {
        await expect(router.insert("names", { name: key })).rejects.toMatchObject({
          code: "BAD_SHARD_KEY",
        });
      }
      expect((await rowsEverywhere("names")).map((r) => r.row)).toEqual([{ name: "Alice" }]);
    } finally {
      await empty("names");
    }
  });

  it("routes keys of a binary collation as they are, and refuses trailing spaces it ignores", async () => {
    const table = { table: "codes" };
    try {
      await router.insert("codes", { code: "Zürich" });
      await router.insert("codes", { code: "zürich" });
      expect(await f.whereIs("codes", "code", "Zürich")).toEqual([
        router.locate("Zürich", table).shard,
      ]);
      const error = await router.insert("codes", { code: "Zürich " }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "BAD_SHARD_KEY" });
      expect((error as Error).message).toContain("pass the key without trailing spaces");
      expect(await rowsEverywhere("codes")).toHaveLength(2);
    } finally {
      await empty("codes");
    }
  });

  it("takes BINARY(4) keys of exactly four bytes, and refuses the shorter keys MySQL pads", async () => {
    const table = { table: "tags" };
    try {
      const key = Buffer.from("ab\u0000\u0000");
      await router.insert("tags", { tag: key });
      expect(router.locate("ab\u0000\u0000", table).shard).toBe(router.locate(key, table).shard);
      await expect(router.insert("tags", { tag: "ab" })).rejects.toMatchObject({
        code: "BAD_SHARD_KEY",
        message: expect.stringContaining("pass exactly 4 bytes"),
      });
      const rows = await rowsEverywhere("tags");
      expect(rows).toEqual([{ shard: router.locate(key, table).shard, row: { tag: key } }]);
    } finally {
      await empty("tags");
    }
  });

  it("refuses every key of a column whose collation holds differently written strings equal", async () => {
    const error = await router.insert("lit", { name: "abc" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "BAD_SHARD_KEY" });
    expect((error as Error).message).toMatch(
      /^lit\.name: collation utf8mb4_lithuanian_ci holds ".+" and ".+" equal .*utf8mb4_bin/,
    );
    expect(await rowsEverywhere("lit")).toEqual([]);
  });
});
