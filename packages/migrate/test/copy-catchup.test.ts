import { hashKeyFunction, type KeyRange, type ShardRecord } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import {
  armFailpoint,
  CREATE_MARKER_TABLE,
  disarmFailpoint,
  MarkerClock,
  MoveSession,
  type RowSelector,
  rangeSelector,
  type ShardConnection,
} from "@shardkit/migrate/internal";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectTo, freshShard, rootLogin, rowsOf, SCHEMA, TABLES, Workload } from "./helpers.js";

let fleet: Fleet;
const open: { close(): Promise<unknown> }[] = [];

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
});
afterEach(async () => {
  disarmFailpoint();
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await fleet?.stop();
});

const HALF: KeyRange = { start: 0, end: 0x8000_0000 };

interface World {
  source: ShardRecord;
  target: ShardRecord;
  src: ShardConnection;
  dst: ShardConnection;
}

async function world(): Promise<World> {
  const source = await freshShard(fleet, 0, "src");
  const target = await freshShard(fleet, 1, "dst");
  const src = await connectTo(source);
  const dst = await connectTo(target);
  open.push(src, dst);
  for (const sql of SCHEMA) {
    await src.execute(sql);
    await dst.execute(sql);
  }
  return { source, target, src, dst };
}

function session(w: World, moveId: string, selector: RowSelector, chunkSize = 40) {
  return MoveSession.open({
    moveId,
    source: w.source,
    target: w.target,
    login: rootLogin,
    tables: TABLES,
    selector,
    chunkSize,
    batchRows: 50,
  });
}

/** The first key in [from, to] whose ksid is (or is not) in {@link HALF}. */
function firstIn(from: number, to: number, inside: boolean): number {
  for (let k = from; k <= to; k++) {
    if (hashKeyFunction.ksid(k) < HALF.end === inside) return k;
  }
  throw new Error(`no key in ${from}..${to}`);
}

/** The range's rows on the source and every row on the target, per table. */
async function compare(w: World, selector: RowSelector, s: MoveSession) {
  for (const [table, order] of [
    ["accounts", "id"],
    ["orders", "user_id, order_id"],
  ] as const) {
    const schema = s.schemas.get(table);
    if (!schema) throw new Error(table);
    const expected = selector.filter(schema, await rowsOf(w.src, table, order));
    const actual = await rowsOf(w.dst, table, order);
    expect(actual.length, `${table} rows on the target`).toBe(expected.length);
    expect(actual, table).toEqual(expected);
  }
}

