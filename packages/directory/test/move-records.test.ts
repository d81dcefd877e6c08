import {
  canonicalKeyBytes,
  DIRECTORY_SCHEMA_VERSION,
  formatKeyRange,
  hashKeyFunction,
  parseKeyRange,
} from "@shardkit/directory";
import { DIRECTORY_MIGRATIONS, SCHEMA_VERSION_TABLE } from "@shardkit/directory/internal";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { directories, fenceOf, refused, sql } from "./helpers.js";
import { OWNER, startRangeMove, TTL_MS } from "./move-helpers.js";

let fleet: Fleet;
const dirs = directories(() => fleet);

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
});
afterEach(() => dirs.closeAll());
afterAll(async () => {
  await fleet?.stop();
});

/** Two shards, four ranges: a owns -40 and 80-c0, b owns 40-80 and c0-. */
const twoShards = () => dirs.create({ shards: ["a", "b"], layout: 4 });

describe("schema", () => {
  it("upgrades a version-2 directory, keeping its pins, and an interrupted upgrade runs again", async () => {
    const { store, url } = await dirs.create({ bare: true });
    const v2 = DIRECTORY_MIGRATIONS.slice(0, 2).flat();
    await sql(
      url,
      SCHEMA_VERSION_TABLE,
      ...v2,
      "INSERT INTO shardkit_schema_version (version) VALUES (1), (2)",
      "INSERT INTO shardkit_shards (name, host, port, user, database_name) VALUES ('a', '127.0.0.1', 1, 'u', 'd')",
      `INSERT INTO shardkit_pins (key_bytes, key_text, ksid, shard) VALUES ('whale', 'whale', ${hashKeyFunction.ksid("whale")}, 'a')`,
    );
    await refused(store, () => store.snapshot(), "NOT_INITIALIZED");
    expect(DIRECTORY_SCHEMA_VERSION).toBeGreaterThanOrEqual(3);
    expect((await store.init()).schemaVersion).toBe(DIRECTORY_SCHEMA_VERSION);
    const s = await store.snapshot();
    expect(s.pins.map((p) => [p.keyText, p.shard, p.state])).toEqual([["whale", "a", "serving"]]);
    expect(s.moves).toEqual([]);
    // As if init died after version 3's DDL, before recording it: it runs the migrations again.
    await sql(url, "DELETE FROM shardkit_schema_version WHERE version >= 3");
    expect((await store.init()).schemaVersion).toBe(DIRECTORY_SCHEMA_VERSION);
    expect(await store.listMoves()).toEqual([]);
  });
});

