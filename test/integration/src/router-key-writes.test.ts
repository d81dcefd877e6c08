// The cheaper fenced paths against real shards: update() and delete() (one statement that joins
// the shard's fence rows, falling back to the fence procedures), and write()'s range check sent
// with BEGIN and the first statement. Every test writes its own keys and removes them. One file
// because the three paths share one fleet and their tests one shape (lock, refusals, stale routers).
import {
  FENCE_TABLE,
  fencedKeyWriteSql,
  fenceJoinSql,
  quoteIdentifier,
} from "@shardkit/directory/internal";
import type { Router, RouterError } from "@shardkit/router";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RouterFixture, startRouterFixture, user } from "./fixtures/router-fixture.js";

let f: RouterFixture;
let router: Router;

beforeAll(async () => {
  f = await startRouterFixture();
  router = f.router;
}, 120_000);

afterAll(async () => {
  await f?.close();
});

/** Orders `ids` of user `key`, inserted through the router and into the reference. */
async function seedOrders(key: number, ids: readonly number[]): Promise<void> {
  const rows = ids.map((order_id) => ({ order_id, user_id: key, total: order_id % 100 }));
  await router.insert("orders", rows);
  await f.reference("orders").insert(rows);
}

/**
 * Runs the router's statement `sql` for `key` in a transaction on its owner, at READ COMMITTED
 * (where a plain subquery would read the fence row without locking it), checks that a freeze of
 * the range waits for it, then rolls it back.
 */
async function holdInFlight(key: number, sql: string, bindings: readonly unknown[]): Promise<void> {
  const rolledBack = new Error("rolled back");
  const inFlight = (f.shardDb[router.locate(key).shard] as Knex).transaction(
    async (trx) => {
      const [result] = (await trx.raw(sql, bindings as Knex.RawBinding[])) as [
        { affectedRows: number },
      ];
      expect(result.affectedRows).toBe(1);
      await f.expectFreezeToWait(key);
      throw rolledBack;
    },
    { isolationLevel: "read committed" },
  );
  await expect(inFlight).rejects.toBe(rolledBack);
}

