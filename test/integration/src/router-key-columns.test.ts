// Where the router's key column types come from (the shards, at start, on directory changes
// and on refresh), the CLI's route --table, and the test vectors of docs/keyspace.md checked
// against MariaDB itself.
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import {
  canonicalKeyBytes,
  columnKey,
  formatKeyRange,
  MysqlDirectoryStore,
  parseMysqlUrl,
} from "@shardkit/directory";
import { readKeyColumnTypes } from "@shardkit/directory/internal";
import { createRouter, type Router } from "@shardkit/router";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli-harness.js";
import { knexOf } from "./fixtures/databases.js";
import { type RouterFixture, startRouterFixture } from "./fixtures/router-fixture.js";

let f: RouterFixture;
let router: Router;

beforeAll(async () => {
  f = await startRouterFixture({
    tables: ["CREATE TABLE accts (id BIGINT PRIMARY KEY, note VARCHAR(20) NULL)"],
    sharded: [["accts", "id"]],
  });
  router = f.router;
}, 120_000);

afterAll(async () => {
  await f?.close();
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

describe("a shard that stops answering", () => {
  it("does not hold routing back from a new directory version: a write after a split lands within its deadline", async () => {
    // A server that accepts connections and never answers: the key column read of that shard
    // waits for its timeout (5 s), longer than the write's deadline below.
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const [a] = f.fleet.servers;
    const url = (await a?.createDatabase("dir_silent")) ?? "";
    const store = new MysqlDirectoryStore({ directory: url });
    let r: Router | undefined;
    try {
      await store.init();
      for (const name of ["s1", "quiet"]) {
        const shardUrl = (await a?.createDatabase(name)) ?? "";
        const db = knexOf(shardUrl);
        await db.raw("CREATE TABLE accts (id BIGINT PRIMARY KEY, note VARCHAR(20) NULL)");
        await db.destroy();
        await store.addShard({ name, ...parseMysqlUrl(shardUrl) });
      }
      await store.addTable({ name: "accts", keyColumn: "id", keyFunction: "hash" });
      await store.layoutEven(2, ["s1", "quiet"]);
      r = await createRouter({ directory: url, pollIntervalMs: 0, heartbeatId: false });
      // From now on the shard "quiet" lives at the silent address.
      const port = (silent.address() as { port: number }).port;
      const dir = knexOf(url);
      await dir("shardkit_shards").where({ name: "quiet" }).update({ port });
      await dir("shardkit_directory").where({ id: 1 }).increment("version", 1);
      await dir.destroy();
      const router = r;
      const key = [...Array(1000).keys()].find(
        (k) =>
          router.locate(k, { table: "accts" }).shard === "s1" &&
          router.locate(k, { table: "accts" }).ksid >= 0x40000000,
      ) as number;
      const before = router.locate(key, { table: "accts" }).range;
      await store.splitRange(before, 0x40000000);
      // The stale router's insert is refused by s1's fence, refreshes and retries.
      const started = Date.now();
      await router.insert("accts", { id: key, note: "after split" }, { deadlineMs: 2000 });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(formatKeyRange(router.locate(key, { table: "accts" }).range)).toBe("40-80");
    } finally {
      await r?.close();
      await store.close();
      for (const s of sockets) s.destroy();
      silent.close();
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
