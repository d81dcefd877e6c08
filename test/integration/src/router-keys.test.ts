// Keys are routed by the value MySQL stores: the key column's type, read from the shards,
// decides the key, on every path (insert, write, writeOne, read, readMany, locate).
import { readFileSync } from "node:fs";
import { canonicalKeyBytes, columnKey, readKeyColumnTypes } from "@shardkit/directory";
import { createRouter, type Router } from "@shardkit/router";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli-harness.js";
import { knexOf, type RouterFixture, startRouterFixture } from "./fixtures/router-fixture.js";

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

describe("shardkit route --table", () => {
  it("prints the shard of the value the key column stores, and refuses what it would not store", async () => {
    const route = async (...args: string[]) => {
      const run = await runCli(["--json", "route", ...args], { directory: f.directoryUrl });
      return {
        ...run,
        rows: run.code === 0 ? (JSON.parse(run.stdout) as { shard: string }[]) : [],
      };
    };
    const typed = await route("--table", "accts", "06202", " 42");
    const plain = await route("6202", "42");
    expect(typed.code).toBe(0);
    expect(typed.rows.map((r) => r.shard)).toEqual(plain.rows.map((r) => r.shard));
    expect(typed.rows[0]?.shard).toBe(router.locate(6202, { table: "accts" }).shard);
    // Without the table, the text 06202 is another key.
    expect((await route("06202")).rows[0]).not.toMatchObject({
      ksid: (plain.rows[0] as { ksid?: string }).ksid,
    });
    const refused = await route("--table", "accts", "4x");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/accts\.id is BIGINT .*; pass an integer/);
  });
});

