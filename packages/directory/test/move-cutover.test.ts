import {
  formatKeyRange,
  hashKeyFunction,
  MysqlDirectoryStore,
  parseKeyRange,
  parseMysqlUrl,
} from "@shardkit/directory";
import { connect, fencedInsertSql, quoteIdentifier } from "@shardkit/directory/internal";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { directories, fenceOf, refused } from "./helpers.js";
import {
  fenceAnswer,
  keysIn,
  OWNER,
  settlesWithin,
  startKeyMove,
  startRangeMove,
  writeInFlight,
} from "./move-helpers.js";

let fleet: Fleet;
const dirs = directories(() => fleet);

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
});
afterEach(() => dirs.closeAll());
afterAll(async () => {
  await fleet?.stop();
});

const NOT_OWNED = "this shard does not own the key range";
const FROZEN = "the key range is frozen for a cutover";
const MOVED = "range 80000000-c0000000";

/** Two shards on two servers with a users table; a owns -40 and 80-c0, b owns 40-80 and c0-. */
function twoShards() {
  return dirs.create({
    shards: ["a", "b"],
    layout: 4,
    onShard: (url) => run(url, "CREATE TABLE users (user_id BIGINT PRIMARY KEY, name VARCHAR(20))"),
  });
}

async function run(url: string, statement: string, params: unknown[] = []) {
  const conn = await connect(parseMysqlUrl(url));
  try {
    return await conn.query<{ affectedRows: number }>(statement, params);
  } finally {
    await conn.close();
  }
}

/** The router's one-statement insert of a user: rows inserted (0 when the fence refuses). */
async function fencedInsert(url: string, key: number): Promise<number> {
  const ksid = hashKeyFunction.ksid(key);
  const range = parseKeyRange("80-c0");
  const sql = fencedInsertSql("users", ["user_id", "name"], quoteIdentifier);
  const [ok] = await run(url, sql, [key, "u", range.start, ksid, ksid]);
  return Number(ok?.affectedRows);
}

/** A move of 80-c0 from a to b, copied and ready for its cutover. */
async function copiedMove(store: MysqlDirectoryStore) {
  await startRangeMove(store, "m-1", "80-c0", "a", "b");
  await store.updateMove("m-1", OWNER, { state: "copying" });
  return store.updateMove("m-1", OWNER, { state: "copied" });
}

describe("freeze", () => {
  it("waits for writes in flight on the range, stalls no other range, then the fence refuses the range", async () => {
    const { store, shards } = await twoShards();
    const a = shards.a ?? "";
    const { version } = await copiedMove(store);
    const [key = 0, next = 0] = keysIn("80-c0", 2);
    const [elsewhere] = keysIn("-40");
    const inFlight = await writeInFlight(a, key);
    const freeze = store.freezeRange("m-1", OWNER);
    try {
      expect(await settlesWithin(freeze, 700)).toBe(false);
      // Another range of the same source takes writes while the freeze waits.
      const other = fenceAnswer(a, elsewhere);
      expect(await settlesWithin(other, 2000)).toBe(true);
      expect(await other).toBe("ok");
      // The write in flight finishes its insert and commits.
      await inFlight.conn.query("INSERT INTO users (user_id, name) VALUES (?, 'in flight')", [key]);
    } finally {
      await inFlight.end();
    }
    expect((await freeze).version).toBe(version + 1);
    expect(await run(a, "SELECT name FROM users WHERE user_id = ?", [key])).toEqual([
      { name: "in flight" },
    ]);
    expect(await fenceAnswer(a, next)).toBe(FROZEN);
    expect(await fencedInsert(a, next)).toBe(0);
    expect(await fenceAnswer(a, elsewhere)).toBe("ok");
    expect(await fenceOf(a)).toEqual(["range 0-40000000 serving", `${MOVED} frozen`]);
    const s = await store.snapshot();
    expect(s.ranges.find((r) => formatKeyRange(r.range) === "80-c0")?.state).toBe("frozen");
    expect(s.moves[0]?.state).toBe("cutting_over");
    // Again: nothing changes.
    expect((await store.freezeRange("m-1", OWNER)).version).toBe(version + 1);
  });

  it("gives up after the drain timeout and freezes nothing", async () => {
    const { store, shards } = await twoShards();
    const a = shards.a ?? "";
    await copiedMove(store);
    const [key] = keysIn("80-c0");
    const inFlight = await writeInFlight(a, key);
    try {
      const error = await refused(
        store,
        () => store.freezeRange("m-1", OWNER, { drainTimeoutSeconds: 1 }),
        "DEADLINE_EXCEEDED",
      );
      expect(error.message).toBe(
        "writes in flight on range 80-c0 held its fence row past the drain timeout, so nothing was frozen; try the cutover again",
      );
    } finally {
      await inFlight.end();
    }
    expect(await fenceOf(a)).toContain(`${MOVED} serving`);
    expect((await store.getMove("m-1")).state).toBe("copied");
    expect(await fenceAnswer(a, key)).toBe("ok");
  });

  it("unfreezes: the source serves again, and the move can back off", async () => {
    const { store, shards } = await twoShards();
    const a = shards.a ?? "";
    await copiedMove(store);
    const [key = 0] = keysIn("80-c0");
    const { version } = await store.freezeRange("m-1", OWNER);
    // Backing off with the source frozen would leave writes refused.
    await refused(store, () => store.updateMove("m-1", OWNER, { state: "copied" }), "MOVE_STATE");
    expect((await store.unfreezeRange("m-1", OWNER)).version).toBe(version + 1);
    expect(await fenceAnswer(a, key)).toBe("ok");
    expect(await fencedInsert(a, key)).toBe(1);
    expect((await store.snapshot()).ranges.map((r) => r.state)).toEqual([
      "serving",
      "serving",
      "moving",
      "serving",
    ]);
    expect((await store.unfreezeRange("m-1", OWNER)).version).toBe(version + 1);
    await store.updateMove("m-1", OWNER, { state: "copied" });
    expect((await store.listMoveEvents("m-1")).map((e) => e.message).slice(-3)).toEqual([
      "froze range 80-c0 on a",
      "unfroze range 80-c0 on a",
      "cutting_over -> copied",
    ]);
  });
});

