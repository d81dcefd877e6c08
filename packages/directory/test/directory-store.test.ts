import {
  type DirectoryError,
  evenSplit,
  expectedFence,
  hashKeyFunction,
  MysqlDirectoryStore,
  parseKeyRange,
} from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fenceOf, shardInput, sql } from "./helpers.js";

let fleet: Fleet;
let store: MysqlDirectoryStore;
const shards: Record<string, string> = {};

async function refused(op: () => Promise<unknown>, code: string): Promise<DirectoryError> {
  const before = await store.version();
  const error = (await op().then(
    () => {
      throw new Error(`expected ${code}, but the operation succeeded`);
    },
    (e: unknown) => e,
  )) as DirectoryError;
  expect(error.code).toBe(code);
  expect(error.message).not.toContain("\n");
  expect(await store.version()).toBe(before);
  return error;
}

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
  const [a, b] = fleet.servers;
  if (!a || !b) throw new Error("fleet started too few servers");
  store = new MysqlDirectoryStore({ directory: await a.createDatabase("dir") });
  shards.a = await a.createDatabase("shard_a");
  shards.b = await b.createDatabase("shard_b");
  shards.c = await b.createDatabase("shard_c");
});

afterAll(async () => {
  await store?.close();
  await fleet?.stop();
});