describe("copy and catch-up", () => {
  it("converge to exactly the range's rows under concurrent inserts, updates, deletes and shard-key changes", async () => {
    const w = await world();
    const writer = new Workload(await connectTo(w.source), 7);
    open.push({ close: () => writer.stop() });
    await writer.seed(600);
    const selector = rangeSelector(HALF, []);
    const s = await session(w, "move-converge", selector);
    open.push(s);
    writer.start(600);
    let chunks = 0;
    await s.copy(() => {
      chunks++;
    });
    // Keep writing while the applier runs freely, then stop and let it catch up.
    for (let i = 0; i < 20; i++) await s.catchUp.step(20);
    await writer.stop();
    await s.catchUpNow(10_000);
    expect(writer.writes).toBeGreaterThan(100);
    expect(chunks).toBeGreaterThan(20);
    expect(s.progress.eventsApplied).toBeGreaterThan(0);
    await compare(w, selector, s);
  });

  it("converges across binlog rotations during the copy and after it", async () => {
    const w = await world();
    const writer = new Workload(await connectTo(w.source), 13);
    open.push({ close: () => writer.stop() });
    await writer.seed(400);
    const selector = rangeSelector(HALF, []);
    const s = await session(w, "move-rotate", selector);
    open.push(s);
    writer.start(400);
    let chunks = 0;
    await s.copy(() => {
      // A new binlog file every few chunks: snapshots then start in a file the stream has not reached.
      if (++chunks % 5 === 0) void w.src.execute("FLUSH BINARY LOGS");
    });
    await w.src.execute("FLUSH BINARY LOGS");
    for (let i = 0; i < 10; i++) await s.catchUp.step(20);
    await writer.stop();
    await s.catchUpNow(10_000);
    const [status] = await w.src.query<{ File: string }>("SHOW MASTER STATUS");
    expect(s.catchUp.position?.file).toBe(status?.File);
    expect(Number(status?.File.split(".").at(-1))).toBeGreaterThan(3);
    await compare(w, selector, s);
  });

  it("resumes after a failure between chunks from the last committed chunk and binlog position", async () => {
    const w = await world();
    const writer = new Workload(await connectTo(w.source), 11);
    open.push({ close: () => writer.stop() });
    await writer.seed(400);
    const selector = rangeSelector(HALF, []);
    writer.start(400);
    const first = await session(w, "move-resume", selector);
    armFailpoint("after-copy-chunk", 6, new Error("crash"));
    await expect(first.copy()).rejects.toThrow("crash");
    await first.close();
    const committed = await w.dst.query<{ table_name: string; rows_read: number }>(
      "SELECT table_name, rows_read FROM shardkit_move_progress WHERE move_id = 'move-resume'",
    );
    expect(committed.map((r) => Number(r.rows_read))).toEqual([6 * 40]);

    armFailpoint("after-apply-batch", 3, new Error("crash again"));
    const second = await session(w, "move-resume", selector);
    await expect(
      (async () => {
        await second.copy();
        for (;;) await second.catchUp.step(20);
      })(),
    ).rejects.toThrow("crash again");
    await second.close();

    const third = await session(w, "move-resume", selector);
    open.push(third);
    await third.copy();
    await writer.stop();
    await third.catchUpNow(10_000);
    await compare(w, selector, third);
  });

  it("skip a chunk's row that the application re-keyed onto the target after the chunk's snapshot", async () => {
    const w = await world();
    await new Workload(w.src, 3).seed(200);
    const selector = rangeSelector(HALF, []);
    const s = await session(w, "move-stale-chunk", selector);
    open.push(s);
    // An account of the first chunk, in the range; and a key outside it (another range's).
    const x = firstIn(1, 40, true);
    const away = firstIn(1, 400, false);
    await s.startStream();
    const advance = s.catchUp.advanceTo.bind(s.catchUp);
    let rekeyed = false;
    s.catchUp.advanceTo = async (at, signal) => {
      // The first chunk is read; before it is written, the row moves to another range's shard
      // as a router moves it: deleted on the source, inserted (same primary key) on the target.
      if (!rekeyed) {
        rekeyed = true;
        await w.src.execute("DELETE FROM accounts WHERE id = ?", [x]);
        await w.dst.execute("INSERT INTO accounts VALUES (?, ?, 9, 'rekeyed', NULL)", [x, away]);
      }
      return advance(at, signal);
    };
    await s.copy();
    await s.catchUpNow(10_000);
    expect(rekeyed).toBe(true);
    const [kept] = await w.dst.query<{ user_id: number; name: string }>(
      "SELECT user_id, name FROM accounts WHERE id = ?",
      [x],
    );
    expect(kept).toEqual({ user_id: away, name: "rekeyed" });
    await w.dst.execute("DELETE FROM accounts WHERE id = ?", [x]);
    await compare(w, selector, s);
  });

  it("skip a binlog row that the application re-keyed onto the target before the applier reached it", async () => {
    const w = await world();
    await new Workload(w.src, 5).seed(200);
    const selector = rangeSelector(HALF, []);
    const s = await session(w, "move-stale-event", selector);
    open.push(s);
    await s.copy();
    const id = 900_001;
    const inRange = firstIn(1, 400, true);
    const away = firstIn(1, 400, false);
    // Inserted in the range on the source, then re-keyed to the target before the applier runs.
    await w.src.execute("INSERT INTO accounts VALUES (?, ?, 1, 'new', NULL)", [id, inRange]);
    await w.src.execute("DELETE FROM accounts WHERE id = ?", [id]);
    await w.dst.execute("INSERT INTO accounts VALUES (?, ?, 9, 'rekeyed', NULL)", [id, away]);
    await s.catchUpNow(10_000);
    const [kept] = await w.dst.query<{ user_id: number; name: string }>(
      "SELECT user_id, name FROM accounts WHERE id = ?",
      [id],
    );
    expect(kept).toEqual({ user_id: away, name: "rekeyed" });
    await w.dst.execute("DELETE FROM accounts WHERE id = ?", [id]);
    await compare(w, selector, s);
  });

  it("stop with KEY_COLLISION when a primary key of the range is on the target under another range's key too", async () => {
    const w = await world();
    await new Workload(w.src, 9).seed(200);
    const selector = rangeSelector(HALF, []);
    const x = firstIn(1, 40, true);
    const away = firstIn(1, 400, false);
    await w.dst.execute("INSERT INTO accounts VALUES (?, ?, 9, 'other', NULL)", [x, away]);
    const s = await session(w, "move-collision", selector);
    open.push(s);
    await expect(s.copy()).rejects.toMatchObject({
      code: "KEY_COLLISION",
      message: expect.stringContaining(`primary key [${x}] that belongs to another range`),
    });
    // The other range's row is untouched.
    expect(await w.dst.query("SELECT user_id, name FROM accounts WHERE id = ?", [x])).toEqual([
      { user_id: away, name: "other" },
    ]);
  });

  it("copy a chunk of several statements exactly, overwriting a copy already on the target in its last one", async () => {
    const w = await world();
    // 20000 accounts of about 75 characters of values: one chunk is several INSERTs.
    await w.src.execute(
      "INSERT INTO accounts SELECT seq, seq, seq / 100, RPAD(CONCAT('user ', seq, ' \\'q\\' '), 40, 'é'), '2024-01-02 03:04:05.678' FROM seq_1_to_20000",
    );
    const selector = rangeSelector(HALF, []);
    let last = 20000;
    while (hashKeyFunction.ksid(last) >= HALF.end) last--;
    // An earlier run's copy of a row near the end, with older values.
    await w.dst.execute("INSERT INTO accounts VALUES (?, ?, 0, 'older', NULL)", [last, last]);
    const s = await MoveSession.open({
      moveId: "move-statements",
      source: w.source,
      target: w.target,
      login: rootLogin,
      tables: TABLES.filter((t) => t.name === "accounts"),
      selector,
      chunkSize: 20000,
    });
    open.push(s);
    await s.copy();
    await s.catchUpNow(10_000);
    const schema = s.schemas.get("accounts");
    if (!schema) throw new Error("accounts");
    const expected = selector.filter(schema, await rowsOf(w.src, "accounts", "id"));
    expect(expected.length).toBeGreaterThan(8000);
    expect(await rowsOf(w.dst, "accounts", "id")).toEqual(expected);
  });

  it("number markers above every earlier run's, even when the mover's clock went back", async () => {
    const w = await world();
    await w.src.execute(CREATE_MARKER_TABLE);
    const ahead = Date.now() + 3_600_000;
    await w.src.execute("INSERT INTO shardkit_move_markers VALUES ('m1', ?, NOW(3))", [ahead]);
    const clock = new MarkerClock(w.src, "m1");
    await clock.resume();
    expect(await clock.write()).toBe(ahead + 1);
    // The old marker, met again in the binlog, is not the new one.
    clock.applied(ahead);
    expect(clock.isApplied(ahead + 1)).toBe(false);
  });
});