describe("switch", () => {
  it("gives the range to the target at one version: source refuses, target accepts; idempotent", async () => {
    const { store, shards } = await twoShards();
    const [a, b] = [shards.a ?? "", shards.b ?? ""];
    await copiedMove(store);
    const [key] = keysIn("80-c0");
    const early = await refused(store, () => store.switchRange("m-1", OWNER), "MOVE_STATE");
    expect(early.message).toBe(
      "move m-1 cannot go from copied to switched; see shardkit move status m-1",
    );
    await store.freezeRange("m-1", OWNER);
    await refused(store, () => store.switchRange("m-1", "mover-2"), "MOVE_LEASED");
    const { version } = await store.switchRange("m-1", OWNER);
    const s = await store.snapshot();
    expect(s.version).toBe(version);
    expect(s.ranges.find((r) => formatKeyRange(r.range) === "80-c0")).toMatchObject({
      shard: "b",
      state: "serving",
    });
    expect(s.moves).toMatchObject([{ id: "m-1", state: "switched" }]);
    expect(await store.getMove("m-1")).toMatchObject({
      state: "switched",
      switchedVersion: version,
    });
    expect(await fenceOf(a)).toEqual(["range 0-40000000 serving"]);
    expect(await fenceOf(b)).toContain(`${MOVED} serving`);
    expect(await fenceAnswer(a, key)).toBe(NOT_OWNED);
    expect(await fenceAnswer(b, key)).toBe("ok");
    expect((await store.switchRange("m-1", OWNER)).version).toBe(version);
    // Past the point of no return: forward only.
    await refused(store, () => store.unfreezeRange("m-1", OWNER), "MOVE_STATE");
    const back = await refused(
      store,
      () => store.updateMove("m-1", OWNER, { state: "aborting" }),
      "MOVE_STATE",
    );
    expect(back.message).toContain("it is past the switch and can only go forward: resume it");
    await store.updateMove("m-1", OWNER, { state: "cleaning" });
    expect((await store.updateMove("m-1", OWNER, { state: "done" })).version).toBe(version + 1);
    expect((await store.snapshot()).moves).toEqual([]);
  });

  it("after a failure between the fence writes and the commit, names the source, which stays frozen; the switch again completes", async () => {
    const { store, shards, url } = await twoShards();
    const [a, b] = [shards.a ?? "", shards.b ?? ""];
    await copiedMove(store);
    const [key] = keysIn("80-c0");
    const { version } = await store.freezeRange("m-1", OWNER);
    // Another mover process whose target is unreachable (its password is wrong there).
    const cut = new MysqlDirectoryStore({
      directory: url,
      credentials: (name) => (name === "b" ? "s3cret-pw" : ""),
    });
    try {
      const error = await refused(cut, () => cut.switchRange("m-1", OWNER), "SHARD_UNAVAILABLE");
      expect(error.message).toContain("cannot reach shard b");
      expect(error.message).not.toContain("s3cret-pw");
    } finally {
      await cut.close();
    }
    const s = await store.snapshot();
    expect(s.version).toBe(version);
    expect(s.ranges.find((r) => formatKeyRange(r.range) === "80-c0")).toMatchObject({
      shard: "a",
      state: "frozen",
    });
    expect(await store.getMove("m-1")).toMatchObject({
      state: "cutting_over",
      switchedVersion: null,
    });
    expect(await fenceOf(a)).toContain(`${MOVED} frozen`);
    expect(await fenceOf(b)).not.toContain(`${MOVED} serving`);
    expect(await fenceAnswer(a, key)).toBe(FROZEN);
    expect(await fenceAnswer(b, key)).toBe(NOT_OWNED);
    // Resume: the switch completes.
    await store.switchRange("m-1", OWNER);
    expect(await fenceAnswer(b, key)).toBe("ok");
    expect(await fenceAnswer(a, key)).toBe(NOT_OWNED);
  });

  it("a process that dies after the source's fence write leaves no shard accepting the range; the switch again completes", async () => {
    const { store, shards, url } = await twoShards();
    const [a, b] = [shards.a ?? "", shards.b ?? ""];
    await copiedMove(store);
    const [key] = keysIn("80-c0");
    await store.freezeRange("m-1", OWNER);
    // The source's fence is written first; then the target is unreachable, and so is the
    // source for putting its row back: what a process killed between the two leaves.
    let sourceConnections = 0;
    const dying = new MysqlDirectoryStore({
      directory: url,
      credentials: (name) => (name === "b" || ++sourceConnections > 1 ? "wrong" : ""),
    });
    try {
      await refused(dying, () => dying.switchRange("m-1", OWNER), "SHARD_UNAVAILABLE");
    } finally {
      await dying.close();
    }
    // The source gave the range up before the target was asked to take it.
    expect(await fenceAnswer(a, key)).toBe(NOT_OWNED);
    expect(await fenceAnswer(b, key)).toBe(NOT_OWNED);
    expect(
      (await store.snapshot()).ranges.find((r) => r.shard === "a" && r.state === "frozen"),
    ).toBeDefined();
    // Doctor leaves the move's rows alone and says so.
    const report = await store.doctor();
    expect(report.repairedShards).toEqual([]);
    expect(report.refusals).toEqual([
      "shard a differs from the directory on range 80-c0, which move m-1 (cutting_over) governs; doctor left it alone: finish or abort that move first",
    ]);
    expect(await fenceAnswer(a, key)).toBe(NOT_OWNED);
    await store.switchRange("m-1", OWNER);
    expect(await fenceAnswer(b, key)).toBe("ok");
    expect(await fenceOf(a)).toEqual(["range 0-40000000 serving"]);
  });

  it("aborting before the switch unfreezes the source, which serves as before", async () => {
    const { store, shards } = await twoShards();
    const a = shards.a ?? "";
    await copiedMove(store);
    const [key] = keysIn("80-c0");
    await store.freezeRange("m-1", OWNER);
    await store.updateMove("m-1", OWNER, { state: "aborting" });
    await refused(store, () => store.updateMove("m-1", OWNER, { state: "aborted" }), "MOVE_STATE");
    await store.unfreezeRange("m-1", OWNER);
    await store.updateMove("m-1", OWNER, { state: "aborted" });
    expect(await fenceAnswer(a, key)).toBe("ok");
    const s = await store.snapshot();
    expect(s.moves).toEqual([]);
    expect(s.ranges.map((r) => [formatKeyRange(r.range), r.shard, r.state])).toEqual([
      ["-40", "a", "serving"],
      ["40-80", "b", "serving"],
      ["80-c0", "a", "serving"],
      ["c0-", "b", "serving"],
    ]);
    expect(await fenceOf(a)).toContain(`${MOVED} serving`);
  });
});

