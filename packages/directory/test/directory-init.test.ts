import {
  DIRECTORY_SCHEMA_VERSION,
  DirectoryClient,
  MysqlDirectoryStore,
  openDirectorySource,
} from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { databaseOf, directories, refused, sql } from "./helpers.js";

let fleet: Fleet;
const dirs = directories(() => fleet);

beforeAll(async () => {
  fleet = await startFleet({ servers: 1 });
});
afterEach(() => dirs.closeAll());
afterAll(async () => {
  await fleet?.stop();
});

/** The tables of the database at `url`, sorted. */
async function tablesOf(url: string): Promise<string[]> {
  const [rows] = await sql(url, "SHOW TABLES");
  return ((rows ?? []) as Record<string, string>[]).map((r) => Object.values(r)[0] ?? "").sort();
}

describe("init", () => {
  it("refuses to work before init, then inits idempotently", async () => {
    const { store } = await dirs.create({ bare: true });
    await expect(store.version()).rejects.toMatchObject({ code: "NOT_INITIALIZED" });
    await expect(store.snapshot()).rejects.toMatchObject({ code: "NOT_INITIALIZED" });
    expect(await store.init()).toEqual({ schemaVersion: DIRECTORY_SCHEMA_VERSION, created: false });
    expect(await store.init()).toEqual({ schemaVersion: DIRECTORY_SCHEMA_VERSION, created: false });
    expect(await store.version()).toBe(1);
  });

  it("creates the directory database when it is missing", async () => {
    const [a] = fleet.servers;
    const name = `sk_created_${Date.now()}`;
    const store = new MysqlDirectoryStore({ directory: `${a?.adminUrl}/${name}` });
    try {
      expect((await store.init()).created).toBe(true);
      expect((await store.snapshot()).shards).toEqual([]);
    } finally {
      await store.close();
      await sql(a?.url ?? "", `DROP DATABASE ${name}`);
    }
  });

  it("refuses a database that holds other tables, naming a few, and creates nothing", async () => {
    const { store, url } = await dirs.create({ bare: true });
    await sql(
      url,
      ...["users", "orders", "audit", "zebra"].map((t) => `CREATE TABLE ${t} (id INT PRIMARY KEY)`),
    );
    const error = await refused(store, () => store.init(), "NOT_EMPTY");
    expect(error.message).toContain("audit, orders, users, ...");
    expect(error.message).toContain("--force");
    expect(await tablesOf(url)).toEqual(["audit", "orders", "users", "zebra"]);
  });

  it("with force, creates the directory beside other tables, and later inits need no force", async () => {
    const { store, url } = await dirs.create({ bare: true });
    await sql(url, "CREATE TABLE legacy (id INT PRIMARY KEY)");
    expect((await store.init({ force: true })).schemaVersion).toBe(DIRECTORY_SCHEMA_VERSION);
    expect(await store.version()).toBe(1);
    // Already a directory: an upgrade run does not ask again.
    expect((await store.init()).schemaVersion).toBe(DIRECTORY_SCHEMA_VERSION);
    expect(await tablesOf(url)).toContain("legacy");
  });

  it("refuses a shard's database (it holds an ownership fence) as the directory", async () => {
    const { shards } = await dirs.create({ shards: ["a"] });
    const store = new MysqlDirectoryStore({ directory: shards.a ?? "" });
    try {
      const error = await refused(store, () => store.init(), "NOT_EMPTY");
      expect(error.message).toContain("shardkit_ownership");
      expect(await tablesOf(shards.a ?? "")).toEqual(["shardkit_ownership"]);
    } finally {
      await store.close();
    }
  });
});

describe("reading a directory", () => {
  it("refuses a table whose key function this shardkit does not know, naming both", async () => {
    const { store, url } = await dirs.create({ shards: ["a"], layout: 2 });
    await sql(
      url,
      "INSERT INTO shardkit_tables (name, key_column, key_function) VALUES ('events', 'id', 'modulo7')",
    );
    const error = await refused(store, () => store.snapshot(), "UNKNOWN_KEY_FUNCTION");
    expect(error.message).toMatch(/table events .*"modulo7".*upgrade shardkit/);
    expect(error.details).toEqual({ table: "events", keyFunction: "modulo7" });
    await expect(DirectoryClient.open({ directory: url, pollIntervalMs: 0 })).rejects.toMatchObject(
      { code: "UNKNOWN_KEY_FUNCTION" },
    );
    // Nor does it change a directory it cannot read.
    await refused(
      store,
      () => store.splitRange({ start: 0, end: 0x80000000 }),
      "UNKNOWN_KEY_FUNCTION",
    );
  });

  it("opens a MySQL directory from its URL as a source; schemes of no source are BAD_URL", async () => {
    const { url } = await dirs.create({ shards: ["a"], layout: 2 });
    const source = await openDirectorySource(url.replace(/^mysql:/, "mariadb:"));
    try {
      expect(source.location).toContain(databaseOf(url));
      expect((await source.snapshot()).ranges.map((r) => r.shard)).toEqual(["a", "a"]);
      expect(await source.version()).toBe(3);
    } finally {
      await source.close();
    }
    // http(s) is the directory service (tested with it); other schemes are refused.
    await expect(openDirectorySource("ftp://dir.example/shardkit")).rejects.toMatchObject({
      code: "BAD_URL",
    });
    await expect(openDirectorySource("not a url")).rejects.toMatchObject({ code: "BAD_URL" });
  });

  it("records and lists router heartbeats", async () => {
    const { store } = await dirs.create();
    await store.recordHeartbeat({ id: "r1", host: "h", pid: 1, version: 3 });
    await store.recordHeartbeat({ id: "r1", host: "h", pid: 1, version: 4 });
    await store.recordHeartbeat({ id: "r2", host: "h", pid: 2, version: 4 });
    const hbs = await store.listHeartbeats();
    expect(hbs.map((h) => [h.id, h.version]).sort()).toEqual([
      ["r1", 4],
      ["r2", 4],
    ]);
    expect(hbs[0]?.lastSeen).toBeInstanceOf(Date);
  });

  it("reserves id blocks that never overlap, and refuses a bad request", async () => {
    const { store } = await dirs.create();
    const blocks = await Promise.all([1, 2, 3].map(() => store.reserveIds("orders", 100)));
    const starts = blocks.map((b) => b.start).sort((x, y) => x - y);
    expect(starts).toEqual([1, 101, 201]);
    for (const b of blocks) expect(b.end - b.start).toBe(100);
    await refused(store, () => store.reserveIds("orders", 0), "BAD_ARGUMENT");
    await refused(store, () => store.reserveIds("bad-name", 1), "BAD_NAME");
  });
});
