import { hashKeyFunction, parseMysqlUrl } from "@shardkit/directory";
import { readFence } from "@shardkit/directory/internal";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { abortMove, type MoveOptions, type MoveRequest, startMove } from "@shardkit/migrate";
import { openShardConnection } from "@shardkit/migrate/internal";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SCHEMA } from "./helpers.js";
import { MOVER, type MoveWorld, moveWorld } from "./move-world.js";

let fleet: Fleet;
let noBinlog: Fleet;
const worlds: MoveWorld[] = [];

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
  noBinlog = await startFleet({ servers: 1, serverArgs: ["--skip-log-bin"] });
});
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await fleet?.stop();
  await noBinlog?.stop();
});

const options: MoveOptions = { user: MOVER.user, credentials: () => MOVER.password };

async function world(): Promise<MoveWorld> {
  const w = await moveWorld(fleet);
  worlds.push(w);
  await w.conns
    .get("s1")
    ?.query(
      "INSERT INTO accounts (id, user_id, balance, name) VALUES (1, 1, 1, 'a'), (2, 2, 2, 'b'), (3, 3, 3, 'c')",
    );
  return w;
}

/** Everything a refusal must leave alone: the directory, the fences, the shards' tables and rows. */
async function state(w: MoveWorld): Promise<unknown> {
  const snapshot = await w.admin.snapshot();
  const shards: Record<string, unknown> = {};
  for (const [name, c] of w.conns) {
    shards[name] = {
      fence: (await readFence(c))
        .map((r) => `${r.kind} ${r.range.start}-${r.range.end} ${r.state}`)
        .sort(),
      tables: (
        await c.query<{ t: string }>(
          "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
        )
      ).map((r) => r.t),
      accounts: await c.query("SELECT * FROM accounts ORDER BY id").catch(() => null),
    };
  }
  return {
    version: snapshot.version,
    moves: (await w.admin.listMoves()).map((m) => m.id),
    ranges: snapshot.ranges,
    pins: snapshot.pins,
    shards,
  };
}

async function expectRefused(
  w: MoveWorld,
  request: MoveRequest,
  code: string,
  more: MoveOptions = {},
): Promise<string> {
  const before = await state(w);
  const error = await startMove(w.admin, request, { ...options, ...more }).catch((e: unknown) => e);
  expect(error, JSON.stringify(request)).toMatchObject({ code });
  const message = (error as Error).message;
  expect(message).not.toContain("\n");
  expect(message).not.toContain(MOVER.password);
  expect(await state(w)).toEqual(before);
  return message;
}