describe("a key move", () => {
  it("freezes the pinned key alone on the source, then trades pin and pin_away", async () => {
    const { store, shards } = await dirs.create({ shards: ["a", "b", "c"], layout: 4 });
    const [a, b, c] = [shards.a ?? "", shards.b ?? "", shards.c ?? ""];
    const whale = "whale";
    await startKeyMove(store, "k-1", whale, "a", "b");
    const pin = (await store.snapshot()).pins[0];
    expect(pin).toMatchObject({ shard: "a", state: "moving" });
    // A key sharing the whale's range, wherever that range lives.
    const range = (await store.snapshot()).ranges.find(
      (r) =>
        r.range.start <= hashKeyFunction.ksid(whale) && hashKeyFunction.ksid(whale) < r.range.end,
    );
    const home = shards[range?.shard ?? ""] ?? "";
    const [neighbour] = keysIn(range?.range ?? "-");
    await store.updateMove("k-1", OWNER, { state: "copying" });
    await store.updateMove("k-1", OWNER, { state: "copied" });
    await store.freezeRange("k-1", OWNER);
    expect(await fenceAnswer(a, whale)).toBe("the pinned key is frozen for a cutover");
    expect(await fenceAnswer(home, neighbour)).toBe("ok");
    expect((await store.snapshot()).pins[0]?.state).toBe("frozen");
    await store.switchRange("k-1", OWNER);
    expect(await fenceAnswer(a, whale)).toBe("the key is pinned to another shard");
    expect(await fenceAnswer(b, whale)).toBe("ok");
    expect(await fenceAnswer(c, whale)).toBe("the key is pinned to another shard");
    expect((await store.snapshot()).pins.map((p) => [p.keyText, p.shard, p.state])).toEqual([
      ["whale", "b", "serving"],
    ]);
    expect((await store.doctor()).differences).toEqual([]);
  });
});
