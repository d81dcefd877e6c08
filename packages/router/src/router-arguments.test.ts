import type { DirectorySnapshot, DirectorySource } from "@shardkit/directory";
import { ShardkitError } from "@shardkit/directory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouter } from "./create-router.js";
import type { Router } from "./router.js";

// A directory of one shard that is never reached: every call below is refused before any
// query, so no server is needed. Ids come from memory.
const SNAPSHOT: DirectorySnapshot = {
  version: 1,
  shards: [
    { name: "s1", host: "127.0.0.1", port: 9, user: "app", database: "s1", state: "serving" },
  ],
  tables: [],
  ranges: [{ range: { start: 0, end: 2 ** 32 }, shard: "s1", state: "serving" }],
  pins: [],
  moves: [],
};

function memorySource(): DirectorySource {
  let next = 1;
  return {
    location: "memory",
    snapshot: async () => SNAPSHOT,
    version: async () => SNAPSHOT.version,
    recordHeartbeat: async () => undefined,
    listHeartbeats: async () => [],
    reserveIds: async (_sequence, count) => {
      const start = next;
      next += count;
      return { start, end: next };
    },
    close: async () => undefined,
  };
}

/** The ShardkitError `work` throws or rejects with, checked for its code and one-line message. */
async function refusal(work: () => unknown, code: string, message: RegExp): Promise<void> {
  let error: unknown;
  try {
    await work();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ShardkitError);
  expect((error as ShardkitError).code).toBe(code);
  expect((error as Error).message).not.toContain("\n");
  expect((error as Error).message).toMatch(message);
}

let router: Router;

beforeAll(async () => {
  router = await createRouter({ directory: memorySource(), pollIntervalMs: 0, heartbeatId: false });
});

afterAll(async () => {
  await router?.close();
});

describe("createRouter refuses options of the wrong shape", () => {
  const source = memorySource();
  it.each([
    ["no options", undefined, /^createRouter\(\) needs \{ directory \}/],
    ["no directory", {}, /^createRouter\(\) needs \{ directory \}/],
    ["a directory of the wrong type", { directory: 42 }, /option directory must be a URL string/],
    [
      "a negative pool size",
      { directory: source, pool: { max: -1 } },
      /option pool\.max must be a whole number of at least 1, got -1; pass e\.g\./,
    ],
    [
      "a pool that is not an object",
      { directory: source, pool: 5 },
      /option pool must be an object/,
    ],
    [
      "a pool minimum above its maximum",
      { directory: source, pool: { min: 5, max: 2 } },
      /pool\.min \(5\) is above pool\.max \(2\)/,
    ],
    [
      "a deadline that is not a number",
      { directory: source, writeDeadlineMs: "x" },
      /option writeDeadlineMs must be a whole number of at least 0, got "x"/,
    ],
    [
      "a negative poll interval",
      { directory: source, pollIntervalMs: -1 },
      /option pollIntervalMs/,
    ],
    [
      "an id block of 0",
      { directory: source, idBlockSize: 0 },
      /option idBlockSize must be a whole number of at least 1/,
    ],
    [
      "credentials that are not a function",
      { directory: source, credentials: "secret" },
      /option credentials must be a function/,
    ],
    [
      "a heartbeat id of the wrong type",
      { directory: source, heartbeatId: 42 },
      /option heartbeatId must be a non-empty string or false/,
    ],
  ])("%s", async (_what, options, message) => {
    await refusal(() => createRouter(options as never), "BAD_ARGUMENT", message);
  });

  it("never shows a credential it was given in the message", async () => {
    const error = await createRouter({ directory: source, credentials: "hunter2" } as never).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).not.toContain("hunter2");
  });
});

