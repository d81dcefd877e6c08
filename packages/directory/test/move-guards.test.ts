import { parseKeyRange } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { directories, fenceOf, refused, shardInput, sql } from "./helpers.js";
import { keysIn, OWNER, startRangeMove } from "./move-helpers.js";

let fleet: Fleet;
const dirs = directories(() => fleet);

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
});
afterEach(() => dirs.closeAll());
afterAll(async () => {
  await fleet?.stop();
});

const r = parseKeyRange;

describe("changes that touch a range being moved", () => {
  it("are refused while the move runs, naming it; changes elsewhere go on", async () => {
    const { store } = await dirs.create({
      shards: ["a", "b", "c"],
      layout: 4,
      tables: [{ name: "users", keyColumn: "user_id", keyFunction: "hash" }],
    });
    // Round-robin: a owns -40 and c0-. Move the first half of c0-.
    const owner = (await store.snapshot()).ranges.find((x) => x.range.start === r("c0-").start);
    expect(owner?.shard).toBe("a");
    await store.splitRange(r("c0-"));
    const [pinned = 0] = keysIn("c0-e0");
    await store.pinKey(pinned, "c");
    await startRangeMove(store, "m-1", "c0-e0", "a", "b");

    const split = await refused(store, () => store.splitRange(r("c0-e0")), "RANGE_BUSY");
    expect(split.message).toBe(
      "cannot split range c0-e0 while move m-1 (range c0-e0, a to b) is created; wait for it to finish or abort it (shardkit move abort m-1)",
    );
    expect(split.details).toMatchObject({ move: "m-1" });
    await refused(store, () => store.mergeRanges(r("c0-e0"), r("e0-")), "RANGE_BUSY");
    await refused(store, () => store.assignRange(r("c0-e0"), "a", "c"), "RANGE_BUSY");
    await refused(store, () => store.pinKey(keysIn("c0-e0", 1, pinned + 1)[0], "c"), "RANGE_BUSY");
    await refused(store, () => store.unpinKey(pinned), "RANGE_BUSY");
    await refused(
      store,
      () => store.addTable({ name: "orders", keyColumn: "user_id", keyFunction: "hash" }),
      "RANGE_BUSY",
    );
    await refused(store, () => store.removeTable("users"), "RANGE_BUSY");
    const source = await refused(store, () => store.removeShard("a"), "SHARD_BUSY");
    expect(source.message).toBe(
      "shard a is the source of move m-1 (created); wait for it to finish or abort it (shardkit move abort m-1), then remove the shard",
    );
    await refused(store, () => store.removeShard("b"), "SHARD_BUSY");

    // What the move does not touch goes on.
    await store.splitRange(r("-40"));
    await store.mergeRanges(r("-20"), r("20-40"));
    await store.pinKey(keysIn("-20")[0], "c");
    await store.addShard(
      shardInput("d", (await fleet.servers[1]?.createDatabase("shard_d")) ?? ""),
    );
    await store.removeShard("d");

    await store.updateMove("m-1", OWNER, { state: "aborting" });
    await store.updateMove("m-1", OWNER, { state: "aborted" });
    await store.splitRange(r("c0-e0"));
    await store.removeTable("users");
  });
});

describe("doctor during a move", () => {
  it("repairs a shard's other rows and leaves the rows a move governs alone, saying which move", async () => {
    const { store, shards } = await dirs.create({ shards: ["a", "b"], layout: 4 });
    const [a, b] = [shards.a ?? "", shards.b ?? ""];
    await startRangeMove(store, "m-1", "80-c0", "a", "b");
    await store.updateMove("m-1", OWNER, { state: "copying" });
    await store.updateMove("m-1", OWNER, { state: "copied" });
    await store.freezeRange("m-1", OWNER);
    // A switch cut short: the source lost the moved row, the target holds it already; and an
    // unrelated row of the source was damaged by hand.
    await sql(
      a,
      "DELETE FROM shardkit_ownership WHERE range_start = 2147483648",
      "UPDATE shardkit_ownership SET state = 'frozen' WHERE range_start = 0",
    );
    await sql(
      b,
      "INSERT INTO shardkit_ownership (kind, range_start, range_end, key_bytes, state, directory_version, pinned_keys) VALUES ('range', 2147483648, 3221225472, '', 'serving', 9, 0)",
    );
    const dry = await store.doctor({ dryRun: true });
    expect(dry.differences.map((d) => [d.shard, d.kind, d.what]).sort()).toEqual([
      ["a", "missing", "range 80-c0"],
      ["a", "state", "range -40"],
      ["b", "extra", "range 80-c0"],
    ]);
    expect(dry.repairedShards).toEqual([]);
    const report = await store.doctor();
    expect(report.repairedShards).toEqual(["a"]);
    expect(report.refusals).toEqual([
      "shard a differs from the directory on range 80-c0, which move m-1 (cutting_over) governs; doctor left it alone: finish or abort that move first",
      "shard b differs from the directory on range 80-c0, which move m-1 (cutting_over) governs; doctor left it alone: finish or abort that move first",
    ]);
    expect(await fenceOf(a)).toEqual(["range 0-40000000 serving"]);
    expect(await fenceOf(b)).toContain("range 80000000-c0000000 serving");
    // The move finishes what it started; then nothing differs.
    await store.switchRange("m-1", OWNER);
    expect((await store.doctor()).differences).toEqual([]);
  });
});
