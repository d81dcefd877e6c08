// A row whose shard key changes moves by a delete on its old owner and an insert, same primary
// key, on its new owner. While a move (run by the real engine) holds copies of a range's rows on
// a second shard, that insert can meet the copy of its own row, by primary key or another unique
// key: on the source after the switch (until cleanup), on the target before it (until the
// applier applies the delete). The router's insert() and writeOne() must then succeed, never
// touch a row that is not a copy the shard does not own, and report a real duplicate at once.
import { hashKeyFunction, type KeyRange, parseKeyRange, rangeContains } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { cleanupMove, resumeMove, startMove } from "@shardkit/migrate";
import { createRouter, type Router } from "@shardkit/router";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMoveWorld, MOVER, type MoveWorld } from "./fixtures/workload-world.js";

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
});

/** Tickets: a primary key, a second unique key, sharded by account_id. */
const TICKETS = `CREATE TABLE tickets (
  ticket_id BIGINT NOT NULL PRIMARY KEY,
  account_id BIGINT NOT NULL,
  code VARCHAR(40) NOT NULL,
  UNIQUE KEY by_code (code),
  KEY by_account (account_id)
) ENGINE=InnoDB`;
const ACCOUNTS = 600;
const T = { table: "tickets" } as const;

type Ticket = {
  readonly ticket_id: number;
  readonly account_id: number;
  readonly code: string;
};

/** Ticket `i` of the seed: one per account. */
const ticket = (i: number): Ticket => ({ ticket_id: 10_000 + i, account_id: i, code: `T-${i}` });

interface TicketWorld {
  readonly world: MoveWorld;
  readonly router: Router;
  db(shard: string): Knex;
  /** The shards whose tickets table holds `ticketId`, and that row on each. */
  where(ticketId: number): Promise<Record<string, Ticket>>;
  close(): Promise<void>;
}

/** A move world with a tickets table on s1 and s2 (one ticket per account, on its owner) and a router. */
async function ticketWorld(): Promise<TicketWorld> {
  const world = await createMoveWorld(fleet);
  let router: Router | undefined;
  try {
    const db = (shard: string) => world.shardDb[shard] as Knex;
    for (const s of ["s1", "s2"]) await db(s).raw(TICKETS);
    await world.store.addTable(
      { name: "tickets", keyColumn: "account_id", keyFunction: "hash" },
      { check: false },
    );
    router = await createRouter({ directory: world.directoryUrl, pollIntervalMs: 100 });
    const r = router;
    const byShard = new Map<string, Ticket[]>();
    for (let i = 1; i <= ACCOUNTS; i++) {
      const shard = r.locate(i, T).shard;
      byShard.set(shard, [...(byShard.get(shard) ?? []), ticket(i)]);
    }
    for (const [shard, rows] of byShard) await db(shard)("tickets").insert(rows);
    return {
      world,
      router: r,
      db,
      async where(ticketId) {
        const out: Record<string, Ticket> = {};
        for (const s of ["s1", "s2", "s3"]) {
          const [row] = await db(s)("tickets")
            .where({ ticket_id: ticketId })
            .catch(() => []);
          if (row) out[s] = row as Ticket;
        }
        return out;
      },
      async close() {
        await r.close();
        await world.close();
      },
    };
  } catch (error) {
    await router?.close();
    await world.close();
    throw error;
  }
}

/** Accounts 1..ACCOUNTS whose key is in `range`, and some owned by `shard` outside it. */
function accountsIn(range: KeyRange): number[] {
  return Array.from({ length: ACCOUNTS }, (_, i) => i + 1).filter((a) =>
    rangeContains(range, hashKeyFunction.ksid(a)),
  );
}

/** The error `promise` rejects with, and how long it took to. */
async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
  throw new Error("expected the write to fail, and it succeeded");
}

/** Transactions of the shard's server waiting for a row lock. */
async function lockWaits(db: Knex): Promise<number> {
  const [rows] = (await db.raw(
    "SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'",
  )) as [{ n: number }[]];
  return Number(rows[0]?.n ?? 0);
}