describe("creating a move", () => {
  it("records the move, marks its range moving and shows it to routers at a new version", async () => {
    const { store, shards } = await twoShards();
    const v = await store.version();
    const { version, move } = await startRangeMove(store, "m-1", "80-c0", "a", "b");
    expect(version).toBe(v + 1);
    expect(move).toMatchObject({
      id: "m-1",
      kind: "range",
      range: parseKeyRange("80-c0"),
      keyBytes: null,
      source: "a",
      target: "b",
      state: "created",
      failedIn: null,
      options: { chunkSize: 100 },
      progress: {},
      error: null,
      switchedVersion: null,
    });
    expect(move.createdAt).toBeInstanceOf(Date);
    const s = await store.snapshot();
    expect(s.version).toBe(v + 1);
    expect(s.moves).toEqual([
      {
        id: "m-1",
        kind: "range",
        range: parseKeyRange("80-c0"),
        keyBytes: null,
        source: "a",
        target: "b",
        state: "created",
      },
    ]);
    expect(s.ranges.find((r) => formatKeyRange(r.range) === "80-c0")?.state).toBe("moving");
    // Moving still serves: the fence is unchanged.
    expect(await fenceOf(shards.a ?? "")).toContain("range 80000000-c0000000 serving");
    expect((await store.listMoveEvents("m-1")).map((e) => [e.seq, e.state, e.message])).toEqual([
      [1, "created", "recorded: move range 80-c0 from a to b"],
    ]);
    expect((await store.getMove("m-1")).leaseOwner).toBe(OWNER);
  });

  it("splits a part of a range off first, fencing the pieces on the source", async () => {
    const { store, shards } = await twoShards();
    await startRangeMove(store, "m-part", "90-a0", "a", "b");
    const s = await store.snapshot();
    expect(
      s.ranges.filter((r) => r.shard === "a").map((r) => [formatKeyRange(r.range), r.state]),
    ).toEqual([
      ["-40", "serving"],
      ["80-90", "serving"],
      ["90-a0", "moving"],
      ["a0-c0", "serving"],
    ]);
    expect(await fenceOf(shards.a ?? "")).toEqual([
      "range 0-40000000 serving",
      "range 80000000-90000000 serving",
      "range 90000000-a0000000 serving",
      "range a0000000-c0000000 serving",
    ]);
  });

  it("refuses overlapping moves, unknown shards, a shard to itself, a used id and ranges it cannot take, changing nothing", async () => {
    const { store } = await twoShards();
    await startRangeMove(store, "m-1", "80-c0", "a", "b");
    const range = (text: string) => parseKeyRange(text);
    const input = { id: "m-2", kind: "range" as const, source: "a", target: "b" };
    const busy = await refused(
      store,
      () => store.createMove({ ...input, range: range("a0-b0") }),
      "RANGE_BUSY",
    );
    expect(busy.message).toMatch(/move m-1 .* is created; wait for it to finish or abort it/);
    await refused(
      store,
      () => store.createMove({ ...input, range: range("-40"), target: "zz" }),
      "UNKNOWN_SHARD",
    );
    const self = await refused(
      store,
      () => store.createMove({ ...input, range: range("-40"), target: "a" }),
      "BAD_ARGUMENT",
    );
    expect(self.message).toContain("name another shard as the target");
    await refused(
      store,
      () => store.createMove({ ...input, id: "m-1", range: range("-40") }),
      "MOVE_EXISTS",
    );
    const notOwned = await refused(
      store,
      () => store.createMove({ ...input, range: range("40-80") }),
      "RANGE_BUSY",
    );
    expect(notOwned.message).toBe("range 40-80 is served by b, not a; move it from b");
    await refused(
      store,
      () => store.createMove({ ...input, range: range("30-50") }),
      "UNKNOWN_RANGE",
    );
    await refused(
      store,
      () => store.createMove({ ...input, id: "not an id!", range: range("-40") }),
      "BAD_ARGUMENT",
    );
    await refused(
      store,
      () => store.createMove({ ...input, kind: "key", range: { start: 5, end: 6 } }),
      "BAD_ARGUMENT",
    );
    const notPinned = await refused(
      store,
      () =>
        store.createMove({
          ...input,
          kind: "key",
          keyBytes: canonicalKeyBytes("whale"),
          range: { start: 5, end: 6 },
        }),
      "NOT_PINNED",
    );
    expect(notPinned.message).toContain("pin it to a first");
    expect((await store.listMoves()).map((m) => m.id)).toEqual(["m-1"]);
    expect((await store.snapshot()).ranges.filter((r) => r.state !== "serving")).toHaveLength(1);
  });

  it("lists moves newest first and refuses an unknown move", async () => {
    const { store } = await twoShards();
    await startRangeMove(store, "m-1", "-40", "a", "b");
    await startRangeMove(store, "m-2", "40-80", "b", "a");
    expect((await store.listMoves()).map((m) => m.id)).toEqual(["m-2", "m-1"]);
    const unknown = await refused(store, () => store.getMove("nope"), "UNKNOWN_MOVE");
    expect(unknown.message).toBe(
      'no move "nope" in the directory; see shardkit moves for the moves it knows',
    );
    await refused(store, () => store.listMoveEvents("nope"), "UNKNOWN_MOVE");
  });
});

