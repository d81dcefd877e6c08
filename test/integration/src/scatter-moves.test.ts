// Scatters while a move has copies of a range's (or a key's) rows on a second shard: on the
// target before the switch, on the source after it until cleanup. Every answer equals the same
// SQL on the reference database, which holds each row once, and a query whose copies the router
// cannot drop is refused, naming the move. The rows are copied by SQL and the moves taken
// through their states with the directory's admin API (move-simulation.ts).
import { canonicalKeyBytes, type KeyRange } from "@shardkit/directory";
import { type Router, RouterError } from "@shardkit/router";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectExactAnswers } from "./fixtures/exact-answers.js";
import {
  copyRows,
  endMove,
  failMove,
  type SimulatedMove,
  startMove,
  switchMove,
} from "./fixtures/move-simulation.js";
import {
  loadShop,
  type ScatterWorld,
  SHARDED_TABLES,
  startScatterWorld,
} from "./fixtures/scatter-fixture.js";

let world: ScatterWorld;
let router: Router;
let reference: Knex;

beforeAll(async () => {
  world = await startScatterWorld();
  router = world.router;
  reference = world.reference;
  await loadShop(world);
}, 180_000);

afterAll(async () => {
  await world?.stop();
});

type Row = Record<string, unknown>;

const ksidOf = (customerId: unknown) => router.locate(customerId, { table: "customer" }).ksid;
const inRange = (r: KeyRange) => (row: Row) => {
  const ksid = ksidOf(row.customer_id);
  return r.start <= ksid && ksid < r.end;
};
const ownerOf = (row: Row) => router.locate(row.customer_id, { table: "customer" }).shard;
/** Rows a move of `range` moves: in the range, and of no pinned key (pins stay where they are). */
const movedBy = (range: KeyRange) => (row: Row) =>
  inRange(range)(row) && !router.locate(row.customer_id, { table: "customer" }).pinned;
/** Rows of `range` that `shard` holds without owning them. */
const copiesOf = (range: KeyRange, shard: string) => (row: Row) =>
  inRange(range)(row) && router.locate(row.customer_id, { table: "customer" }).shard !== shard;
const byId = (column: string) => (a: Row, b: Row) => Number(a[column]) - Number(b[column]);

/** A range `shard` owns now, with at least one customer. */
function rangeOf(shard: string): KeyRange {
  const ranges = router.directory.map.snapshot.ranges.filter((a) => a.shard === shard);
  const range = ranges.find((a) =>
    Array.from({ length: 150 }, (_, i) => i + 1).some((id) =>
      inRange(a.range)({ customer_id: id }),
    ),
  );
  if (!range) throw new Error(`shard ${shard} owns no range with customers`);
  return range.range;
}

/** Copies every sharded table's rows that `keep` accepts from one shard to another. */
async function copyAll(from: string, to: string, keep: (row: Row) => boolean): Promise<number> {
  let n = 0;
  for (const table of SHARDED_TABLES) {
    n += await copyRows(world.shards[from] as Knex, world.shards[to] as Knex, table, keep);
  }
  return n;
}

/** Deletes every sharded table's rows that `drop` accepts from one shard. */
async function deleteAll(shard: string, drop: (row: Row) => boolean): Promise<void> {
  const db = world.shards[shard] as Knex;
  for (const table of SHARDED_TABLES) {
    const ids = ((await db(table).select()) as Row[]).filter(drop);
    const pk = `${table}_id`;
    if (ids.length > 0)
      await db(table)
        .whereIn(
          pk,
          ids.map((r) => r[pk] as number),
        )
        .del();
  }
}

/** Whether a row belongs to what `move` moves: its range's rows, or its key's. */
const inMove = (move: SimulatedMove) => (row: Row) =>
  move.kind === "key"
    ? Buffer.from(move.keyBytes ?? []).equals(canonicalKeyBytes(row.customer_id))
    : movedBy(move.range)(row);

/**
 * Ends `move` whatever state a test left it in: the copies it left on its source or target
 * (rows of the move that shard does not own) are deleted, and the move ends unless it did.
 */
async function finish(move: SimulatedMove): Promise<void> {
  await follow();
  for (const shard of [move.source, move.target]) {
    await deleteAll(shard, (row) => inMove(move)(row) && ownerOf(row) !== shard);
  }
  await endMove(world.store, move.id);
  await follow();
}

/** Rows of `table` summed over every shard's database: more than the reference while copies exist. */
async function rowsOnShards(table: string): Promise<number> {
  let n = 0;
  for (const db of Object.values(world.shards)) n += (await db(table).select()).length;
  return n;
}

/** Routers see the directory as the tests left it. */
async function follow(): Promise<void> {
  await router.refresh();
}