describe("where key column types come from", () => {
  it("reads the types of a table registered later once the directory moves, without a call", async () => {
    const follower = await createRouter({
      directory: f.directoryUrl,
      pollIntervalMs: 50,
      heartbeatId: false,
    });
    try {
      for (const db of Object.values(f.shardDb)) {
        await db.raw("CREATE TABLE late (id SMALLINT PRIMARY KEY)");
      }
      await f.store.addTable({ name: "late", keyColumn: "id", keyFunction: "hash" });
      const deadline = Date.now() + 5000;
      let located: unknown;
      while (Date.now() < deadline) {
        try {
          located = follower.locate("0012", { table: "late" }).columnKey;
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      expect(located).toBe(12);
      expect(() => follower.locate(40000, { table: "late" })).toThrow(
        expect.objectContaining({ code: "BAD_SHARD_KEY" }),
      );
    } finally {
      await follower.close();
      await f.store.removeTable("late");
      for (const db of Object.values(f.shardDb)) await db.raw("DROP TABLE late");
      await router.refresh();
    }
  });

  it("refuses a key that shards defining the column differently would store as different values", async () => {
    const [s1, ...others] = Object.values(f.shardDb) as [Knex, ...Knex[]];
    await s1.raw("CREATE TABLE mixed (k VARCHAR(20) PRIMARY KEY) COLLATE utf8mb4_bin");
    for (const db of others) {
      await db.raw("CREATE TABLE mixed (k VARCHAR(20) PRIMARY KEY) COLLATE utf8mb4_general_ci");
    }
    await f.store.addTable({ name: "mixed", keyColumn: "k", keyFunction: "hash" });
    try {
      await router.refresh();
      expect(router.locate("alice", { table: "mixed" }).columnKey).toBe("alice");
      expect(() => router.locate("Alice", { table: "mixed" })).toThrow(
        expect.objectContaining({
          code: "BAD_SHARD_KEY",
          message: expect.stringMatching(/^mixed\.k is defined differently on shards/),
        }),
      );
    } finally {
      await f.store.removeTable("mixed");
      for (const db of Object.values(f.shardDb)) await db.raw("DROP TABLE mixed");
      await router.refresh();
    }
  });

  it("says which table is missing on the shards, and reads types again on refresh()", async () => {
    for (const db of Object.values(f.shardDb)) {
      await db.raw("CREATE TABLE gone (id INT PRIMARY KEY)");
    }
    await f.store.addTable({ name: "gone", keyColumn: "id", keyFunction: "hash" });
    try {
      await router.refresh();
      expect(router.locate("5", { table: "gone" }).columnKey).toBe(5);
      for (const db of Object.values(f.shardDb)) await db.raw("DROP TABLE gone");
      expect(await router.refresh()).toBe(false);
      const error = await router.insert("gone", { id: 5 }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: "TABLE_NOT_ON_SHARD",
        message: expect.stringMatching(
          /^no shard has the key column gone\.id .*; create the table/,
        ),
      });
    } finally {
      await f.store.removeTable("gone");
      for (const db of Object.values(f.shardDb)) await db.raw("DROP TABLE IF EXISTS gone");
      await router.refresh();
    }
  });
});

describe("the test vectors of docs/keyspace.md, on MariaDB", () => {
  it("stores each accepted key as the value it is routed as", async () => {
    const doc = readFileSync(new URL("../../../docs/keyspace.md", import.meta.url), "utf8");
    const section = doc.split("\n### Key column test vectors\n")[1]?.split("\n## ")[0] ?? "";
    const rows = section
      .split("\n")
      .filter((l) => l.startsWith("|"))
      .slice(2)
      .map((l) =>
        l
          .split("|")
          .slice(1, -1)
          .map((c) => c.trim()),
      ) as [string, string, string][];
    expect(rows.length).toBeGreaterThan(80);
    const server = f.fleet.servers[0];
    if (!server) throw new Error("no server");
    const db = knexOf(await server.createDatabase("vectors"));
    try {
      const columns = [...new Set(rows.map(([column]) => column))];
      const tableOf = new Map(columns.map((c, i) => [c, `v${i}`]));
      for (const [column, name] of tableOf) {
        // "BIGINT UNSIGNED", "BINARY(4)", "VARCHAR(8) utf8mb4_general_ci": a type, then a collation.
        const [, type, collation] = /^(.+?)(?: ([a-z0-9]+_[a-z0-9_]+))?$/.exec(column) ?? [];
        const text = collation
          ? ` CHARACTER SET ${collation.split("_")[0]} COLLATE ${collation}`
          : "";
        await db.raw(`CREATE TABLE ${name} (k ${type}${text} NOT NULL)`);
      }
      const run = async (sql: string, params?: readonly unknown[]) =>
        ((await db.raw(sql, (params ?? []) as Knex.RawBinding[])) as [object[]])[0];
      const types = await readKeyColumnTypes(
        run,
        [...tableOf.values()].map((name) => ({ name, keyColumn: "k" })),
      );
      let checked = 0;
      for (const [column, cell, routedAs] of rows) {
        if (routedAs === "refused") continue;
        const table = tableOf.get(column) as string;
        const key = keyOf(cell);
        const type = types.get(table);
        if (!type) throw new Error(`no type read for ${column}`);
        // The probe on this server gives the docs' answer...
        const routed = columnKey(type, key);
        expect(routed, `${column} ${cell}`).not.toBeInstanceOf(Error);
        expect(Buffer.from(canonicalKeyBytes(routed)).toString("hex")).toBe(
          Buffer.from(canonicalKeyBytes(routedValue(routedAs))).toString("hex"),
        );
        // ...and MariaDB stores the key as that value (or, for text, holds them equal).
        await db(table).delete();
        await db(table).insert({ k: key as Knex.Value });
        const [stored] = await db
          .raw(`SELECT HEX(k) AS hex, CAST(k AS CHAR) AS text, k = ? AS same FROM ${table}`, [
            routedValue(routedAs) as Knex.Value,
          ])
          .then((r: [object[]]) => r[0] as { hex: string; text: string; same: number }[]);
        if (/INT/.test(column)) expect(stored?.text, `${column} ${cell}`).toBe(routedAs);
        else if (routedAs.startsWith("0x"))
          expect(stored?.hex.toLowerCase()).toBe(routedAs.slice(2));
        else expect(Number(stored?.same), `${column} ${cell}`).toBe(1);
        checked++;
      }
      expect(checked).toBeGreaterThan(40);
    } finally {
      await db.destroy();
    }
  });
});

/** A key cell of the vectors: "..." a string, 42n a bigint, 0x... bytes, else JSON. */
function keyOf(cell: string): unknown {
  if (cell.startsWith('"')) return JSON.parse(cell);
  if (/^-?[0-9]+n$/.test(cell)) return BigInt(cell.slice(0, -1));
  if (/^0x[0-9a-f]*$/i.test(cell)) return Buffer.from(cell.slice(2), "hex");
  return JSON.parse(cell);
}

/** A "routed as" cell as a value: a string, bytes, or an integer (a bigint when large). */
function routedValue(cell: string): unknown {
  if (cell.startsWith('"')) return JSON.parse(cell);
  if (cell.startsWith("0x")) return Buffer.from(cell.slice(2), "hex");
  const n = Number(cell);
  return Number.isSafeInteger(n) ? n : BigInt(cell);
}
