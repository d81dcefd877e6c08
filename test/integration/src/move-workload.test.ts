// A move while an application writes: two routers in their own processes (one polling, one that
// never polls and learns only from fence refusals) insert, update, delete and change the shard
// key of accounts and their entries, while a range (or a whale key) moves to another server.
// Afterwards every acknowledged write must be there with its last value, every acknowledged
// delete gone, each row on exactly one shard (its owner), the source clean, and no write failed.
// A shard-key change is one UPDATE when the router puts both keys on one shard (a transaction
// fenced on both), else a delete on the old owner and an insert on the new one, under the row's
// own primary key: that insert meets the copy a move left of the row (on the source after the
// switch, on the target before it), which the router's insert() must get past without an error.
// WORKLOAD_LOG=<file> writes every answered write (and <file>.events the move's events) there.
import { writeFileSync } from "node:fs";
import { hashKeyFunction, type KeyRange, parseKeyRange } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { type MoveEvent, startMove } from "@shardkit/migrate";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedWorkload, startWorkload, type WorkloadOutcome } from "./fixtures/workload.js";
import { checkWorkload, rowsInRange } from "./fixtures/workload-check.js";
import { createMoveWorld, type MoveWorld } from "./fixtures/workload-world.js";

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
});

const TABLES = ["accounts", "entries"] as const;

/** Runs `move` while the workload writes: some writes before it, some after it ended. */
async function underWorkload<T>(
  load: Awaited<ReturnType<typeof startWorkload>>,
  move: () => Promise<T>,
): Promise<{ result: T; outcome: WorkloadOutcome; writesDuringMove: number }> {
  let outcome: WorkloadOutcome | undefined;
  try {
    await load.waitForWrites(300);
    const before = load.writes;
    const result = await move();
    const during = load.writes - before;
    // Writes after the switch: the stale router only learns of it from the fence.
    await load.waitForWrites(load.writes + 300);
    outcome = await load.stop();
    return { result, outcome, writesDuringMove: during };
  } finally {
    if (!outcome) await load.stop();
  }
}

function shard(world: MoveWorld, name: string): Knex {
  const db = world.shardDb[name];
  if (!db) throw new Error(`no shard ${name}`);
  return db;
}

/** A move's events with when they came (`Date.now()`), for WORKLOAD_LOG. */
type TimedEvents = { at: number; event: MoveEvent }[];

/** The checks every move under the workload must pass: no failed write, and the shards exactly as acknowledged. */
async function expectExact(
  world: MoveWorld,
  outcome: WorkloadOutcome,
  events: TimedEvents,
): Promise<void> {
  const log = process.env.WORKLOAD_LOG;
  if (log) {
    writeFileSync(log, outcome.log.map((l) => JSON.stringify(l)).join("\n"));
    writeFileSync(`${log}.events`, events.map((e) => JSON.stringify(e)).join("\n"));
  }
  const report = await checkWorkload(world, outcome.model);
  const failed = outcome.errors.map(
    (e) => `router ${e.router}: ${e.op} failed after ${e.ms.toFixed(0)} ms: ${e.code} ${e.message}`,
  );
  expect([...failed, ...report.problems]).toEqual([]);
  expect((report.rows.accounts ?? 0) + (report.rows.entries ?? 0)).toBeGreaterThan(1000);
}