describe("update and delete by key", () => {
  it("change the key's rows on its owner only, with the counts one server gives", async () => {
    const key = 515_001;
    const owner = router.locate(key).shard;
    try {
      await seedOrders(key, [1, 2, 3]);
      const routed = await router.update("orders", key, { total: 7 }, { where: { order_id: 2 } });
      const [plain] = (await f.reference.raw(
        "UPDATE orders SET total = 7 WHERE user_id = ? AND order_id = 2",
        [key],
      )) as [{ affectedRows: number; changedRows: number }];
      expect(routed).toEqual({ affectedRows: plain.affectedRows, changedRows: plain.changedRows });
      // Matched but unchanged: affected 1, changed 0, as MySQL counts them through mysql2.
      expect(await router.update("orders", key, { total: 7 }, { where: { order_id: 2 } })).toEqual({
        affectedRows: 1,
        changedRows: 0,
      });
      expect(await router.update("orders", key, { total: 9 })).toEqual({
        affectedRows: 3,
        changedRows: 3,
      });
      await f.reference("orders").where({ user_id: key }).update({ total: 9 });
      const onOwner = await f.shardDb[owner]?.("orders")
        .where({ user_id: key })
        .orderBy("order_id");
      expect(onOwner).toEqual(
        await f.reference("orders").where({ user_id: key }).orderBy("order_id"),
      );
      // A key without rows: 0 rows, no error (the fence procedures confirm the shard serves it).
      expect(await router.update("orders", key + 1_000_000, { total: 1 })).toEqual({
        affectedRows: 0,
        changedRows: 0,
      });
      expect(await router.delete("orders", key, { where: { order_id: 1 } })).toEqual({
        affectedRows: 1,
      });
      expect(await router.delete("orders", key)).toEqual({ affectedRows: 2 });
      expect(await f.whereIs("orders", "user_id", key)).toEqual([]);
    } finally {
      await f.removeAll("orders", "user_id", [key]);
    }
  });

  it("writes a list of keys of one shard in one statement, across its ranges; refuses two shards", async () => {
    const keys = f.keysOn("s1", 516_000, 6);
    const [other] = f.keysOn("s2", 516_000, 1);
    const ranges = new Set(keys.map((k) => router.locate(k).range.start));
    expect(ranges.size).toBeGreaterThan(1); // s1 holds two of the six ranges
    try {
      for (const k of keys) await router.insert("users", user(k));
      expect(await router.update("users", keys, { name: "listed" })).toMatchObject({
        affectedRows: 6,
      });
      expect(
        await f.shardDb.s1?.("users").whereIn("user_id", keys).where({ name: "listed" }),
      ).toHaveLength(6);
      const error = (await router
        .delete("users", [keys[0], other])
        .catch((e: unknown) => e)) as RouterError;
      expect(error.code).toBe("CROSS_SHARD");
      expect(await f.whereIs("users", "user_id", keys[0])).toEqual(["s1"]);
      expect(await router.delete("users", keys)).toEqual({ affectedRows: 6 });
      expect(await f.shardDb.s1?.("users").whereIn("user_id", keys)).toEqual([]);
    } finally {
      await f.removeAll("users", "user_id", keys);
    }
  });

  it("routes keys as the key column stores them, and refuses bad input writing nothing", async () => {
    const key = 517_001;
    try {
      await router.insert("users", user(key));
      expect(await router.update("users", ` 0${key}`, { name: "padded" })).toMatchObject({
        affectedRows: 1,
      });
      const refusals: [() => Promise<unknown>, string, RegExp][] = [
        [() => router.update("users", key, { user_id: 1 }), "BAD_ARGUMENT", /shard key/],
        [() => router.update("users", key, {}), "BAD_ARGUMENT", /name no column/],
        [() => router.update("users", key, null as never), "BAD_ARGUMENT", /changes must be/],
        [() => router.update("nope", key, { a: 1 }), "UNKNOWN_TABLE", /nope/],
        [() => router.update("users", "4x", { name: "x" }), "BAD_SHARD_KEY", /4x/],
        [() => router.delete("users", []), "BAD_ARGUMENT", /at least one key/],
        [() => router.delete("users", key, { where: 3 as never }), "BAD_ARGUMENT", /where/],
        [() => router.delete("users", key, { deadlineMs: -1 }), "BAD_ARGUMENT", /deadlineMs/],
      ];
      for (const [call, code, message] of refusals) {
        const error = (await call().catch((e: unknown) => e)) as RouterError;
        expect(error.code, String(message)).toBe(code);
        expect(error.message).toMatch(message);
        expect(error.message.split("\n")).toHaveLength(1);
      }
      expect(await f.shardDb[router.locate(key).shard]?.("users").where({ user_id: key })).toEqual([
        expect.objectContaining({ name: "padded" }),
      ]);
    } finally {
      await f.removeAll("users", "user_id", [key]);
    }
  });

  it("write nothing while the range is frozen, until the deadline", async () => {
    const key = 518_001;
    try {
      await router.insert("users", user(key));
      await f.whileFrozen(key, async () => {
        for (const call of [
          () => router.update("users", key, { name: "frozen" }, { deadlineMs: 200 }),
          () => router.delete("users", key, { deadlineMs: 200 }),
        ]) {
          const error = (await call().catch((e: unknown) => e)) as RouterError;
          expect(error.code).toBe("DEADLINE_EXCEEDED");
          expect((error.cause as RouterError).code).toBe("FENCED");
        }
      });
      expect(await f.shardDb[router.locate(key).shard]?.("users").where({ user_id: key })).toEqual([
        expect.objectContaining({ name: user(key).name }),
      ]);
    } finally {
      await f.removeAll("users", "user_id", [key]);
    }
  });
});

describe("the one statement's fence", () => {
  const statement = (kind: "update" | "delete", start: number, key: number, ksid: number) => {
    const sql = fencedKeyWriteSql(
      {
        kind,
        table: "users",
        keyColumn: "user_id",
        set: kind === "update" ? ["name"] : [],
        where: [],
        whereNull: [],
        keys: 1,
        ranges: 1,
      },
      quoteIdentifier,
    );
    const bindings = kind === "update" ? [start, ksid, "locked", key] : [start, ksid, key];
    return { sql, bindings };
  };

  it.each(["update", "delete"] as const)(
    "%s holds the range row's shared lock: a freeze waits for it, and later statements see the freeze",
    async (kind) => {
      const key = kind === "update" ? 519_001 : 519_002;
      const target = router.locate(key);
      const db = f.shardDb[target.shard] as Knex;
      const { sql, bindings } = statement(kind, target.range.start, key, target.ksid);
      const rangeRow = (k: Knex) =>
        k(FENCE_TABLE).where({ kind: "range", range_start: target.range.start });
      try {
        await router.insert("users", user(key));
        await holdInFlight(key, sql, bindings);
        // Frozen, unowned (the range ends before the key) or holding a pinned key: no change.
        const refusals: [Record<string, unknown>, number][] = [
          [{ state: "frozen" }, target.ksid],
          [{ pinned_keys: 1 }, target.ksid],
          [{ state: "serving" }, target.range.end],
        ];
        for (const [change, ksid] of refusals) {
          await rangeRow(db).update(change);
          try {
            const [refused] = (await db.raw(
              sql,
              statement(kind, target.range.start, key, ksid).bindings,
            )) as [{ affectedRows: number }];
            expect(refused.affectedRows, JSON.stringify(change)).toBe(0);
          } finally {
            await rangeRow(db).update({ state: "serving", pinned_keys: 0 });
          }
        }
        expect(await db("users").where({ user_id: key })).toEqual([
          expect.objectContaining({ name: user(key).name }),
        ]);
      } finally {
        await f.removeAll("users", "user_id", [key]);
      }
    },
  );
});

