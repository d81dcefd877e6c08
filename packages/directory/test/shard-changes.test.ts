import { parseMysqlUrl } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ShardConnections } from "../src/store/mysql/shard-connections.js";
import {
  databaseExists,
  databaseOf,
  directories,
  fenceOf,
  refused,
  shardInput,
  sql,
} from "./helpers.js";

let fleet: Fleet;
const dirs = directories(() => fleet);

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
});
afterEach(() => dirs.closeAll());
afterAll(async () => {
  await fleet?.stop();
});

/** A database name on server `i` no test has used, and its URL (not created). */
function unusedDatabase(i: number, name: string): string {
  const server = fleet.servers[i];
  return `${server?.adminUrl}/${name}_${Date.now().toString(36)}`;
}

describe("adding and removing shards", () => {
  it("adds shards, bumping the version and creating their databases and empty fences", async () => {
    const { store } = await dirs.create();
    const v0 = await store.version();
    const url = unusedDatabase(1, "sk_new_shard");
    const r = await store.addShard(shardInput("a", url));
    expect(r.version).toBe(v0 + 1);
    expect(r.shard).toMatchObject({ name: "a", database: databaseOf(url), state: "serving" });
    expect(await databaseExists(url, databaseOf(url))).toBe(true);
    expect(await fenceOf(url)).toEqual([]);
    expect((await store.snapshot()).shards.map((s) => s.name)).toEqual(["a"]);
    await sql(url, `DROP DATABASE ${databaseOf(url)}`);
  });

  it("refuses bad shards and changes nothing", async () => {
    const { store, shards } = await dirs.create({ shards: ["a", "b"] });
    await refused(
      store,
      () => store.addShard(shardInput("a", unusedDatabase(0, "x"))),
      "SHARD_EXISTS",
    );
    await refused(store, () => store.addShard(shardInput("b2", shards.b ?? "")), "SHARD_EXISTS");
    await refused(
      store,
      () => store.addShard(shardInput("9bad", unusedDatabase(0, "y"))),
      "BAD_NAME",
    );
    const dead = await refused(
      store,
      () => store.addShard({ ...shardInput("dead", shards.b ?? ""), port: 1, database: "x" }),
      "SHARD_UNAVAILABLE",
    );
    expect(dead.cause).toMatchObject({ code: "MYSQL_UNAVAILABLE" });
    await refused(store, () => store.removeShard("nope"), "UNKNOWN_SHARD");
    expect((await store.snapshot()).shards.map((s) => s.name)).toEqual(["a", "b"]);
  });

  it("refuses a shard name equal ignoring case to a registered one, before creating its database", async () => {
    const { store } = await dirs.create({ shards: ["app"] });
    const url = unusedDatabase(1, "sk_upper");
    const error = await refused(store, () => store.addShard(shardInput("APP", url)), "NAME_CLASH");
    expect(error.message).toMatch(/APP clashes with registered shard app/);
    expect(await databaseExists(url, databaseOf(url))).toBe(false);
  });

  it("refuses a database equal ignoring case to another shard's on the same server", async () => {
    const { store, shards } = await dirs.create({ shards: ["a"] });
    const upper = databaseOf(shards.a ?? "").toUpperCase();
    const url = `${fleet.servers[0]?.adminUrl}/${upper}`;
    const error = await refused(store, () => store.addShard(shardInput("b", url)), "NAME_CLASH");
    expect(error.message).toContain(`database ${upper} clashes with database`);
    expect(await databaseExists(url, upper)).toBe(false);
    // The same name on another server is another database.
    const other = `${fleet.servers[1]?.adminUrl}/${upper}`;
    await store.addShard(shardInput("b", other));
    expect(await databaseExists(other, upper)).toBe(true);
    await sql(other, `DROP DATABASE ${upper}`);
  });

  it("refuses the directory's own database as a shard, whatever the case or loopback name", async () => {
    const { store, url } = await dirs.create();
    const endpoint = parseMysqlUrl(url);
    for (const input of [
      { name: "self", ...endpoint },
      { name: "self", ...endpoint, host: "localhost", database: endpoint.database.toUpperCase() },
    ]) {
      const error = await refused(store, () => store.addShard(input), "NAME_CLASH");
      expect(error.message).toContain("the directory database cannot be a shard");
    }
    expect(await databaseExists(url, endpoint.database.toUpperCase())).toBe(false);
    expect((await store.snapshot()).shards).toEqual([]);
    const [rows] = await sql(url, "SHOW TABLES LIKE 'shardkit_ownership'");
    expect(rows).toEqual([]);
  });

  it("refuses a database that is already another directory's shard", async () => {
    const first = await dirs.create({ shards: ["a"], layout: 1 });
    const second = await dirs.create();
    await refused(
      second.store,
      () => second.store.addShard(shardInput("a", first.shards.a ?? "")),
      "SHARD_EXISTS",
    );
  });

  it("removes an empty shard and refuses one that owns ranges", async () => {
    const { store } = await dirs.create({ shards: ["a", "b", "c"] });
    await store.layoutEven(2, ["a", "b"]);
    await refused(store, () => store.removeShard("a"), "SHARD_OWNS_RANGES");
    const v = await store.version();
    expect((await store.removeShard("c")).version).toBe(v + 1);
    expect((await store.snapshot()).shards.map((x) => x.name)).toEqual(["a", "b"]);
  });
});

describe("reaching shards", () => {
  it("reports a shard lost midway as SHARD_UNAVAILABLE naming it, not as the directory", async () => {
    const { store } = await dirs.create({ shards: ["a"] });
    const [shard] = (await store.snapshot()).shards;
    if (!shard) throw new Error("no shard");
    const shards = new ShardConnections(() => "", 5000);
    const lost = await shards
      .with(shard, async (conn) => {
        await conn.query("KILL CONNECTION_ID()").catch(() => undefined);
        return conn.query("SELECT 1");
      })
      .then(
        () => undefined,
        (e: unknown) => e as Error & { code: string; details: unknown },
      );
    expect(lost).toMatchObject({ code: "SHARD_UNAVAILABLE", details: { shard: "a" } });
    expect(lost?.message).toMatch(/^cannot reach shard a: .*; check the server runs/);
    // A statement the shard rejects stays a query error.
    await expect(shards.with(shard, (conn) => conn.query("SELECT nope"))).rejects.toMatchObject({
      code: "MYSQL_ERROR",
    });
  });
});