describe("MysqlDirectoryStore", () => {
  it("refuses to work before init, then inits idempotently", async () => {
    await expect(store.version()).rejects.toMatchObject({ code: "NOT_INITIALIZED" });
    const first = await store.init();
    expect(first.schemaVersion).toBeGreaterThanOrEqual(1);
    const second = await store.init();
    expect(second).toEqual({ schemaVersion: first.schemaVersion, created: false });
    expect(await store.version()).toBe(1);
  });

  it("creates the directory database when it is missing", async () => {
    const [a] = fleet.servers;
    const url = `${a?.adminUrl}/sk_created_${Date.now()}`;
    const other = new MysqlDirectoryStore({ directory: url });
    try {
      expect((await other.init()).created).toBe(true);
      expect((await other.snapshot()).shards).toEqual([]);
    } finally {
      await other.close();
      await sql(a?.url ?? "", `DROP DATABASE ${new URL(url).pathname.slice(1)}`);
    }
  });

  it("adds shards, bumping the version and creating their ownership tables", async () => {
    const v0 = await store.version();
    const r = await store.addShard(shardInput("a", shards.a ?? ""));
    expect(r.version).toBe(v0 + 1);
    await store.addShard(shardInput("b", shards.b ?? ""));
    await store.addShard(shardInput("c", shards.c ?? ""));
    const s = await store.snapshot();
    expect(s.shards.map((x) => x.name)).toEqual(["a", "b", "c"]);
    expect(s.version).toBe(v0 + 3);
    expect(await fenceOf(shards.a ?? "")).toEqual([]);
  });

  it("refuses bad shards and changes nothing", async () => {
    await refused(() => store.addShard(shardInput("a", shards.b ?? "")), "SHARD_EXISTS");
    await refused(() => store.addShard(shardInput("b2", shards.b ?? "")), "SHARD_EXISTS");
    await refused(() => store.addShard(shardInput("9bad", shards.b ?? "")), "BAD_NAME");
    await refused(
      () => store.addShard({ ...shardInput("dead", shards.b ?? ""), port: 1, database: "x" }),
      "SHARD_UNAVAILABLE",
    );
    await refused(() => store.removeShard("nope"), "UNKNOWN_SHARD");
    expect((await store.snapshot()).shards).toHaveLength(3);
  });

  it("declares sharded tables once", async () => {
    const declared = { check: false };
    await store.addTable({ name: "users", keyColumn: "user_id", keyFunction: "hash" }, declared);
    await store.addTable({ name: "events", keyColumn: "id", keyFunction: "identity" }, declared);
    await refused(
      () => store.addTable({ name: "users", keyColumn: "x", keyFunction: "hash" }),
      "TABLE_EXISTS",
    );
    await refused(
      () => store.addTable({ name: "bad-name", keyColumn: "x", keyFunction: "hash" }),
      "BAD_NAME",
    );
    await refused(
      () => store.addTable({ name: "t", keyColumn: "x", keyFunction: "modulo" as never }),
      "BAD_KEY_FUNCTION",
    );
    expect((await store.snapshot()).tables.map((t) => t.name)).toEqual(["events", "users"]);
  });

  it("refuses split and merge before a layout exists", async () => {
    await refused(() => store.splitRange(parseKeyRange("-")), "NO_LAYOUT");
  });

  it("lays out ranges round-robin once, writing each shard's fence", async () => {
    await refused(() => store.layoutEven(4, ["a", "zz"]), "UNKNOWN_SHARD");
    await store.layoutEven(4, ["a", "b"]);
    const s = await store.snapshot();
    expect(s.ranges.map((r) => [r.range, r.shard])).toEqual(
      evenSplit(4).map((r, i) => [r, i % 2 === 0 ? "a" : "b"]),
    );
    expect(await fenceOf(shards.a ?? "")).toEqual([
      "range 0-40000000 serving",
      "range 80000000-c0000000 serving",
    ]);
    expect(await fenceOf(shards.b ?? "")).toEqual([
      "range 40000000-80000000 serving",
      "range c0000000-100000000 serving",
    ]);
    expect(await fenceOf(shards.c ?? "")).toEqual([]);
    await refused(() => store.layoutEven(2), "LAYOUT_EXISTS");
  });

  it("splits a range on its shard and merges it back", async () => {
    const r = await store.splitRange(parseKeyRange("-40"), 0x20000000);
    expect(r.ranges).toEqual([parseKeyRange("-20"), parseKeyRange("20-40")]);
    expect(await fenceOf(shards.a ?? "")).toEqual([
      "range 0-20000000 serving",
      "range 20000000-40000000 serving",
      "range 80000000-c0000000 serving",
    ]);
    await refused(() => store.splitRange(parseKeyRange("-40")), "UNKNOWN_RANGE");
    await refused(() => store.splitRange(parseKeyRange("-20"), 0x30000000), "BAD_KEY_RANGE");
    await refused(
      () => store.mergeRanges(parseKeyRange("-20"), parseKeyRange("80-c0")),
      "NOT_ADJACENT",
    );
    await refused(
      () => store.mergeRanges(parseKeyRange("20-40"), parseKeyRange("40-80")),
      "DIFFERENT_SHARDS",
    );
    const m = await store.mergeRanges(parseKeyRange("20-40"), parseKeyRange("-20"));
    expect(m.range).toEqual(parseKeyRange("-40"));
    expect(await fenceOf(shards.a ?? "")).toEqual([
      "range 0-40000000 serving",
      "range 80000000-c0000000 serving",
    ]);
  });

  it("pins and unpins a key, fencing it on every shard", async () => {
    await store.pinKey("whale", "c");
    const s = await store.snapshot();
    expect(s.pins.map((p) => [p.keyText, p.shard])).toEqual([["whale", "c"]]);
    expect((await fenceOf(shards.c ?? "")).filter((r) => r.startsWith("pin"))).toEqual([
      expect.stringMatching(/^pin \w+-\w+ whale serving$/),
    ]);
    expect((await fenceOf(shards.a ?? "")).filter((r) => r.startsWith("pin"))).toEqual([
      expect.stringMatching(/^pin_away \w+-\w+ whale serving$/),
    ]);
    // Every shard's range rows count the pinned keys whose keyspace id they hold: the one
    // holding whale's says 1, so a write there takes the full check.
    const whale = hashKeyFunction.ksid("whale");
    for (const url of [shards.a, shards.b]) {
      const rows = (
        await sql(
          url ?? "",
          "SELECT range_start, range_end, pinned_keys FROM shardkit_ownership WHERE kind = 'range'",
        )
      )[0] as { range_start: number; range_end: number; pinned_keys: number }[];
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        const holds = Number(r.range_start) <= whale && whale < Number(r.range_end);
        expect(Number(r.pinned_keys), `${r.range_start}-${r.range_end}`).toBe(holds ? 1 : 0);
      }
    }
    await refused(() => store.pinKey("whale", "a"), "ALREADY_PINNED");
    await refused(() => store.pinKey("other", "zz"), "UNKNOWN_SHARD");
    await refused(() => store.unpinKey("nobody"), "NOT_PINNED");
    await refused(() => store.removeShard("c"), "SHARD_OWNS_RANGES");
    await store.unpinKey("whale");
    expect(await fenceOf(shards.c ?? "")).toEqual([]);
    expect((await fenceOf(shards.a ?? "")).some((r) => r.startsWith("pin"))).toBe(false);
  });

  it("refuses to remove a shard that owns ranges and removes an empty one", async () => {
    await refused(() => store.removeShard("a"), "SHARD_OWNS_RANGES");
    await store.removeShard("c");
    expect((await store.snapshot()).shards.map((x) => x.name)).toEqual(["a", "b"]);
  });

  it("rolls back the directory and the fences when a shard cannot be written", async () => {
    const [, b] = fleet.servers;
    const doomed = await b?.createDatabase("doomed");
    await store.addShard(shardInput("d", doomed ?? ""));
    const before = await store.snapshot();
    const fenceA = await fenceOf(shards.a ?? "");
    await sql(shards.b ?? "", `DROP DATABASE ${new URL(doomed ?? "").pathname.slice(1)}`);
    // Pinning writes pin_away to every shard; d is gone, so the change must not happen at all.
    await refused(() => store.pinKey("k1", "a"), "SHARD_UNAVAILABLE");
    expect((await store.snapshot()).pins).toEqual(before.pins);
    expect(await fenceOf(shards.a ?? "")).toEqual(fenceA);
    await store.removeShard("d");
  });

  it("doctor finds and repairs a fence that differs from the directory", async () => {
    expect((await store.doctor()).differences).toEqual([]);
    // What a crash between a fence write and the directory commit leaves behind.
    await sql(
      shards.b ?? "",
      "DELETE FROM shardkit_ownership WHERE range_start = 1073741824",
      "INSERT INTO shardkit_ownership (kind, range_start, range_end, key_bytes, state, directory_version) VALUES ('range', 0, 1073741824, '', 'serving', 99)",
    );
    const dry = await store.doctor({ dryRun: true });
    expect(dry.differences.map((d) => [d.shard, d.kind, d.what]).sort()).toEqual([
      ["b", "extra", "range -40"],
      ["b", "missing", "range 40-80"],
    ]);
    expect(dry.repairedShards).toEqual([]);
    const fixed = await store.doctor();
    expect(fixed.repairedShards).toEqual(["b"]);
    const s = await store.snapshot();
    const want = expectedFence(s, "b").map(
      (r) => `range ${r.range.start.toString(16)}-${r.range.end.toString(16)} serving`,
    );
    expect(await fenceOf(shards.b ?? "")).toEqual(want.sort());
    expect((await store.doctor()).differences).toEqual([]);
  });

  it("doctor upgrades an ownership table without pinned-key counts and fills them in", async () => {
    const ranges = (await store.snapshot()).ranges;
    const ownerOf = (key: number) =>
      ranges.find(
        (r) =>
          r.range.start <= hashKeyFunction.ksid(key) && hashKeyFunction.ksid(key) < r.range.end,
      );
    // One pinned key in a range of b, one in a range of a.
    const inB = [...Array(1000).keys()].find((k) => ownerOf(k)?.shard === "b") as number;
    const inA = [...Array(1000).keys()].find((k) => ownerOf(k)?.shard === "a") as number;
    await store.pinKey(inB, "a");
    await store.pinKey(inA, "b");
    const counted = new Set([ownerOf(inB)?.range.start, ownerOf(inA)?.range.start]);
    const countsOn = async (shard: string) =>
      (
        (
          await sql(
            shards[shard] ?? "",
            "SELECT range_start, pinned_keys FROM shardkit_ownership WHERE kind = 'range'",
          )
        )[0] as { range_start: number; pinned_keys: number }[]
      ).map((r) => [Number(r.range_start), Number(r.pinned_keys)]);
    const expected = (shard: string) =>
      ranges
        .filter((r) => r.shard === shard)
        .map((r) => [r.range.start, counted.has(r.range.start) ? 1 : 0]);

    // The table as an older release left it: no count column.
    await sql(shards.b ?? "", "ALTER TABLE shardkit_ownership DROP COLUMN pinned_keys");
    expect((await store.doctor()).repairedShards).toEqual(["b"]);
    expect(await countsOn("b")).toEqual(expected("b"));
    // A wrong count is a difference doctor names and repairs.
    await sql(shards.a ?? "", "UPDATE shardkit_ownership SET pinned_keys = 0");
    const dry = await store.doctor({ dryRun: true });
    expect(dry.differences).toEqual([
      expect.objectContaining({
        shard: "a",
        kind: "state",
        expected: expect.stringContaining("serving, 1 pinned key(s)"),
        actual: expect.stringContaining("serving, 0 pinned key(s)"),
      }),
    ]);
    expect((await store.doctor()).repairedShards).toEqual(["a"]);
    expect(await countsOn("a")).toEqual(expected("a"));
    expect((await store.doctor()).differences).toEqual([]);
    await store.unpinKey(inB);
    await store.unpinKey(inA);
  });

  it("doctor refuses and explains when a shard is unreachable", async () => {
    const [a] = fleet.servers;
    const gone = await a?.createDatabase("gone");
    await store.addShard(shardInput("e", gone ?? ""));
    await sql(shards.a ?? "", `DROP DATABASE ${new URL(gone ?? "").pathname.slice(1)}`);
    const report = await store.doctor();
    expect(report.refusals).toEqual([expect.stringContaining("shard e is unreachable")]);
    await store.removeShard("e");
  });

  it("records and lists router heartbeats", async () => {
    await store.recordHeartbeat({ id: "r1", host: "h", pid: 1, version: 3 });
    await store.recordHeartbeat({ id: "r1", host: "h", pid: 1, version: 4 });
    const hbs = await store.listHeartbeats();
    expect(hbs.map((h) => [h.id, h.version])).toEqual([["r1", 4]]);
    expect(hbs[0]?.lastSeen).toBeInstanceOf(Date);
  });
});