describe("a range move", () => {
  it("before the switch, drops the target's copies of the range, keeping a key pinned to the target", async () => {
    const range = rangeOf("s1");
    const move: SimulatedMove = {
      id: "move-before-switch",
      kind: "range",
      range,
      source: "s1",
      target: "s2",
    };
    // A key of the range pinned to the target: its rows live there and are not the move's.
    const pinned = (
      (await (world.shards.s1 as Knex)("customer").select("customer_id")) as Row[]
    ).find(inRange(range))?.customer_id as number;
    const isPinned = (row: Row) => row.customer_id === pinned;
    await copyAll("s1", "s2", isPinned);
    await deleteAll("s1", isPinned);
    await world.store.pinKey(pinned, "s2");
    const copied = await copyAll("s1", "s2", movedBy(range));
    expect(copied).toBeGreaterThan(50);
    expect(await rowsOnShards("customer")).toBeGreaterThan(150);
    try {
      await startMove(world.store, move, "copying");
      await follow();
      await expectExactAnswers(router, reference);
      // A failed move whose range the source still owns: the target's rows are still copies.
      await failMove(world.store, move.id);
      await follow();
      await expectExactAnswers(router, reference);
    } finally {
      await finish(move);
    }
    await expectExactAnswers(router, reference);
  });

  it("after the switch, drops the source's stale copies until cleanup, however the owner changed them", async () => {
    const range = rangeOf("s2");
    const move: SimulatedMove = {
      id: "move-after-switch",
      kind: "range",
      range,
      source: "s2",
      target: "s3",
    };
    await copyAll("s2", "s3", movedBy(range));
    try {
      await startMove(world.store, move, "copied");
      await switchMove(world.store, move.id);
      await follow();
      expect(router.directory.map.ownerOf(range.start).shard).toBe("s3");
      // The new owner takes writes the source never sees: an update and a delete.
      const owner = world.shards.s3 as Knex;
      const customer = ((await owner("customer").select()) as Row[]).find(inRange(range));
      const payment = ((await owner("payment").select()) as Row[]).find(inRange(range));
      for (const db of [owner, reference]) {
        await db("customer")
          .where({ customer_id: customer?.customer_id as number })
          .update({ first_name: "Moved" });
        await db("payment")
          .where({ payment_id: payment?.payment_id as number })
          .del();
      }
      // Stale copies hold what the source last had, which may sort before every owned row: the
      // source's first 20 rows by name are copies, and a row it owns comes first in the answer.
      const source = world.shards.s2 as Knex;
      const onSource = (await source("customer").select()) as Row[];
      const stale = onSource.filter(copiesOf(range, "s2")).map((r) => r.customer_id as number);
      expect(stale.length).toBeGreaterThanOrEqual(20);
      await source("customer").whereIn("customer_id", stale).update({ last_name: "Aaron" });
      const own = onSource.find((r) => ownerOf(r) === "s2")?.customer_id as number;
      for (const db of [source, reference])
        await db("customer").where({ customer_id: own }).update({ last_name: "Aaronson" });
      await expectExactAnswers(router, reference);
      // Cleanup removes the stale copies; the move ends.
      await finish(move);
      await expectExactAnswers(router, reference);
    } finally {
      await finish(move);
    }
  });
});

describe("a key move", () => {
  it("drops the other shard's copies of the key's rows, before and after the switch", async () => {
    const id = Array.from({ length: 150 }, (_, i) => i + 1).find(
      (c) =>
        router.locate(c, { table: "customer" }).shard === "s3" &&
        !router.locate(c, { table: "customer" }).pinned,
    ) as number;
    const ofKey = (row: Row) => row.customer_id === id;
    await world.store.pinKey(id, "s3");
    const move: SimulatedMove = {
      id: "move-of-a-key",
      kind: "key",
      range: { start: ksidOf(id), end: ksidOf(id) + 1 },
      keyBytes: canonicalKeyBytes(id),
      source: "s3",
      target: "s1",
    };
    expect(await copyAll("s3", "s1", ofKey)).toBeGreaterThan(1);
    try {
      await startMove(world.store, move, "copied");
      await follow();
      await expectExactAnswers(router, reference);
      await switchMove(world.store, move.id);
      await follow();
      expect(router.locate(id, { table: "customer" }).shard).toBe("s1");
      await expectExactAnswers(router, reference);
      await finish(move);
      await expectExactAnswers(router, reference);
    } finally {
      await finish(move);
    }
  });
});

describe("queries the router cannot filter", () => {
  it("refuses a query reading a sharded table in a subquery while a shard holds copies, naming the move, and answers it once the move is done", async () => {
    const range = rangeOf("s3");
    const move: SimulatedMove = {
      id: "move-refused",
      kind: "range",
      range,
      source: "s3",
      target: "s1",
    };
    await copyAll("s3", "s1", movedBy(range));
    const withRentals = (k: Knex) =>
      k("customer").whereIn("customer_id", k("rental").select("customer_id"));
    const rawJoin = (k: Knex) =>
      k("customer").join(k.raw("rental ON rental.customer_id = customer.customer_id"));
    try {
      await startMove(world.store, move, "copying");
      await follow();
      for (const [query, table] of [
        [withRentals, "rental"],
        [rawJoin, "rental"],
      ] as const) {
        for (const extra of [{}, { aggregates: { n: { fn: "count" } } } as const]) {
          const error = await router.scatter({ query, ...extra }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(RouterError);
          expect(error).toMatchObject({ code: "RANGE_BUSY", shard: "s1" });
          expect((error as Error).message).toContain("move-refused");
          expect((error as Error).message).toContain(`reads ${table} in a subquery or raw SQL`);
          expect((error as Error).message).not.toContain("\n");
        }
      }
      // A query reading only tables that every shard holds whole is not concerned.
      const { rows } = await router.scatter({ query: (k) => k("film").where("film_id", 1) });
      expect(rows).toHaveLength(3);
    } finally {
      await finish(move);
    }
    const { rows } = await router.scatter<Row>({ query: withRentals });
    expect(rows.sort(byId("customer_id"))).toStrictEqual(
      await withRentals(reference).orderBy("customer_id"),
    );
  });
});
