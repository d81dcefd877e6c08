import type { KeyRange, ShardRecord } from "@shardkit/directory";
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