/**
 * Resolves once `check` holds, checking every 150 ms (InnoDB refreshes what INNODB_TRX shows
 * only when it was last read more than 100 ms before); throws after `ms`.
 */
async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not true within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Every ticket is on exactly one shard, the one that owns its account now. */
async function expectEachOnItsOwner(w: TicketWorld): Promise<void> {
  await w.router.refresh();
  const problems: string[] = [];
  const seen = new Map<number, string>();
  for (const s of ["s1", "s2", "s3"]) {
    const rows = (await w
      .db(s)("tickets")
      .select()
      .catch(() => [])) as Ticket[];
    for (const row of rows) {
      const owner = w.router.locate(row.account_id, T).shard;
      if (owner !== s) problems.push(`ticket ${row.ticket_id} on ${s}, owned by ${owner}`);
      const other = seen.get(row.ticket_id);
      if (other) problems.push(`ticket ${row.ticket_id} on ${other} and ${s}`);
      seen.set(row.ticket_id, s);
    }
  }
  expect(problems).toEqual([]);
}

describe("an insert that meets a move's copy of its row", () => {
  it("on the source after the switch: the copy is deleted and the row inserted, cleanup then leaves it; a real duplicate fails at once", async () => {
    const w = await ticketWorld();
    try {
      const range = parseKeyRange("-40");
      const summary = await startMove(
        w.world.store,
        { range: "-40", to: "s3" },
        { ...w.world.mover, chunkSize: 100, cleanup: false },
      );
      expect(summary.state).toBe("switched");
      await w.router.refresh();
      const moved = accountsIn(range).map(ticket);
      const [t1, t2, t3, t4] = moved as [Ticket, Ticket, Ticket, Ticket];
      // The source still holds the moved tickets (copies), the target owns them.
      expect(Object.keys(await w.where(t1.ticket_id)).sort()).toEqual(["s1", "s3"]);
      const onSource = accountsIn(parseKeyRange("40-80"));
      const c = onSource[0] as number;
      const s1Ticket = ticket(onSource[1] as number);
      expect(w.router.locate(c, T).shard).toBe("s1");

      // t1 moves to account c with insert(): it meets its own copy on s1 by both unique keys.
      await w.router.write(
        t1.account_id,
        (trx) => trx("tickets").where({ ticket_id: t1.ticket_id }).del(),
        T,
      );
      expect(await w.router.insert("tickets", { ...t1, account_id: c })).toMatchObject({
        affectedRows: 1,
      });
      // t2 the same with writeOne() and a knex insert.
      await w.router.write(
        t2.account_id,
        (trx) => trx("tickets").where({ ticket_id: t2.ticket_id }).del(),
        T,
      );
      await w.router.writeOne(c, (k) => k("tickets").insert({ ...t2, account_id: c }), T);
      // t3 is deleted and its code given to a new ticket on s1: it meets t3's copy by code alone.
      await w.router.write(
        t3.account_id,
        (trx) => trx("tickets").where({ ticket_id: t3.ticket_id }).del(),
        T,
      );
      const reused: Ticket = { ticket_id: 99_001, account_id: c, code: t3.code };
      await w.router.insert("tickets", reused);

      expect(await w.where(t1.ticket_id)).toEqual({ s1: { ...t1, account_id: c } });
      expect(await w.where(t2.ticket_id)).toEqual({ s1: { ...t2, account_id: c } });
      expect(await w.where(t3.ticket_id)).toEqual({});
      expect(await w.where(reused.ticket_id)).toEqual({ s1: reused });

      // A real duplicate of a row s1 owns fails at once, changing nothing.
      const real = await failure(
        w.router.insert("tickets", { ticket_id: s1Ticket.ticket_id, account_id: c, code: "X-1" }),
      );
      expect(real.error).toMatchObject({ code: "ER_DUP_ENTRY" });
      expect(real.ms).toBeLessThan(1000);
      // One copy and one real row met by the same insert: a real duplicate; the copy is kept.
      const mixed = await failure(
        w.router.insert("tickets", { ticket_id: t4.ticket_id, account_id: c, code: s1Ticket.code }),
      );
      expect(mixed.error).toMatchObject({ code: "ER_DUP_ENTRY" });
      expect(mixed.ms).toBeLessThan(1000);
      expect(await w.where(s1Ticket.ticket_id)).toEqual({ s1: s1Ticket });
      expect(await w.where(t4.ticket_id)).toEqual({ s1: t4, s3: t4 });

      // Cleanup deletes the copies the source still holds, and none of the rows inserted over them.
      const cleaned = await cleanupMove(w.world.store, summary.moveId, {
        ...w.world.mover,
        cleanupGraceMs: 2000,
      });
      expect(cleaned.state).toBe("done");
      expect(await w.where(t1.ticket_id)).toEqual({ s1: { ...t1, account_id: c } });
      expect(await w.where(t2.ticket_id)).toEqual({ s1: { ...t2, account_id: c } });
      expect(await w.where(reused.ticket_id)).toEqual({ s1: reused });
      expect(await w.where(t4.ticket_id)).toEqual({ s3: t4 });
      await expectEachOnItsOwner(w);
    } finally {
      await w.close();
    }
  });

  it("on the source while cleanup runs: a cleanup that read the copy before the insert over it leaves the inserted row", async () => {
    const w = await ticketWorld();
    let hold: Knex.Transaction | undefined;
    try {
      const summary = await startMove(
        w.world.store,
        { range: "-40", to: "s3" },
        { ...w.world.mover, cleanup: false },
      );
      await w.router.refresh();
      // Tickets in primary-key order: the cleanup reads both copies in one chunk, then deletes them.
      const [first, row] = accountsIn(parseKeyRange("-40")).map(ticket) as [Ticket, Ticket];
      const c = accountsIn(parseKeyRange("40-80"))[0] as number;
      // A session locks the first copy: the cleanup's DELETE of the chunk waits there, after its read.
      hold = await w.db("s1").transaction();
      await hold("tickets").where({ ticket_id: first.ticket_id }).forUpdate();
      const cleanup = cleanupMove(w.world.store, summary.moveId, {
        ...w.world.mover,
        cleanupGraceMs: 2000,
      });
      await until(async () => (await lockWaits(w.db("s1"))) > 0, 30_000);
      // Meanwhile the row moves to account c on s1, over its copy.
      await w.router.write(
        row.account_id,
        (trx) => trx("tickets").where({ ticket_id: row.ticket_id }).del(),
        T,
      );
      await w.router.insert("tickets", { ...row, account_id: c });
      await hold.commit();
      hold = undefined;
      expect((await cleanup).state).toBe("done");
      expect(await w.where(row.ticket_id)).toEqual({ s1: { ...row, account_id: c } });
      expect(await w.where(first.ticket_id)).toEqual({ s3: first });
      await expectEachOnItsOwner(w);
    } finally {
      await hold?.rollback();
      await w.close();
    }
  });

  it("on the target before the switch: the insert waits until the applier deletes the copy, and fails at its deadline while the copy stays", async () => {
    const w = await ticketWorld();
    try {
      // s2 (80-) is the target here, so the mover needs a target's grants on it.
      const s2 = (await w.world.store.snapshot()).shards.find((s) => s.name === "s2");
      await w
        .db("s2")
        .raw(
          `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP ON \`${s2?.database}\`.* TO '${MOVER.user}'@'127.0.0.1'`,
        );
      const range = parseKeyRange("-40");
      const copied = await startMove(
        w.world.store,
        { range: "-40", to: "s2" },
        { ...w.world.mover, chunkSize: 100, stopAfter: "copy" },
      );
      expect(copied.state).toBe("copied");
      await w.router.refresh();
      const [t1, t2] = accountsIn(range).map(ticket) as [Ticket, Ticket];
      const onTarget = accountsIn(parseKeyRange("80-"));
      const b = onTarget[0] as number;
      const s2Ticket = ticket(onTarget[1] as number);
      expect(w.router.locate(b, T).shard).toBe("s2");
      expect(await w.where(t1.ticket_id)).toEqual({ s1: t1, s2: t1 });

      // t1 moves to account b on s2, where the move's copy of t1 stays while no applier runs.
      await w.router.write(
        t1.account_id,
        (trx) => trx("tickets").where({ ticket_id: t1.ticket_id }).del(),
        T,
      );
      const waited = await failure(
        w.router.insert("tickets", { ...t1, account_id: b }, { deadlineMs: 1500 }),
      );
      expect(waited.error).toMatchObject({ code: "ER_DUP_ENTRY" });
      expect(waited.ms).toBeGreaterThanOrEqual(1400);
      expect(await w.where(t1.ticket_id)).toEqual({ s2: t1 });
      // A real duplicate on the target (a row s2 owns) fails at once.
      const real = await failure(
        w.router.insert("tickets", { ticket_id: s2Ticket.ticket_id, account_id: b, code: "X-2" }),
      );
      expect(real.error).toMatchObject({ code: "ER_DUP_ENTRY" });
      expect(real.ms).toBeLessThan(1000);

      // With the applier running again, the copy goes when it applies t1's delete: the insert lands.
      let settled = false;
      const insert = w.router
        .insert("tickets", { ...t1, account_id: b }, { deadlineMs: 60_000 })
        .finally(() => {
          settled = true;
        });
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
      const t0 = performance.now();
      const rest = resumeMove(w.world.store, copied.moveId, {
        ...w.world.mover,
        cleanupGraceMs: 2000,
      });
      expect(await insert).toMatchObject({ affectedRows: 1 });
      const landedMs = performance.now() - t0;
      expect((await rest).state).toBe("done");
      expect(await w.where(t1.ticket_id)).toEqual({ s2: { ...t1, account_id: b } });
      expect(await w.where(t2.ticket_id)).toEqual({ s2: t2 });
      await expectEachOnItsOwner(w);
      console.log(
        `insert over a target's copy landed ${landedMs.toFixed(0)} ms after the applier restarted`,
      );
    } finally {
      await w.close();
    }
  });

  it("of a key move, on the source after the switch: the copy is deleted and the row inserted", async () => {
    const w = await ticketWorld();
    try {
      const whale = accountsIn(parseKeyRange("-40"))[0] as number;
      const extra = Array.from({ length: 30 }, (_, i) => ({
        ticket_id: 50_000 + i,
        account_id: whale,
        code: `W-${i}`,
      }));
      await w.db("s1")("tickets").insert(extra);
      const summary = await startMove(
        w.world.store,
        { key: String(whale), table: "tickets", to: "s3" },
        { ...w.world.mover, cleanup: false },
      );
      expect(summary.state).toBe("switched");
      await w.router.refresh();
      const c = accountsIn(parseKeyRange("40-80"))[0] as number;
      const [w1] = extra as [Ticket];
      expect(Object.keys(await w.where(w1.ticket_id)).sort()).toEqual(["s1", "s3"]);
      await w.router.write(
        whale,
        (trx) => trx("tickets").where({ ticket_id: w1.ticket_id }).del(),
        T,
      );
      await w.router.insert("tickets", { ...w1, account_id: c });
      expect(await w.where(w1.ticket_id)).toEqual({ s1: { ...w1, account_id: c } });
      expect(
        (
          await cleanupMove(w.world.store, summary.moveId, {
            ...w.world.mover,
            cleanupGraceMs: 2000,
          })
        ).state,
      ).toBe("done");
      expect(await w.where(w1.ticket_id)).toEqual({ s1: { ...w1, account_id: c } });
      await expectEachOnItsOwner(w);
    } finally {
      await w.close();
    }
  });
});