describe("stale routers", () => {
  it("land on the pin's shard only, for a key pinned since", async () => {
    const key = 520_001;
    const home = router.locate(key).shard;
    const pinTo = home === "s3" ? "s1" : "s3";
    const stale = await f.staleRouter();
    try {
      // The same row on both shards: which one changes tells where the write landed.
      for (const db of [f.shardDb[home], f.shardDb[pinTo]] as Knex[]) {
        await db("users").insert(user(key));
      }
      await f.store.pinKey(key, pinTo);
      expect(stale.locate(key).shard).toBe(home);
      expect(await stale.update("users", key, { name: "pinned" })).toMatchObject({
        affectedRows: 1,
      });
      expect(await (f.shardDb[pinTo] as Knex)("users").where({ user_id: key })).toEqual([
        expect.objectContaining({ name: "pinned" }),
      ]);
      expect(await (f.shardDb[home] as Knex)("users").where({ user_id: key })).toEqual([
        expect.objectContaining({ name: user(key).name }),
      ]);
      expect(await stale.delete("users", key)).toEqual({ affectedRows: 1 });
      expect(await f.whereIs("users", "user_id", key)).toEqual([home]);
    } finally {
      await stale.close();
      await f.removeAll("users", "user_id", [key]);
      await f.store.unpinKey(key);
      await router.refresh();
    }
  });

  it.each([
    ["update()", 521_001, (r: Router, k: number) => r.update("users", k, { name: "moved" })],
    [
      "writeOne()",
      521_002,
      (r: Router, k: number) =>
        r.writeOne(k, (q) => q("users").where({ user_id: k }).update({ name: "moved" })),
    ],
    [
      "write()",
      521_003,
      (r: Router, k: number) =>
        r.write(k, (trx) => trx("users").where({ user_id: k }).update({ name: "moved" })),
    ],
  ] as const)("land on the new owner only, after the range moved: %s", async (_, key, rename) => {
    const from = router.locate(key);
    const to = from.shard === "s3" ? "s1" : "s3";
    const stale = await f.staleRouter();
    let moved = false;
    try {
      // The same row on both shards: which one changes tells where the write landed.
      for (const db of [f.shardDb[from.shard], f.shardDb[to]] as Knex[]) {
        await db("users").insert(user(key));
      }
      await f.store.assignRange(from.range, from.shard, to);
      moved = true;
      expect(stale.locate(key).shard).toBe(from.shard);
      await rename(stale, key);
      expect(await (f.shardDb[to] as Knex)("users").where({ user_id: key })).toEqual([
        expect.objectContaining({ name: "moved" }),
      ]);
      expect(await (f.shardDb[from.shard] as Knex)("users").where({ user_id: key })).toEqual([
        expect.objectContaining({ name: user(key).name }),
      ]);
      expect(await stale.delete("users", key)).toEqual({ affectedRows: 1 });
      expect(await f.whereIs("users", "user_id", key)).toEqual([from.shard]);
    } finally {
      await stale.close();
      await f.removeAll("users", "user_id", [key]);
      if (moved) await f.store.assignRange(from.range, to, from.shard);
      await router.refresh();
    }
  });
});