describe("a move is refused with one line and nothing changed", () => {
  it("for a range that is not served whole by one shard", async () => {
    const w = await world();
    expect(await expectRefused(w, { range: "40-c0", to: "s3" }, "RANGE_SPANS_SHARDS")).toMatch(
      /spans -80 on s1, 80- on s2\); move each part on its own/,
    );
  });

  it("for an unknown target, and for the shard that already serves the range", async () => {
    const w = await world();
    expect(await expectRefused(w, { range: "-40", to: "s9" }, "UNKNOWN_SHARD")).toContain(
      "registered: s1, s2, s3",
    );
    expect(await expectRefused(w, { range: "-40", to: "s1" }, "BAD_ARGUMENT")).toContain(
      "already on s1",
    );
  });

  it("for a target that already holds rows of the range", async () => {
    const w = await world();
    const s3 = w.conns.get("s3");
    for (const sql of SCHEMA) await s3?.execute(sql);
    const k = [1, 2, 3, 4, 5, 6, 7, 8, 9].find(
      (n) => hashKeyFunction.ksid(n) < 0x4000_0000,
    ) as number;
    await s3?.execute("INSERT INTO orders (user_id, order_id, amount) VALUES (?, 1, 1)", [k]);
    expect(await expectRefused(w, { range: "-40", to: "s3" }, "TARGET_HAS_ROWS")).toContain(
      "in table orders",
    );
  });

  it("for a sharded table without a primary key, or without its key column, on the source", async () => {
    const w = await world();
    await w.conns
      .get("s1")
      ?.execute("CREATE TABLE events (user_id BIGINT NOT NULL, at DATETIME NULL)");
    await w.admin.addTable(
      { name: "events", keyColumn: "user_id", keyFunction: "hash" },
      { check: false },
    );
    expect(await expectRefused(w, { range: "-40", to: "s3" }, "NO_PRIMARY_KEY")).toContain(
      "table events on shard s1 has no primary key",
    );
    await w.admin.removeTable("events");
    await w.admin.addTable(
      { name: "notes", keyColumn: "user_id", keyFunction: "hash" },
      { check: false },
    );
    await w.conns.get("s1")?.execute("CREATE TABLE notes (id INT PRIMARY KEY, owner BIGINT)");
    expect(await expectRefused(w, { range: "-40", to: "s3" }, "TABLE_NOT_ON_SHARD")).toContain(
      "has no shard-key column user_id",
    );
  });

  it("for a table the target defines otherwise (its key column missing there)", async () => {
    const w = await world();
    await w.conns
      .get("s3")
      ?.execute(
        "CREATE TABLE accounts (id BIGINT NOT NULL PRIMARY KEY, balance DECIMAL(12,2) NOT NULL)",
      );
    expect(await expectRefused(w, { range: "-40", to: "s3" }, "SCHEMA_MISMATCH")).toContain(
      "table accounts on target s3 is not defined as on s1",
    );
  });

  it("for a source whose binlog is not in row format with full images", async () => {
    const w = await world();
    const root = w.conns.get("s1");
    try {
      await root?.execute("SET GLOBAL binlog_format = 'STATEMENT'");
      expect(await expectRefused(w, { range: "-40", to: "s3" }, "BINLOG_UNSUITABLE")).toContain(
        "binlog_format = 'ROW'",
      );
      await root?.execute("SET GLOBAL binlog_format = 'ROW'");
      await root?.execute("SET GLOBAL binlog_row_image = 'MINIMAL'");
      expect(await expectRefused(w, { range: "-40", to: "s3" }, "BINLOG_UNSUITABLE")).toContain(
        "binlog_row_image = 'FULL'",
      );
    } finally {
      await root?.execute("SET GLOBAL binlog_format = 'ROW'");
      await root?.execute("SET GLOBAL binlog_row_image = 'FULL'");
    }
  });

  it("for a source without a binary log", async () => {
    const w = await world();
    const server = noBinlog.servers[0];
    if (!server) throw new Error("no server");
    const endpoint = parseMysqlUrl(await server.createDatabase("shard_nolog"));
    const { shard } = await w.admin.addShard({ name: "s4", ...endpoint });
    const c = await openShardConnection(shard, { user: shard.user, password: "" });
    for (const sql of SCHEMA) await c.execute(sql);
    await c.close();
    await w.admin.splitRange({ start: 0x8000_0000, end: 0x1_0000_0000 });
    await w.admin.assignRange({ start: 0xc000_0000, end: 0x1_0000_0000 }, "s2", "s4");
    expect(
      await expectRefused(w, { range: "c0-", to: "s3" }, "BINLOG_UNSUITABLE", {
        user: undefined,
        credentials: () => "",
      }),
    ).toContain("has no binary log");
  });

  it("for a range overlapping a move in progress, and for one holding a key pinned elsewhere", async () => {
    const w = await world();
    const first = await startMove(
      w.admin,
      { range: "-40", to: "s3" },
      { ...options, stopAfter: "copy" },
    );
    const busy = `overlaps move ${first.moveId}: range -40 is moving from s1 to s3 (copied); wait for it to finish or abort it`;
    expect(await expectRefused(w, { range: "-20", to: "s2" }, "RANGE_BUSY")).toContain(busy);
    // A range the moved one was split off from is busy too, not spanning shards.
    expect(await expectRefused(w, { range: "-80", to: "s3" }, "RANGE_BUSY")).toContain(busy);
    await abortMove(w.admin, first.moveId, options);
    const k = Array.from({ length: 100 }, (_, i) => i + 1).find((n) => {
      const ksid = hashKeyFunction.ksid(n);
      return ksid >= 0x4000_0000 && ksid < 0x8000_0000;
    }) as number;
    await w.admin.pinKey(k, "s2");
    expect(await expectRefused(w, { range: "40-80", to: "s3" }, "PINNED_KEY_IN_RANGE")).toContain(
      `holds the key ${k}, pinned to s2`,
    );
  });

  it("for a request naming both a range and a key, or options out of bounds; a dry run checks all and changes nothing", async () => {
    const w = await world();
    await expectRefused(w, { range: "-40", key: 7, to: "s3" }, "BAD_ARGUMENT");
    await expectRefused(w, { range: "-40", to: "s3" }, "BAD_ARGUMENT", { chunkSize: 0 });
    await expectRefused(w, { range: "-40", to: "s3" }, "BAD_ARGUMENT", { verify: "all" as never });
    const before = await state(w);
    const dry = await startMove(w.admin, { range: "-40", to: "s3" }, { ...options, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, moveId: "" });
    expect(await state(w)).toEqual(before);
  });
});
