import { describe, expect, it } from "vitest";
import { canonicalKeyBytes, hashKeyFunction } from "../key-function.js";
import { evenSplit, rangeContains } from "../key-range.js";
import type { DirectorySnapshot } from "../model.js";
import { DirectoryMap } from "./directory-map.js";

function snapshot(n: number, pins: [unknown, string][] = []): DirectorySnapshot {
  const shards = ["a", "b", "c"];
  return {
    version: 7,
    shards: shards.map((name, i) => ({
      name,
      host: "h",
      port: 3306 + i,
      user: "u",
      database: "d",
      state: "serving",
    })),
    tables: [
      { name: "users", keyColumn: "user_id", keyFunction: "hash" },
      { name: "events", keyColumn: "id", keyFunction: "identity" },
    ],
    ranges: evenSplit(n).map((range, i) => ({
      range,
      shard: shards[i % 3] as string,
      state: "serving",
    })),
    pins: pins.map(([key, shard]) => ({
      keyBytes: canonicalKeyBytes(key),
      keyText: String(key),
      ksid: hashKeyFunction.ksid(key),
      shard,
      state: "serving",
    })),
    moves: [],
  };
}

describe("DirectoryMap", () => {
  it.each([1, 2, 3, 7, 64, 1000])("finds the owning range by binary search over %d ranges", (n) => {
    const snap = snapshot(n);
    const map = new DirectoryMap(snap);
    const probes = [
      0,
      1,
      0x7fffffff,
      0x80000000,
      0xffffffff,
      ...snap.ranges.flatMap((r) => [r.range.start, r.range.end - 1]),
    ];
    for (let i = 0; i < 500; i++) probes.push(Math.floor(Math.random() * 2 ** 32));
    for (const ksid of probes) {
      const expected = snap.ranges.find((r) => rangeContains(r.range, ksid));
      expect(map.ownerOf(ksid)).toBe(expected);
    }
  });

  it("answers pinned keys first, for any form of the same key", () => {
    const map = new DirectoryMap(
      snapshot(4, [
        ["whale", "c"],
        [42, "b"],
      ]),
    );
    expect(map.lookup("whale")).toMatchObject({ shard: "c", pinned: true });
    expect(map.lookup(Buffer.from("whale"))).toMatchObject({ shard: "c", pinned: true });
    expect(map.lookup(42n)).toMatchObject({ shard: "b", pinned: true });
    expect(map.lookup("42")).toMatchObject({ shard: "b", pinned: true });
    // Through a table with another key function the pin still wins.
    expect(map.lookup(42, "events")).toMatchObject({ ksid: 42, shard: "b", pinned: true });
    const plain = map.lookup("minnow");
    expect(plain.pinned).toBe(false);
    expect(rangeContains(plain.range, plain.ksid)).toBe(true);
  });

  it("tells whether a range holds a pinned key's keyspace id, at its edges too", () => {
    const keys = ["whale", 42, "user:7", 99_999];
    const map = new DirectoryMap(
      snapshot(
        8,
        keys.map((k) => [k, "a"] as [unknown, string]),
      ),
    );
    const ksids = keys.map((k) => hashKeyFunction.ksid(k));
    const ranges = [
      ...evenSplit(64),
      ...ksids.flatMap((k) => [
        { start: k, end: k + 1 },
        { start: Math.max(0, k - 10), end: k },
        { start: k + 1, end: k + 10 },
      ]),
    ];
    for (const range of ranges) {
      const expected = ksids.some((k) => rangeContains(range, k));
      expect(map.hasPinnedKeysIn(range), JSON.stringify(range)).toBe(expected);
    }
    expect(new DirectoryMap(snapshot(8)).hasPinnedKeysIn({ start: 0, end: 2 ** 32 })).toBe(false);
  });

  it("uses the table's key function", () => {
    const map = new DirectoryMap(snapshot(4));
    expect(map.lookup(0x40000000, "events")).toMatchObject({
      ksid: 0x40000000,
      range: { start: 0x40000000 },
    });
    expect(map.lookup(5, "users").ksid).toBe(hashKeyFunction.ksid(5));
    expect(() => map.lookup(5, "nope")).toThrow(expect.objectContaining({ code: "UNKNOWN_TABLE" }));
    expect(map.table("users")?.keyColumn).toBe("user_id");
    expect(map.shard("b")?.port).toBe(3307);
    expect(map.version).toBe(7);
  });

  it("refuses lookups before a layout exists", () => {
    const map = new DirectoryMap({ ...snapshot(1), ranges: [] });
    expect(() => map.lookup(1)).toThrow(expect.objectContaining({ code: "NO_LAYOUT" }));
  });
});