describe("a move under a concurrent workload through two routers, one stale", () => {
  it("moves a range: every acknowledged write kept, deletes stay deleted, each row on its owner only, the source cleaned", async () => {
    const world = await createMoveWorld(fleet);
    try {
      // -40 is half of s1's range (-80): the move splits it off and takes it to s3, on the other server.
      const range: KeyRange = parseKeyRange("-40");
      const model = await seedWorkload(world, { accounts: 4000, entriesPerAccount: 3 });
      for (const table of TABLES)
        expect(await rowsInRange(shard(world, "s1"), table, range)).toBeGreaterThan(500);
      const load = await startWorkload(world, { model, watchRange: range });
      const events: TimedEvents = [];
      const {
        result: summary,
        outcome,
        writesDuringMove,
      } = await underWorkload(load, () =>
        startMove(
          world.store,
          { range: "-40", to: "s3" },
          {
            ...world.mover,
            chunkSize: 200,
            cleanupGraceMs: 5000,
            onEvent: (event) => events.push({ at: Date.now(), event }),
          },
        ),
      );
      await expectExact(world, outcome, events);

      expect(summary.state).toBe("done");
      expect(summary.verify?.differences).toBe(0);
      // The workload wrote to the moving range throughout, shard-key changes moved rows into and
      // out of it, and the applier had changes to apply.
      expect(writesDuringMove).toBeGreaterThan(100);
      expect(outcome.inRange.writes).toBeGreaterThan(100);
      expect(outcome.inRange.keyChangesAcross).toBeGreaterThan(5);
      expect(outcome.keyChanges.update).toBeGreaterThan(5);
      expect(summary.eventsApplied).toBeGreaterThan(0);
      // Both routers moved past the switch; the stale one (never polling) through refusals alone.
      const snapshot = await world.store.snapshot();
      const switched = (await world.store.getMove(summary.moveId)).switchedVersion as number;
      expect(switched).toBeGreaterThan(0);
      for (const v of outcome.versionsByRouter) expect(v.last).toBeGreaterThanOrEqual(switched);
      expect(outcome.versionsByRouter[1]?.first).toBeLessThan(switched);

      expect(snapshot.ranges.map((r) => [r.range.start, r.shard])).toEqual([
        [0, "s3"],
        [0x40000000, "s1"],
        [0x80000000, "s2"],
      ]);
      expect(snapshot.moves).toEqual([]);
      for (const table of TABLES) {
        expect(await rowsInRange(shard(world, "s1"), table, range)).toBe(0);
        expect(await rowsInRange(shard(world, "s3"), table, range)).toBeGreaterThan(500);
      }

      // The check itself sees a lost row, a copy left on the source and a stale value.
      type Row = Record<string, number>;
      const lost = (await shard(world, "s3")("accounts").first()) as Row;
      const copy = (await shard(world, "s3")("entries").first()) as Row;
      const other = (await shard(world, "s2")("entries").first()) as Row;
      await shard(world, "s3")("accounts").where({ account_id: lost.account_id }).delete();
      await shard(world, "s1")("entries").insert(copy);
      await shard(
        world,
        "s2",
      )("entries")
        .where({ entry_id: other.entry_id })
        .update({ amount: -1 });
      const broken = await checkWorkload(world, outcome.model);
      expect(broken.problems).toEqual([
        `accounts ${lost.account_id} is acknowledged but on no shard (lost)`,
        `entries ${copy.entry_id} is on 2 shards: s1, s3`,
        `entries ${copy.entry_id} (key ${copy.account_id}) is on s1, owned by s3`,
        `entries ${other.entry_id} on s2 has amount=-1; the last acknowledged write set ${other.amount}`,
      ]);
      console.log(
        `range move under load: ${outcome.writes} writes (${writesDuringMove} during the move, ${outcome.inRange.writes} in the range, ${outcome.inRange.keyChangesAcross} key changes across its edge; key changes ${outcome.keyChanges.update} as one UPDATE, ${outcome.keyChanges.deleteInsert} as delete + insert), longest write ${outcome.longestWriteMs.toFixed(0)} ms; move: ${summary.rowsCopied} rows copied, ${summary.eventsApplied} events applied, pause ${summary.pauseMs} ms, phases ${JSON.stringify(summary.phaseMs)}`,
      );
    } finally {
      await world.close();
    }
  }, 180_000);

  it("moves a whale key (many rows) to a shard of its own under the same checks", async () => {
    const world = await createMoveWorld(fleet);
    try {
      const whale = 7;
      const ksid = hashKeyFunction.ksid(whale);
      const keyRange: KeyRange = { start: ksid, end: ksid + 1 };
      const model = await seedWorkload(world, {
        accounts: 800,
        entriesPerAccount: 2,
        whale: { key: whale, entries: 20_000 },
      });
      const before = await world.store.snapshot();
      const owner = before.ranges.find((r) => r.range.start <= ksid && ksid < r.range.end)
        ?.shard as string;
      const load = await startWorkload(world, { model, watchRange: keyRange, whaleShare: 0.4 });
      const events: TimedEvents = [];
      const {
        result: summary,
        outcome,
        writesDuringMove,
      } = await underWorkload(load, () =>
        startMove(
          world.store,
          { key: String(whale), table: "accounts", to: "s3" },
          {
            ...world.mover,
            chunkSize: 1000,
            cleanupGraceMs: 5000,
            onEvent: (event) => events.push({ at: Date.now(), event }),
          },
        ),
      );
      await expectExact(world, outcome, events);

      expect(summary.state).toBe("done");
      expect(writesDuringMove).toBeGreaterThan(100);
      expect(outcome.inRange.writes).toBeGreaterThan(100);
      const snapshot = await world.store.snapshot();
      expect(snapshot.pins.map((p) => [Buffer.from(p.keyBytes).toString(), p.shard])).toEqual([
        [String(whale), "s3"],
      ]);
      expect(snapshot.moves).toEqual([]);
      // Its rows are on s3 alone (checkWorkload compared them row by row), and nothing else is.
      const onTarget = await shard(
        world,
        "s3",
      )("entries")
        .where({ account_id: whale })
        .count({ n: "*" });
      expect(Number(onTarget[0]?.n)).toBeGreaterThan(19_000);
      // The source keeps every other key and none of the whale's rows.
      for (const table of TABLES) {
        expect(
          await shard(world, owner)(table).where({ account_id: whale }).count({ n: "*" }),
        ).toEqual([{ n: 0 }]);
      }
      expect(
        await shard(world, "s3")("entries").whereNot({ account_id: whale }).count({ n: "*" }),
      ).toEqual([{ n: 0 }]);
      console.log(
        `whale move under load: ${outcome.writes} writes (${writesDuringMove} during the move, ${outcome.inRange.writes} on the whale), longest write ${outcome.longestWriteMs.toFixed(0)} ms; move: ${summary.rowsCopied} rows copied, ${summary.eventsApplied} events applied, pause ${summary.pauseMs} ms, phases ${JSON.stringify(summary.phaseMs)}`,
      );
    } finally {
      await world.close();
    }
  }, 180_000);
});