describe("write()'s range check, sent with its first statement", () => {
  it("holds the range row's shared lock from the first statement: a freeze waits for the write", async () => {
    const key = 522_001;
    const target = router.locate(key);
    try {
      await router.write(key, async (trx) => {
        await trx("users").insert(user(key));
        await f.expectFreezeToWait(key);
      });
      expect(await f.whereIs("users", "user_id", key)).toEqual([target.shard]);
    } finally {
      await f.removeAll("users", "user_id", [key]);
    }
  });

  it("commits nothing when the caller swallows the refusal and goes on", async () => {
    const key = 523_001;
    let swallowed = 0;
    await f.whileFrozen(key, async () => {
      const error = (await router
        .write(
          key,
          async (trx) => {
            await trx("users")
              .insert(user(key))
              .catch(() => swallowed++);
            await trx("orders").insert({ order_id: key, user_id: key, total: 1 });
          },
          { deadlineMs: 200 },
        )
        .catch((e: unknown) => e)) as RouterError;
      expect(error.code).toBe("DEADLINE_EXCEEDED");
      expect((error.cause as RouterError).code).toBe("FENCED");
    });
    expect(swallowed).toBeGreaterThan(0);
    expect(await f.whereIs("users", "user_id", key)).toEqual([]);
    expect(await f.whereIs("orders", "order_id", key)).toEqual([]);
  });

  it("lets a caller go on after its own first statement fails on the owner, as one server would", async () => {
    const key = 524_001;
    const owner = router.locate(key).shard;
    try {
      await router.insert("users", user(key));
      const duplicate = await router.write(key, async (trx) => {
        const failed = await trx("users")
          .insert(user(key))
          .then(
            () => undefined,
            (e: { code?: string }) => e.code,
          );
        await trx("orders").insert({ order_id: key, user_id: key, total: 2 });
        return failed;
      });
      expect(duplicate).toBe("ER_DUP_ENTRY");
      expect(await f.whereIs("orders", "order_id", key)).toEqual([owner]);
    } finally {
      await f.removeAll("users", "user_id", [key]);
      await f.removeAll("orders", "order_id", [key]);
    }
  });

  it("checks before a stream's rows are handed out", async () => {
    const key = 528_001;
    const read = async (trx: Knex.Transaction) => {
      const rows: unknown[] = [];
      for await (const row of trx("users").where({ user_id: key }).stream()) rows.push(row);
      return rows;
    };
    try {
      await router.insert("users", user(key));
      expect(await router.write(key, read)).toHaveLength(1);
      await f.whileFrozen(key, async () => {
        const error = (await router
          .write(key, read, { deadlineMs: 200 })
          .catch((e: unknown) => e)) as RouterError;
        expect(error.code).toBe("DEADLINE_EXCEEDED");
        expect((error.cause as RouterError).code).toBe("FENCED");
      });
    } finally {
      await f.removeAll("users", "user_id", [key]);
    }
  });

  it("refuses on a shard whose range row counts a pinned key, and lands on the pin's shard", async () => {
    const key = 525_001;
    const home = router.locate(key).shard;
    const pinTo = home === "s3" ? "s1" : "s3";
    const stale = await f.staleRouter();
    try {
      await f.store.pinKey(key, pinTo);
      expect(stale.locate(key).shard).toBe(home);
      await stale.write(key, (trx) => trx("users").insert(user(key)));
      expect(await f.whereIs("users", "user_id", key)).toEqual([pinTo]);
    } finally {
      await stale.close();
      await f.removeAll("users", "user_id", [key]);
      await f.store.unpinKey(key);
      await router.refresh();
    }
  });
});

describe("writeOne's one statement", () => {
  it.each([
    [
      "update",
      (k: number) => (q: Knex) => q("users").where({ user_id: k }).update({ name: "one" }),
    ],
    ["delete", (k: number) => (q: Knex) => q("users").where({ user_id: k }).delete()],
  ] as const)(
    "%s: the statement with the fence row joined holds its shared lock; a frozen range gets nothing",
    async (kind, statement) => {
      const key = kind === "update" ? 526_001 : 526_002;
      const target = router.locate(key);
      const db = f.shardDb[target.shard] as Knex;
      try {
        await router.insert("users", user(key));
        // The router's statement: the caller's builder with the range's fence row joined.
        const joined = (statement(key)(db) as Knex.QueryBuilder)
          .clone()
          .joinRaw(fenceJoinSql("shardkit_fence_0"), [target.range.start, target.ksid]);
        const { sql, bindings } = joined.toSQL().toNative();
        await holdInFlight(key, sql, bindings);
        await f.whileFrozen(key, async () => {
          const error = (await router
            .writeOne(key, statement(key), { deadlineMs: 200 })
            .catch((e: unknown) => e)) as RouterError;
          expect(error.code).toBe("DEADLINE_EXCEEDED");
        });
        expect(await db("users").where({ user_id: key })).toEqual([
          expect.objectContaining({ name: user(key).name }),
        ]);
        expect((await router.writeOne(key, statement(key))).affectedRows).toBe(1);
      } finally {
        await f.removeAll("users", "user_id", [key]);
      }
    },
  );
});
