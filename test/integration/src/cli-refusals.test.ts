import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectoryFactory, expectRefusal, runCli, type TestDirectory } from "./cli-harness.js";

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

describe("shardkit CLI refusals", () => {
  let dir: TestDirectory;
  beforeAll(async () => {
    // Two shards on two servers, users (hash) and events (identity), four ranges.
    dir = await directories.create({
      shards: [a, b],
      tables: [
        ["users", "user_id"],
        ["events", "id", "identity"],
      ],
      layout: 4,
    });
  });

  // Each bad input: the exit status of its category, one line on stderr, nothing on stdout, the
  // same line in one JSON document with --json, and the directory unchanged.
  const badInputs: [string, string[], number, string, RegExp][] = [
    ["malformed range", ["split", "4g-80"], 2, "BAD_KEY_RANGE", /4g-80/],
    ["range with start >= end", ["split", "80-40"], 2, "BAD_KEY_RANGE", /80-40/],
    ["range without a dash", ["split", "40"], 2, "BAD_KEY_RANGE", /"40"/],
    ["range with two dashes", ["merge", "-40-80", "80-"], 2, "BAD_KEY_RANGE", /-40-80/],
    ["range with 9 digits", ["split", "-100000000"], 2, "BAD_KEY_RANGE", /8/],
    ["split point outside the range", ["split", "-40", "--at", "80"], 2, "BAD_KEY_RANGE", /80/],
    ["split point not hex", ["split", "-40", "--at", "zz"], 2, "BAD_KEY_RANGE", /zz/],
    ["split of an unknown range", ["split", "-20"], 3, "UNKNOWN_RANGE", /no range -20/],
    ["split of an unknown dashed range", ["split", "-c0"], 3, "UNKNOWN_RANGE", /no range -c0/],
    [
      "merge of ranges that are not adjacent",
      ["merge", "-40", "80-c0"],
      4,
      "NOT_ADJACENT",
      /not adjacent/,
    ],
    [
      "merge of ranges on different shards",
      ["merge", "-40", "40-80"],
      4,
      "DIFFERENT_SHARDS",
      /s1.*s2|on s1/,
    ],
    ["unknown shard for pin", ["pin", "k", "nope"], 3, "UNKNOWN_SHARD", /unknown shard "nope"/],
    ["unpin of a key that is not pinned", ["unpin", "k"], 3, "NOT_PINNED", /not pinned/],
    [
      "duplicate shard name",
      ["shard", "add", "s1", "mysql://root@127.0.0.1:1/x"],
      4,
      "SHARD_EXISTS",
      /already registered/,
    ],
    [
      "removing a shard that owns ranges",
      ["shard", "remove", "s1"],
      4,
      "SHARD_OWNS_RANGES",
      /still owns/,
    ],
    [
      "removing an unknown shard",
      ["shard", "remove", "ghost"],
      3,
      "UNKNOWN_SHARD",
      /unknown shard "ghost"/,
    ],
    ["layout twice", ["layout", "even", "2"], 4, "LAYOUT_EXISTS", /already has/],
    ["layout with a non-number", ["layout", "even", "four"], 2, "BAD_ARGUMENT", /four/],
    ["layout with zero ranges", ["layout", "even", "0"], 2, "BAD_ARGUMENT", /0/],
    [
      "unreachable shard URL",
      ["shard", "add", "s9", "mysql://root@127.0.0.1:1/x"],
      5,
      "SHARD_UNAVAILABLE",
      /cannot reach shard s9/,
    ],
    [
      "shard URL that is not a URL",
      ["shard", "add", "s9", "not a url"],
      2,
      "BAD_URL",
      /invalid MySQL URL/,
    ],
    [
      "shard URL with another scheme",
      ["shard", "add", "s9", "postgres://u@h/db"],
      2,
      "BAD_URL",
      /mysql:\/\//,
    ],
    [
      "shard URL without a database",
      ["shard", "add", "s9", "mysql://root@127.0.0.1:3306"],
      2,
      "BAD_ARGUMENT",
      /names no database/,
    ],
    ["bad shard name", ["shard", "add", "-x-", "mysql://root@127.0.0.1:1/x"], 2, "USAGE", /./],
    [
      "duplicate table",
      ["table", "add", "users", "--key", "id"],
      4,
      "TABLE_EXISTS",
      /already sharded/,
    ],
    ["table without --key", ["table", "add", "orders"], 2, "USAGE", /--key/],
    [
      "unknown key function",
      ["table", "add", "orders", "--key", "id", "--key-function", "modulo"],
      2,
      "USAGE",
      /modulo/,
    ],
    ["bad table name", ["table", "add", "or-ders", "--key", "id"], 2, "BAD_NAME", /or-ders/],
    [
      "removing a table that is not sharded",
      ["table", "remove", "ghosts"],
      3,
      "UNKNOWN_TABLE",
      /ghosts/,
    ],
    ["unknown command", ["frobnicate"], 2, "USAGE", /unknown command/],
    ["unknown option", ["ranges", "--colour"], 2, "USAGE", /unknown option/],
    ["missing argument", ["pin", "k"], 2, "USAGE", /missing required argument/],
    [
      "key that identity cannot map",
      ["route", "--table", "events", "-1"],
      2,
      "BAD_SHARD_KEY",
      /identity|-1/,
    ],
    [
      "route for an unknown table",
      ["route", "--table", "nope", "1"],
      3,
      "UNKNOWN_TABLE",
      /not sharded/,
    ],
  ];

  it.each(badInputs)("refuses %s", async (_what, args, status, code, message) => {
    const before = await dir.store.version();
    const r = await dir.cli(args);
    expectRefusal(r, status, message);
    expect(r.stdout).toBe("");
    const j = await dir.cli(["--json", ...args]);
    expect(j.code).toBe(status);
    const doc = JSON.parse(j.stdout) as { error: { code: string; message: string } };
    expect(doc.error.code).toBe(code);
    expect(j.stderr).toBe(`shardkit: ${doc.error.message}\n`);
    expect(j.stderr).toBe(r.stderr);
    expect(await dir.store.version()).toBe(before);
  });

  it("says what to do when no directory is given or it is unreachable or not initialised", async () => {
    const none = await runCli(["ranges"], { directory: "" });
    expectRefusal(none, 2, /--directory/);
    const down = await runCli(["--directory", "mysql://root:hunter2@127.0.0.1:1/d", "ranges"]);
    expectRefusal(down, 5, /cannot reach the directory/);
    expect(down.stderr).not.toContain("hunter2");
    const fresh = await runCli(["ranges"], { directory: `${a.adminUrl}/sk_never_initialised` });
    expectRefusal(fresh, 3, /shardkit init/);
  });
});
