import { evenSplit, parseKeyRange } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { directories, fenceOf, refused } from "./helpers.js";

let fleet: Fleet;
const dirs = directories(() => fleet);

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
});
afterEach(() => dirs.closeAll());
afterAll(async () => {
  await fleet?.stop();
});

describe("layout", () => {
  it("lays out ranges round-robin once, writing each shard's fence", async () => {
    const { store, shards } = await dirs.create({ shards: ["a", "b", "c"] });
    await refused(store, () => store.layoutEven(4, ["a", "zz"]), "UNKNOWN_SHARD");
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
    await refused(store, () => store.layoutEven(2), "LAYOUT_EXISTS");
  });

  it("refuses an empty list of shards and a shard named twice", async () => {
    const { store } = await dirs.create({ shards: ["a", "b"] });
    const empty = await refused(store, () => store.layoutEven(4, []), "BAD_ARGUMENT");
    expect(empty.message).toBe(
      "the list of shards is empty; name at least one or leave --shards out",
    );
    const twice = await refused(store, () => store.layoutEven(4, ["a", "b", "a"]), "BAD_ARGUMENT");
    expect(twice.message).toContain("shard a is named more than once");
    await refused(store, () => store.layoutEven(0), "BAD_ARGUMENT");
    expect((await store.snapshot()).ranges).toEqual([]);
  });

  it("refuses a layout with no shards registered", async () => {
    const { store } = await dirs.create();
    await refused(store, () => store.layoutEven(2), "NO_SHARDS");
  });
});

describe("split, merge and assign", () => {
  it("refuses split and merge before a layout exists", async () => {
    const { store } = await dirs.create({ shards: ["a"] });
    await refused(store, () => store.splitRange(parseKeyRange("-")), "NO_LAYOUT");
    await refused(
      store,
      () => store.mergeRanges(parseKeyRange("-80"), parseKeyRange("80-")),
      "NO_LAYOUT",
    );
  });

  it("splits a range on its shard and merges it back", async () => {
    const { store, shards } = await dirs.create({ shards: ["a", "b"], layout: 4 });
    const r = await store.splitRange(parseKeyRange("-40"), 0x20000000);
    expect(r.ranges).toEqual([parseKeyRange("-20"), parseKeyRange("20-40")]);
    expect(await fenceOf(shards.a ?? "")).toEqual([
      "range 0-20000000 serving",
      "range 20000000-40000000 serving",
      "range 80000000-c0000000 serving",
    ]);
    await refused(store, () => store.splitRange(parseKeyRange("-40")), "UNKNOWN_RANGE");
    await refused(store, () => store.splitRange(parseKeyRange("-20"), 0x30000000), "BAD_KEY_RANGE");
    await refused(
      store,
      () => store.mergeRanges(parseKeyRange("-20"), parseKeyRange("80-c0")),
      "NOT_ADJACENT",
    );
    await refused(
      store,
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

  it("assigns a range to another shard, revoking it on the old owner", async () => {
    const { store, shards } = await dirs.create({ shards: ["a", "b"], layout: 2 });
    await refused(store, () => store.assignRange(parseKeyRange("-80"), "b", "a"), "RANGE_BUSY");
    await refused(store, () => store.assignRange(parseKeyRange("-80"), "a", "zz"), "UNKNOWN_SHARD");
    await store.assignRange(parseKeyRange("-80"), "a", "b");
    expect((await store.snapshot()).ranges.map((r) => r.shard)).toEqual(["b", "b"]);
    expect(await fenceOf(shards.a ?? "")).toEqual([]);
    expect(await fenceOf(shards.b ?? "")).toEqual([
      "range 0-80000000 serving",
      "range 80000000-100000000 serving",
    ]);
  });
});