describe("the router's methods refuse arguments of the wrong shape", () => {
  it.each([
    [
      "read(undefined)",
      () => router.read(undefined),
      "BAD_SHARD_KEY",
      /shard key is undefined; pass/,
    ],
    [
      "read(42, null)",
      () => router.read(42, null as never),
      "BAD_ARGUMENT",
      /^read\(\) options must be an options object/,
    ],
    [
      "read(42, { table: 42 })",
      () => router.read(42, { table: 42 as never }),
      "BAD_ARGUMENT",
      /^option table must be a name such as "users", got 42/,
    ],
    ["locate({})", () => router.locate({}), "BAD_SHARD_KEY", /shard key is an object/],
    ["locate(1.5)", () => router.locate(1.5), "BAD_SHARD_KEY", /not an integer/],
    [
      "readShard(42)",
      () => router.readShard(42 as never),
      "BAD_ARGUMENT",
      /^readShard\(\) shard must be a name such as "s1", got 42/,
    ],
    [
      "insert(42, row)",
      () => router.insert(42 as never, { id: 1 }),
      "BAD_ARGUMENT",
      /^insert\(\)'s table must be a name such as "users", got 42/,
    ],
    [
      "insert(table, row, { deadlineMs: -5 })",
      () => router.insert("users", { id: 1 }, { deadlineMs: -5 }),
      "BAD_ARGUMENT",
      /insert\(\) option deadlineMs must be a whole number/,
    ],
    [
      'readMany(table, "1,2")',
      () => router.readMany("users", "1,2" as never),
      "BAD_ARGUMENT",
      /^readMany\(\)'s keys must be an array such as \[1, 2, 3\], got "1,2"/,
    ],
    [
      "readMany(table, keys, 42)",
      () => router.readMany("users", [1], 42 as never),
      "BAD_ARGUMENT",
      /^readMany\(\)'s third argument must be a function/,
    ],
    [
      "write(key, not a function)",
      () => router.write(1, "insert" as never),
      "BAD_ARGUMENT",
      /^write\(\)'s second argument must be a function \(trx\) =>/,
    ],
    [
      "write([], fn)",
      () => router.write([], () => 1),
      "BAD_ARGUMENT",
      /^write\(\) needs at least one key/,
    ],
    [
      'write(key, fn, { deadlineMs: "x" })',
      () => router.write(1, () => 1, { deadlineMs: "x" as never }),
      "BAD_ARGUMENT",
      /^write\(\) option deadlineMs must be a whole number/,
    ],
    [
      "writeOne(key, not a function)",
      () => router.writeOne(1, 42 as never),
      "BAD_ARGUMENT",
      /^writeOne\(\)'s second argument must be a function \(knex\) => query/,
    ],
    [
      "writeOne(key, fn, 7)",
      () => router.writeOne(1, (k) => k.raw("SELECT 1"), 7 as never),
      "BAD_ARGUMENT",
      /^writeOne\(\) options must be an options object/,
    ],
    [
      "unsafeWriteWithoutFence(key, null)",
      () => router.unsafeWriteWithoutFence(1, null as never),
      "BAD_ARGUMENT",
      /must be a function/,
    ],
    [
      "nextId(null)",
      () => router.nextId(null as never),
      "BAD_ARGUMENT",
      /^nextId\(\) needs a sequence name \(a string such as "orders"\), got null/,
    ],
    ["nextId(42)", () => router.nextId(42 as never), "BAD_ARGUMENT", /got 42$/],
    ['nextId("")', () => router.nextId(""), "BAD_ARGUMENT", /got an empty string/],
  ] as const)("%s", async (_call, work, code, message) => {
    await refusal(work, code, message);
  });

  it("still answers a well-formed call after the refusals", async () => {
    expect(router.locate(42)).toMatchObject({ shard: "s1", columnKey: 42 });
    expect(await router.nextId("orders")).toBe(1);
  });

  it("says ROUTER_CLOSED for every call after close()", async () => {
    const closed = await createRouter({
      directory: memorySource(),
      pollIntervalMs: 0,
      heartbeatId: false,
    });
    await closed.close();
    for (const work of [
      () => closed.read(1),
      () => closed.insert("users", { id: 1 }),
      () => closed.write(1, () => 1),
      () => closed.writeOne(1, (k) => k.raw("SELECT 1")),
      () => closed.readMany("users", [1]),
      () => closed.nextId("orders"),
    ]) {
      await refusal(work, "ROUTER_CLOSED", /^the router is closed; create a new one/);
    }
  });
});
