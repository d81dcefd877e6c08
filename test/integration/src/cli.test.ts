import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DIRECTORY_SCHEMA_VERSION } from "@shardkit/directory";
import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CliRun,
  DirectoryFactory,
  expectRefusal,
  repoRoot,
  runCli,
  runShell,
  shardkitBin,
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

/** Two shards on two servers, users (hash) and events (identity), four ranges. */
function standardDirectory(): Promise<TestDirectory> {
  return directories.create({
    shards: [a, b],
    tables: [
      ["users", "user_id"],
      ["events", "id", "identity"],
    ],
    layout: 4,
  });
}

afterAll(async () => {
  await directories?.close();
  await fleet?.stop();
});

describe("shardkit CLI", () => {
  it("initialises the directory, twice without harm", async () => {
    const url = await a.createDatabase("dir");
    const first = await runCli(["init"], { directory: url });
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toMatch(
      /initialised the directory at mysql:\/\/root@127\.0\.0\.1:\d+\/\w+ \(schema version \d+\)/,
    );
    const again = await runCli(["--json", "init"], { directory: url });
    expect(JSON.parse(again.stdout)).toMatchObject({
      schemaVersion: DIRECTORY_SCHEMA_VERSION,
      databaseCreated: false,
    });
  });

  it("registers shards, declares tables, lays out ranges and lists them", async () => {
    const dir = await directories.create();
    const s1 = await a.createDatabase("s1");
    const s2 = await b.createDatabase("s2");
    const added = await dir.json<{ shard: { name: string }; version: number }>([
      "shard",
      "add",
      "s1",
      s1,
    ]);
    expect(added.shard.name).toBe("s1");
    expect((await dir.cli(["shard", "add", "s2", s2])).code).toBe(0);
    for (const url of [s1, s2]) {
      await sql(
        url,
        "CREATE TABLE users (user_id BIGINT PRIMARY KEY)",
        "CREATE TABLE events (id BIGINT PRIMARY KEY)",
      );
    }
    expect((await dir.cli(["table", "add", "users", "--key", "user_id"])).code).toBe(0);
    expect(
      (await dir.cli(["table", "add", "events", "--key", "id", "--key-function", "identity"])).code,
    ).toBe(0);
    expect(await dir.json(["table", "list"])).toEqual([
      { name: "events", keyColumn: "id", keyFunction: "identity" },
      { name: "users", keyColumn: "user_id", keyFunction: "hash" },
    ]);
    expect((await dir.cli(["layout", "even", "4"])).code).toBe(0);
    expect(await dir.json(["ranges"])).toEqual([
      { range: "-40", start: "00000000", end: "40000000", shard: "s1", state: "serving" },
      { range: "40-80", start: "40000000", end: "80000000", shard: "s2", state: "serving" },
      { range: "80-c0", start: "80000000", end: "c0000000", shard: "s1", state: "serving" },
      { range: "c0-", start: "c0000000", end: "100000000", shard: "s2", state: "serving" },
    ]);
    const human = await dir.cli(["ranges"]);
    expect(human.stdout.split("\n")[0]).toMatch(/^RANGE\s+START\s+END\s+SHARD\s+STATE$/);
    const shards = await dir.json<{ name: string; ranges: number }[]>(["shard", "list"]);
    expect(shards.map((s) => [s.name, s.ranges])).toEqual([
      ["s1", 2],
      ["s2", 2],
    ]);
  });

  it("routes keys, including ones that look like options after --", async () => {
    const dir = await standardDirectory();
    const routed = await dir.json<{ key: string; ksid: string; range: string }[]>([
      "route",
      "--",
      "-7",
      "42",
      "alice",
    ]);
    expect(routed.map((r) => r.key)).toEqual(["-7", "42", "alice"]);
    for (const r of routed) {
      expect(r.ksid).toMatch(/^[0-9a-f]{8}$/);
      expect(["-40", "40-80", "80-c0", "c0-"]).toContain(r.range);
    }
    expect(await dir.json(["route", "--table", "events", "3221225472"])).toEqual([
      { key: "3221225472", ksid: "c0000000", range: "c0-", shard: "s2", pinned: false },
    ]);
  });

  it("splits, merges, pins and unpins", async () => {
    const dir = await standardDirectory();
    expect(await dir.json(["split", "40-80", "--at", "60"])).toMatchObject({
      ranges: ["40-60", "60-80"],
    });
    expect(await dir.json(["merge", "40-60", "60-80"])).toMatchObject({ range: "40-80" });
    expect(await dir.json(["split", "c0-"])).toMatchObject({ ranges: ["c0-e0", "e0-"] });
    expect(await dir.json(["pin", "whale", "s1"])).toMatchObject({ key: "whale", shard: "s1" });
    expect(await dir.json(["route", "whale"])).toMatchObject([{ shard: "s1", pinned: true }]);
    expect(await dir.json(["pins"])).toMatchObject([{ key: "whale", shard: "s1" }]);
    expect((await dir.cli(["unpin", "whale"])).code).toBe(0);
    expect(await dir.json(["pins"])).toEqual([]);
  });

  it("pins and unpins a key as a table's key column stores it, with --table", async () => {
    const dir = await standardDirectory();
    // users.user_id is a BIGINT: "007" is the integer 7, the key every router routes.
    expect(await dir.json(["pin", "007", "s2", "--table", "users"])).toMatchObject({ shard: "s2" });
    expect(await dir.json(["pins"])).toMatchObject([{ key: "7", shard: "s2" }]);
    expect(await dir.json(["route", "--table", "users", "7", "+7"])).toMatchObject([
      { shard: "s2", pinned: true },
      { shard: "s2", pinned: true },
    ]);
    const refused = await dir.cli(["pin", "4x", "s1", "--table", "users"]);
    expectRefusal(refused, 2, /BIGINT|integer/i);
    expect((await dir.cli(["unpin", " 7", "--table", "users"])).code).toBe(0);
    expect(await dir.json(["pins"])).toEqual([]);
  });

  it("takes ranges that start with a dash as ranges, before or after options", async () => {
    const dir = await directories.create({ shards: [a], layout: 4 });
    expect(await dir.json(["split", "-40", "--at", "20"])).toMatchObject({
      ranges: ["-20", "20-40"],
    });
    expect(await dir.json(["merge", "-20", "20-40"])).toMatchObject({ range: "-40" });
    expect(await dir.json(["merge", "-40", "40-80"])).toMatchObject({ range: "-80" });
    expect(await dir.json(["merge", "80-c0", "-80"])).toMatchObject({ range: "-c0" });
    expect(await dir.json(["split", "--at", "a0", "-c0"])).toMatchObject({
      ranges: ["-a0", "a0-c0"],
    });
    expect(await dir.json(["merge", "-a0", "a0-c0"])).toMatchObject({ range: "-c0" });
    expect((await dir.json<{ range: string }[]>(["ranges"])).map((r) => r.range)).toEqual([
      "-c0",
      "c0-",
    ]);
  });

  it("doctor reports every shard in step, then finds and repairs a fence left out of step", async () => {
    const dir = await standardDirectory();
    const r = await dir.cli(["doctor"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/every shard is in step/);
    // What a crash between a fence write and the directory commit can leave: a grant too few.
    await sql(
      dir.shardUrls[0] ?? "",
      "DELETE FROM shardkit_ownership WHERE kind = 'range' AND range_start = 0",
    );
    const before = await dir.store.version();
    const dry = await dir.cli(["doctor", "--dry-run"]);
    expectRefusal(dry, 4, /difference\(s\) found; run shardkit doctor without --dry-run/);
    expect(dry.stdout).toMatch(/s1: range -40 is missing/);
    const dryJson = await dir.cli(["--json", "doctor", "--dry-run"]);
    expect(dryJson.code).toBe(4);
    expect(JSON.parse(dryJson.stdout)).toMatchObject({
      error: {
        code: "FENCE_OUT_OF_STEP",
        details: { differences: [{ shard: "s1", what: "range -40" }] },
      },
    });
    const fixed = await dir.json<{ repairedShards: string[] }>(["doctor"]);
    expect(fixed.repairedShards).toEqual(["s1"]);
    expect((await dir.cli(["doctor"])).stdout).toMatch(/every shard is in step/);
    expect(await dir.store.version()).toBe(before);
  });

  it("doctor exits 5 (unavailable, retry later) when a shard cannot be reached, and checks the others", async () => {
    const dir = await directories.create({ shards: [a, b], layout: 2 });
    const gone = dir.shardUrls[1] ?? "";
    await sql(gone, `DROP DATABASE ${new URL(gone).pathname.slice(1)}`);
    const r = await dir.cli(["doctor"]);
    expectRefusal(r, 5, /shard s2 is unreachable/);
    expect(r.stdout).toMatch(/checked 2 shards/);
    const j = await dir.cli(["--json", "doctor"]);
    expect(j.code).toBe(5);
    expect(JSON.parse(j.stdout)).toMatchObject({
      error: { code: "SHARD_UNAVAILABLE", details: { unreachableShards: ["s2"] } },
    });
  });

  it("removes a shard that owns nothing", async () => {
    const dir = await directories.create({ shards: [a, b] });
    expect((await dir.cli(["shard", "remove", "s2"])).code).toBe(0);
    expect((await dir.json<{ name: string }[]>(["shard", "list"])).map((s) => s.name)).toEqual([
      "s1",
    ]);
  });
});

describe("shardkit CLI config file", () => {
  it("reads the directory and credentials from the config file, and refuses a bad one", async () => {
    const dir = await directories.create({ shards: [a, b] });
    const workdir = mkdtempSync(join(tmpdir(), "shardkit-cli-"));
    try {
      writeFileSync(
        join(workdir, "shardkit.config.json"),
        JSON.stringify({ directory: dir.url, credentials: { default: "" } }),
      );
      const r = await runCli(["--json", "shard", "list"], { cwd: workdir });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toHaveLength(2);
      writeFileSync(join(workdir, "broken.json"), "{ nope");
      expectRefusal(
        await runCli(["--config", "broken.json", "ranges"], { cwd: workdir }),
        2,
        /not valid JSON/,
      );
      expectRefusal(
        await runCli(["--config", "missing.json", "ranges"], { cwd: workdir }),
        2,
        /does not exist/,
      );
    } finally {
      rmSync(workdir, { recursive: true, force: true });
    }
  });
});

describe("shardkit as a program", () => {
  it("prints --help for the program and each command through npx from the repo root", async () => {
    const run = promisify(execFile);
    const top = await run("npx", ["shardkit", "--help"], { cwd: repoRoot });
    expect(top.stdout).toMatch(/Usage: shardkit/);
    for (const cmd of ["init", "shard", "route", "split", "doctor", "layout"]) {
      expect(top.stdout).toContain(cmd);
    }
    const sub = await run("npx", ["shardkit", "split", "--help"], { cwd: repoRoot });
    expect(sub.stdout).toMatch(/--at <hex>/);
    // The installed bin itself, so that npm's own notices on stderr do not count as ours.
    const bad = await run(shardkitBin, ["split", "zz"], { cwd: repoRoot }).catch((e: CliRun) => e);
    expect((bad as CliRun).code).toBe(2);
    expect((bad as CliRun).stderr.trim().split("\n")).toHaveLength(1);
  });

  it("ends quietly when the reader of its output closes early", async () => {
    // Enough ranges that the JSON outgrows a pipe's buffer, so writing it hits the closed pipe.
    const dir = await directories.create({ shards: [a] });
    await dir.cli(["layout", "even", "4096"]);
    // The subshell reports shardkit's own exit status on stderr; nothing else may be there.
    const ranges = await runShell(
      `("${shardkitBin}" --json ranges; echo "shardkit exited $?" >&2) | head -c 20`,
      dir.url,
    );
    expect(ranges).toEqual({
      code: 0,
      stdout: '[\n  {\n    "range": "',
      stderr: "shardkit exited 0\n",
    });
    const help = await runShell(
      `("${shardkitBin}" --help; echo "shardkit exited $?" >&2) | head -1`,
      dir.url,
    );
    expect(help).toEqual({
      code: 0,
      stdout: "Usage: shardkit [options] [command]\n",
      stderr: "shardkit exited 0\n",
    });
  });
});