describe("leases", () => {
  it("gives a move to one mover at a time until its lease lapses", async () => {
    const { store } = await twoShards();
    await startRangeMove(store, "m-1", "-40", "a", "b");
    // The holder may take it again (a resume in the same process).
    await store.acquireMoveLease("m-1", OWNER, TTL_MS);
    const taken = await refused(
      store,
      () => store.acquireMoveLease("m-1", "mover-2", TTL_MS),
      "MOVE_LEASED",
    );
    expect(taken.message).toMatch(
      /^move m-1 is being run by mover-1 \(lease until \d{4}-.*\); wait for that mover/,
    );
    expect(taken.details).toMatchObject({ owner: OWNER });
    // Renewing pushes the lapse out; the holder's renewals keep the second mover out.
    const renewed = await store.renewMoveLease("m-1", OWNER, 300);
    expect(renewed.owner).toBe(OWNER);
    await refused(store, () => store.renewMoveLease("m-1", "mover-2", TTL_MS), "MOVE_LEASED");
    await new Promise((r) => setTimeout(r, 400));
    // Lapsed: the second mover takes it, and the first has lost it.
    expect((await store.acquireMoveLease("m-1", "mover-2", TTL_MS)).leaseOwner).toBe("mover-2");
    await refused(store, () => store.renewMoveLease("m-1", OWNER, TTL_MS), "MOVE_LEASED");
    await refused(store, () => store.updateMove("m-1", OWNER, { state: "copying" }), "MOVE_LEASED");
    // Releasing by a mover that does not hold it does nothing; by the holder frees it.
    await store.releaseMoveLease("m-1", OWNER);
    expect((await store.getMove("m-1")).leaseOwner).toBe("mover-2");
    await store.releaseMoveLease("m-1", "mover-2");
    expect((await store.getMove("m-1")).leaseOwner).toBeNull();
    await refused(store, () => store.acquireMoveLease("m-1", OWNER, 0), "BAD_ARGUMENT");
    await refused(store, () => store.acquireMoveLease("m-1", "", TTL_MS), "BAD_ARGUMENT");
    await refused(store, () => store.acquireMoveLease("nope", OWNER, TTL_MS), "UNKNOWN_MOVE");
  });
});

describe("updating a move", () => {
  it("follows the state machine, records events, and bumps no version until the move ends", async () => {
    const { store } = await twoShards();
    const { version } = await startRangeMove(store, "m-1", "-40", "a", "b");
    const step = await store.updateMove(
      "m-1",
      OWNER,
      { state: "copying", progress: { rowsCopied: 0 } },
      { message: "copy started", details: { tables: 2 } },
    );
    expect(step.version).toBe(version);
    expect(step.move).toMatchObject({ state: "copying", progress: { rowsCopied: 0 } });
    expect(await store.version()).toBe(version);
    // Progress alone: no event, no state change.
    await store.updateMove("m-1", OWNER, { progress: { rowsCopied: 500 } });
    const skip = await refused(
      store,
      () => store.updateMove("m-1", OWNER, { state: "cutting_over" }),
      "MOVE_STATE",
    );
    expect(skip.message).toBe(
      "move m-1 cannot go from copying to cutting_over; see shardkit move status m-1",
    );
    await refused(store, () => store.updateMove("m-1", OWNER, { state: "switched" }), "MOVE_STATE");
    await refused(
      store,
      () => store.updateMove("m-1", OWNER, { state: "copied", failedIn: "copying" }),
      "BAD_ARGUMENT",
    );
    expect((await store.getMove("m-1")).progress).toEqual({ rowsCopied: 500 });

    const failed = await store.updateMove("m-1", OWNER, { state: "failed", error: "lost b" });
    expect(failed.move).toMatchObject({ state: "failed", failedIn: "copying", error: "lost b" });
    await refused(
      store,
      () => store.updateMove("m-1", OWNER, { state: "verifying" }),
      "MOVE_STATE",
    );
    // Resume continues where it failed; the error goes with the failure.
    const resumed = await store.updateMove("m-1", OWNER, { state: "copying" });
    expect(resumed.move).toMatchObject({ state: "copying", failedIn: null, error: null });

    await store.updateMove("m-1", OWNER, { state: "aborting" });
    const aborted = await store.updateMove("m-1", OWNER, { state: "aborted" });
    expect(aborted.version).toBe(version + 1);
    const s = await store.snapshot();
    expect(s.moves).toEqual([]);
    expect(s.ranges.every((r) => r.state === "serving")).toBe(true);
    expect((await store.listMoveEvents("m-1")).map((e) => [e.state, e.message])).toEqual([
      ["created", "recorded: move range -40 from a to b"],
      ["copying", "copy started"],
      ["failed", "copying -> failed"],
      ["copying", "failed -> copying"],
      ["aborting", "copying -> aborting"],
      ["aborted", "aborting -> aborted"],
    ]);
    expect((await store.listMoveEvents("m-1"))[1]?.details).toEqual({ tables: 2 });
    // An ended move takes no lease and no change; its range is free for a new move.
    await refused(store, () => store.acquireMoveLease("m-1", OWNER, TTL_MS), "MOVE_STATE");
    await refused(store, () => store.updateMove("m-1", OWNER, { state: "aborted" }), "MOVE_STATE");
    await startRangeMove(store, "m-2", "-40", "a", "b");
  });
});
