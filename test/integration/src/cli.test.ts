import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import {
  connect,
  DIRECTORY_SCHEMA_VERSION,
  MysqlDirectoryStore,
  parseMysqlUrl,
} from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { main } from "@shardkit/cli";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../../..");
let fleet: Fleet;
let directory: string;
let store: MysqlDirectoryStore;
const shardUrls: string[] = [];
let workdir: string;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = workdir): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: { SHARDKIT_DIRECTORY: directory, ...env },
    cwd,
  });
  return { code, stdout, stderr };
}

async function json<T = unknown>(args: string[]): Promise<T> {
  const r = await cli(["--json", ...args]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

beforeAll(async () => {
  workdir = mkdtempSync(join(tmpdir(), "shardkit-cli-"));
  fleet = await startFleet({ servers: 2 });
  const [a, b] = fleet.servers;
  if (!a || !b) throw new Error("fleet started too few servers");
  directory = await a.createDatabase("dir");
  shardUrls.push(
    await a.createDatabase("s1"),
    await b.createDatabase("s2"),
    await b.createDatabase("s3"),
  );
  store = new MysqlDirectoryStore({ directory });
});

afterAll(async () => {
  await store?.close();
  await fleet?.stop();
  rmSync(workdir, { recursive: true, force: true });
});

describe("shardkit CLI", () => {
  it("initialises the directory, twice without harm", async () => {
    const first = await cli(["init"]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toMatch(
      /initialised the directory at mysql:\/\/root@127\.0\.0\.1:\d+\/\w+ \(schema version \d+\)/,
    );
    expect(await json(["init"])).toMatchObject({
      schemaVersion: DIRECTORY_SCHEMA_VERSION,
      databaseCreated: false,
    });
  });

  it("registers shards, declares a table, lays out ranges and routes keys", async () => {
    const added = await json<{ shard: { name: string }; version: number }>([
      "shard",
      "add",
      "s1",
      shardUrls[0] ?? "",
    ]);
    expect(added.shard.name).toBe("s1");
    expect((await cli(["shard", "add", "s2", shardUrls[1] ?? ""])).code).toBe(0);
    expect((await cli(["table", "add", "users", "--key", "user_id"])).code).toBe(0);
    expect(
      (await cli(["table", "add", "events", "--key", "id", "--key-function", "identity"])).code,
    ).toBe(0);
    expect(await json(["table", "list"])).toEqual([
      { name: "events", keyColumn: "id", keyFunction: "identity" },
      { name: "users", keyColumn: "user_id", keyFunction: "hash" },
    ]);
    expect((await cli(["layout", "even", "4"])).code).toBe(0);
    expect(await json(["ranges"])).toEqual([
      { range: "-40", start: "00000000", end: "40000000", shard: "s1", state: "serving" },
      { range: "40-80", start: "40000000", end: "80000000", shard: "s2", state: "serving" },
      { range: "80-c0", start: "80000000", end: "c0000000", shard: "s1", state: "serving" },
      { range: "c0-", start: "c0000000", end: "100000000", shard: "s2", state: "serving" },
    ]);
    const human = await cli(["ranges"]);
    expect(human.stdout.split("\n")[0]).toMatch(/^RANGE\s+START\s+END\s+SHARD\s+STATE$/);
    const shards = await json<{ name: string; ranges: number }[]>(["shard", "list"]);
    expect(shards.map((s) => [s.name, s.ranges])).toEqual([
      ["s1", 2],
      ["s2", 2],
    ]);
  });

  it("routes keys, including ones that look like options after --", async () => {
    const routed = await json<{ key: string; ksid: string; range: string; shard: string }[]>([
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
    const ident = await json<{ ksid: string; shard: string }[]>([
      "route",
      "--table",
      "events",
      "3221225472",
    ]);
    expect(ident).toEqual([
      { key: "3221225472", ksid: "c0000000", range: "c0-", shard: "s2", pinned: false },
    ]);
  });

  it("splits, merges, pins and unpins", async () => {
    expect(await json(["split", "40-80", "--at", "60"])).toMatchObject({
      ranges: ["40-60", "60-80"],
    });
    expect(await json(["merge", "40-60", "60-80"])).toMatchObject({ range: "40-80" });
    expect(await json(["split", "c0-"])).toMatchObject({ ranges: ["c0-e0", "e0-"] });
    expect(await json(["pin", "whale", "s1"])).toMatchObject({ key: "whale", shard: "s1" });
    expect(await json(["route", "whale"])).toMatchObject([{ shard: "s1", pinned: true }]);
    expect(await json(["pins"])).toMatchObject([{ key: "whale", shard: "s1" }]);
    expect((await cli(["unpin", "whale"])).code).toBe(0);
    expect(await json(["pins"])).toEqual([]);
  });

  it("doctor reports every shard in step, then finds and repairs a fence left out of step", async () => {
    const r = await cli(["doctor"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/every shard is in step/);
    // What a crash between a fence write and the directory commit can leave: a grant too few.
    const conn = await connect(parseMysqlUrl(shardUrls[0] ?? ""));
    try {
      await conn.execute("DELETE FROM shardkit_ownership WHERE kind = 'range' AND range_start = 0");
    } finally {
      await conn.close();
    }
    const before = await store.version();
    const dry = await cli(["doctor", "--dry-run"]);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/s1: range -40 is missing/);
    expect(dry.stderr.trim().split("\n")).toHaveLength(1);
    const fixed = await json<{ repairedShards: string[] }>(["doctor"]);
    expect(fixed.repairedShards).toEqual(["s1"]);
    expect((await cli(["doctor"])).stdout).toMatch(/every shard is in step/);
    expect(await store.version()).toBe(before);
  });

  it("removes a shard that owns nothing", async () => {
    expect((await cli(["shard", "add", "s3", shardUrls[2] ?? ""])).code).toBe(0);
    expect((await cli(["shard", "remove", "s3"])).code).toBe(0);
  });

  // Each bad input: the exit status, one line on stderr, nothing on stdout, and the directory unchanged.
  const badInputs: [string, string[], 1 | 2, RegExp][] = [
    ["malformed range", ["split", "4g-80"], 2, /4g-80/],
    ["range with start >= end", ["split", "80-40"], 2, /80-40/],
    ["range without a dash", ["split", "40"], 2, /"40"/],
    ["range with two dashes", ["merge", "-40-80", "80-"], 2, /-40-80/],
    ["range with 9 digits", ["split", "-100000000"], 2, /8/],
    ["split point outside the range", ["split", "-40", "--at", "80"], 2, /80/],
    ["split point not hex", ["split", "-40", "--at", "zz"], 2, /zz/],
    ["split of an unknown range", ["split", "-20"], 1, /no range -20/],
    ["merge of ranges that are not adjacent", ["merge", "-40", "80-c0"], 1, /not adjacent/],
    ["merge of ranges on different shards", ["merge", "-40", "40-80"], 1, /s1.*s2|on s1/],
    ["unknown shard for pin", ["pin", "k", "nope"], 1, /unknown shard "nope"/],
    ["unpin of a key that is not pinned", ["unpin", "k"], 1, /not pinned/],
    [
      "duplicate shard name",
      ["shard", "add", "s1", "mysql://root@127.0.0.1:1/x"],
      1,
      /already registered/,
    ],
    ["removing a shard that owns ranges", ["shard", "remove", "s1"], 1, /still owns/],
    ["removing an unknown shard", ["shard", "remove", "ghost"], 1, /unknown shard "ghost"/],
    ["layout twice", ["layout", "even", "2"], 1, /already has/],
    ["layout with a non-number", ["layout", "even", "four"], 2, /four/],
    ["layout with zero ranges", ["layout", "even", "0"], 2, /0/],
    [
      "unreachable shard URL",
      ["shard", "add", "s9", "mysql://root@127.0.0.1:1/x"],
      1,
      /cannot reach shard s9/,
    ],
    ["shard URL that is not a URL", ["shard", "add", "s9", "not a url"], 2, /invalid MySQL URL/],
    ["shard URL with another scheme", ["shard", "add", "s9", "postgres://u@h/db"], 2, /mysql:\/\//],
    [
      "shard URL without a database",
      ["shard", "add", "s9", "mysql://root@127.0.0.1:3306"],
      2,
      /names no database/,
    ],
    ["bad shard name", ["shard", "add", "-x-", "mysql://root@127.0.0.1:1/x"], 2, /./],
    ["duplicate table", ["table", "add", "users", "--key", "id"], 1, /already sharded/],
    ["table without --key", ["table", "add", "orders"], 2, /--key/],
    [
      "unknown key function",
      ["table", "add", "orders", "--key", "id", "--key-function", "modulo"],
      2,
      /modulo/,
    ],
    ["bad table name", ["table", "add", "or-ders", "--key", "id"], 2, /or-ders/],
    ["unknown command", ["frobnicate"], 2, /unknown command/],
    ["unknown option", ["ranges", "--colour"], 2, /unknown option/],
    ["missing argument", ["pin", "k"], 2, /missing required argument/],
    ["key that identity cannot map", ["route", "--table", "events", "-1"], 2, /identity|-1/],
    ["route for an unknown table", ["route", "--table", "nope", "1"], 1, /not sharded/],
  ];

  it.each(badInputs)("refuses %s", async (_what, args, code, message) => {
    const before = await store.version();
    const r = await cli(args);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe("");
    expect(r.stderr.endsWith("\n")).toBe(true);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(await store.version()).toBe(before);
  });

  it("says what to do when no directory is given or it is unreachable or not initialised", async () => {
    const none = await cli(["ranges"], { SHARDKIT_DIRECTORY: "" });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--directory/);
    const down = await cli(["--directory", "mysql://root:hunter2@127.0.0.1:1/d", "ranges"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach the directory/);
    expect(down.stderr).not.toContain("hunter2");
    const [a] = fleet.servers;
    const fresh = await cli(["--directory", `${a?.adminUrl}/sk_never_initialised`, "ranges"]);
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toMatch(/shardkit init/);
  });

  it("never prints or stores a password given in a URL", async () => {
    const [a] = fleet.servers;
    const url = await a?.createDatabase("pw");
    const r = await cli(["--json", "shard", "add", "s4", withPassword(url ?? "", "sekr3t-pw")]);
    // root has no password on fleet servers, so MySQL refuses the wrong one: the error must still hide it.
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain("sekr3t-pw");
    expect(r.stdout).not.toContain("sekr3t-pw");
    const dump = JSON.stringify(await store.snapshot());
    expect(dump).not.toContain("sekr3t-pw");
    const shown = await cli(["--directory", withPassword(directory, "dir-pw-123"), "ranges"]);
    expect(shown.stderr + shown.stdout).not.toContain("dir-pw-123");
  });

  it("reads the directory and credentials from the config file", async () => {
    writeFileSync(
      join(workdir, "shardkit.config.json"),
      JSON.stringify({ directory, credentials: { default: "" } }),
    );
    try {
      const r = await cli(["--json", "shard", "list"], { SHARDKIT_DIRECTORY: undefined });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toHaveLength(2);
      writeFileSync(join(workdir, "broken.json"), "{ nope");
      const bad = await cli(["--config", "broken.json", "ranges"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/not valid JSON/);
      const missing = await cli(["--config", "missing.json", "ranges"]);
      expect(missing.code).toBe(2);
    } finally {
      rmSync(join(workdir, "shardkit.config.json"), { force: true });
    }
  });

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
    const bin = join(repoRoot, "node_modules/.bin/shardkit");
    const bad = await run(bin, ["split", "zz"], {
      cwd: repoRoot,
      env: { ...process.env, SHARDKIT_DIRECTORY: directory },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr.trim().split("\n")).toHaveLength(1);
  });
});
