import { hashKeyFunction } from "@shardkit/directory";
import { expectedFence } from "@shardkit/directory/internal";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { databaseOf, directories, fenceOf, shardInput, sql } from "./helpers.js";

let fleet: Fleet;
const dirs = directories(() => fleet);

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
});
afterEach(() => dirs.closeAll());
afterAll(async () => {
  await fleet?.stop();
});

describe("doctor", () => {
  it("finds and repairs a fence that differs from the directory", async () => {
    const { store, shards } = await dirs.create({ shards: ["a", "b"], layout: 4 });
    expect((await store.doctor()).differences).toEqual([]);
    // What a crash between a fence write and the directory commit leaves behind.
    await sql(
      shards.b ?? "",
      "DELETE FROM shardkit_ownership WHERE range_start = 1073741824",
      "INSERT INTO shardkit_ownership (kind, range_start, range_end, key_bytes, state, directory_version) VALUES ('range', 0, 1073741824, '', 'serving', 99)",
    );
    const v = await store.version();
    const dry = await store.doctor({ dryRun: true });
    expect(dry.differences.map((d) => [d.shard, d.kind, d.what]).sort()).toEqual([
      ["b", "extra", "range -40"],
      ["b", "missing", "range 40-80"],
    ]);
    expect(dry.repairedShards).toEqual([]);
    const fixed = await store.doctor();
    expect(fixed.repairedShards).toEqual(["b"]);
    const want = expectedFence(await store.snapshot(), "b").map(
      (r) => `range ${r.range.start.toString(16)}-${r.range.end.toString(16)} serving`,
    );
    expect(await fenceOf(shards.b ?? "")).toEqual(want.sort());
    expect((await store.doctor()).differences).toEqual([]);
    expect(await store.version()).toBe(v);
  });

  it("upgrades an ownership table without pinned-key counts and fills them in", async () => {
    const { store, shards } = await dirs.create({ shards: ["a", "b"], layout: 4 });
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
  });

  it("refuses and explains when a shard is unreachable, and checks the others", async () => {
    const { store } = await dirs.create({ shards: ["a"], layout: 2 });
    const gone = await fleet.servers[1]?.createDatabase("gone");
    await store.addShard(shardInput("e", gone ?? ""));
    await sql(gone ?? "", `DROP DATABASE ${databaseOf(gone ?? "")}`);
    const report = await store.doctor();
    expect(report.refusals).toEqual([expect.stringContaining("shard e is unreachable")]);
    expect(report.checkedShards).toEqual(["a", "e"]);
    expect(report.unreachableShards).toEqual(["e"]);
  });
});
