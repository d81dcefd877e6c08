import { parseMysqlUrl } from "@shardkit/directory";
import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DirectoryFactory,
  databaseExists,
  expectRefusal,
  runCli,
  sql,
  type TestDirectory,
} from "./cli-harness.js";

let fleet: Fleet;
let a: FleetServer;
let b: FleetServer;
let directories: DirectoryFactory;

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
  const [first, second] = fleet.servers;
  if (!first || !second) throw new Error("fleet started too few servers");
  [a, b] = [first, second];
  directories = new DirectoryFactory(a);
});

afterAll(async () => {
  await directories?.close();
  await fleet?.stop();
});

/** Runs a refused command and checks that the directory's version did not move. */
async function refused(dir: TestDirectory, args: string[], status: number, message: RegExp) {
  const before = await dir.store.version();
  const r = await dir.cli(args);
  expectRefusal(r, status, message);
  expect(r.stdout).toBe("");
  expect(await dir.store.version()).toBe(before);
  return r;
}

describe("shardkit init on a database that is not empty", () => {
  it("asks for --force, creates nothing, then creates the schema with --force", async () => {
    const url = await a.createDatabase("app");
    await sql(url, "CREATE TABLE customers (id INT PRIMARY KEY)");
    const r = await runCli(["init"], { directory: url });
    expectRefusal(r, 4, /already holds tables \(customers\).*pass --force/);
    const json = await runCli(["--json", "init"], { directory: url });
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "NOT_EMPTY" } });
    expectRefusal(await runCli(["ranges"], { directory: url }), 3, /run shardkit init/);
    const forced = await runCli(["init", "--force"], { directory: url });
    expect(forced).toMatchObject({ code: 0, stderr: "" });
    expect((await runCli(["ranges"], { directory: url })).stdout).toMatch(/no ranges yet/);
  });
});

describe("shardkit shard add, names MySQL treats as equal", () => {
  it("refuses a database equal ignoring case to another shard's on the same server, creating nothing", async () => {
    const dir = await directories.create({ shards: [a] });
    const { database } = parseMysqlUrl(dir.shardUrls[0] ?? "");
    const upper = database.toUpperCase();
    const r = await refused(
      dir,
      ["shard", "add", "s2", `${a.adminUrl}/${upper}`],
      4,
      new RegExp(`database ${upper} clashes with database ${database} of shard s1`),
    );
    expect(r.stderr).toMatch(/use a database name of its own/);
    expect(await databaseExists(a.adminUrl, upper)).toBe(false);
    // The same name on another server is another database.
    const other = await b.createDatabase("other");
    expect((await dir.cli(["shard", "add", "s2", other])).code).toBe(0);
  });

  it("refuses a shard name equal ignoring case to a registered one", async () => {
    const dir = await directories.create({ shards: [a] });
    const fresh = `${b.adminUrl}/sk_never_created_${Date.now()}`;
    await refused(
      dir,
      ["shard", "add", "S1", fresh],
      4,
      /shard name S1 clashes with registered shard s1/,
    );
    expect(await databaseExists(b.adminUrl, parseMysqlUrl(fresh).database)).toBe(false);
  });

  it("refuses the directory's own database as a shard", async () => {
    const dir = await directories.create();
    await refused(dir, ["shard", "add", "s1", dir.url], 4, /is the directory's own database/);
    expect(await dir.json(["shard", "list"])).toEqual([]);
  });
});

describe("shardkit table add, remove", () => {
  it("refuses a table name equal ignoring case to a sharded one", async () => {
    const dir = await directories.create({ shards: [a], tables: [["users", "user_id"]] });
    await sql(dir.shardUrls[0] ?? "", "CREATE TABLE Users2 (user_id BIGINT PRIMARY KEY)");
    await refused(
      dir,
      ["table", "add", "Users", "--key", "user_id"],
      4,
      /table Users clashes with sharded table users .*use the registered name users/,
    );
    expect(await dir.json(["table", "list"])).toEqual([
      { name: "users", keyColumn: "user_id", keyFunction: "hash" },
    ]);
  });

  it("names each shard lacking the table or its key column, and declares it ahead with --no-check", async () => {
    const dir = await directories.create({ shards: [a, b] });
    await sql(dir.shardUrls[0] ?? "", "CREATE TABLE orders (id BIGINT PRIMARY KEY)");
    const r = await refused(dir, ["table", "add", "orders", "--key", "order_id"], 3, /--no-check/);
    expect(r.stderr).toMatch(/s1/);
    expect(r.stderr).toMatch(/s2/);
    const json = await dir.cli(["--json", "table", "add", "orders", "--key", "order_id"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "TABLE_NOT_ON_SHARD" } });
    expect(await dir.json(["table", "list"])).toEqual([]);
    const ahead = await dir.json(["table", "add", "orders", "--key", "order_id", "--no-check"]);
    expect(ahead).toMatchObject({ table: { name: "orders", keyColumn: "order_id" } });
  });

  it("removes a sharded table; routing by it is then refused", async () => {
    const dir = await directories.create({
      shards: [a],
      tables: [["users", "user_id"]],
      layout: 2,
    });
    expect((await dir.json<unknown[]>(["route", "--table", "users", "7"])).length).toBe(1);
    const removed = await dir.cli(["table", "remove", "users"]);
    expect(removed).toMatchObject({ code: 0, stderr: "" });
    expect(removed.stdout).toMatch(/table users is no longer sharded/);
    expect(await dir.json(["table", "list"])).toEqual([]);
    await refused(dir, ["route", "--table", "users", "7"], 3, /not sharded/);
  });
});

describe("shardkit unpin of a key with rows", () => {
  it("is refused with what to do while the pinned shard holds the key's rows", async () => {
    const dir = await directories.create({
      shards: [a, b],
      tables: [["users", "user_id"]],
      layout: 4,
    });
    expect((await dir.cli(["pin", "1000", "s2"])).code).toBe(0);
    await sql(dir.shardUrls[1] ?? "", "INSERT INTO users (user_id, note) VALUES (1000, 'whale')");
    await refused(
      dir,
      ["unpin", "1000"],
      4,
      /still has rows on its shard s2 .*delete those rows or move them/,
    );
    expect(await dir.json(["pins"])).toMatchObject([{ key: "1000", shard: "s2" }]);
    await sql(dir.shardUrls[1] ?? "", "DELETE FROM users WHERE user_id = 1000");
    expect((await dir.cli(["unpin", "1000"])).code).toBe(0);
    expect(await dir.json(["pins"])).toEqual([]);
  });
});

describe("shardkit layout even --shards", () => {
  it("hands an empty list and a list naming a shard twice to the directory, which refuses both", async () => {
    const dir = await directories.create({ shards: [a, b] });
    await refused(dir, ["layout", "even", "4", "--shards", ""], 2, /the list of shards is empty/);
    await refused(
      dir,
      ["layout", "even", "4", "--shards", "s1,s1"],
      2,
      /s1 is named more than once/,
    );
    expect(await dir.json(["ranges"])).toEqual([]);
    expect(await dir.json(["layout", "even", "2", "--shards", "s2,s1"])).toMatchObject({
      ranges: 2,
    });
    expect((await dir.json<{ shard: string }[]>(["ranges"])).map((r) => r.shard)).toEqual([
      "s2",
      "s1",
    ]);
  });
});
