// The router's write paths against real shards: every test writes its own keys and removes
// them, so each passes alone and in any order.
import { hashKeyFunction, rangeContains } from "@shardkit/directory";
import { FENCE_TABLE, fencedInsertSql } from "@shardkit/directory/internal";
import { type Router, RouterError } from "@shardkit/router";
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

describe("write and writeOne", () => {
  it("writes several keys of one shard in one transaction, and refuses keys on two shards", async () => {
    const onS1 = f.keysOn("s1", 1000, 3);
    const [onS2] = f.keysOn("s2", 1000, 1);
    try {
      await router.write(onS1, async (trx) => {
        for (const k of onS1) await trx("orders").insert({ order_id: k, user_id: k, total: 1 });
      });
      expect(await f.shardDb.s1?.("orders").whereIn("order_id", onS1)).toHaveLength(3);
      const error = await router
        .write([onS1[0], onS2], async () => "never")
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RouterError);
      expect((error as RouterError).code).toBe("CROSS_SHARD");
    } finally {
      await f.removeAll("orders", "order_id", onS1);
    }
  });

  it("rolls back a write whose function fails, and rethrows the caller's error as is", async () => {
    const boom = new Error("caller failed");
    await expect(
      router.write(4242, async (trx) => {
        await trx("users").insert(user(4242));
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await f.whereIs("users", "user_id", 4242)).toEqual([]);
  });

  it("settles a function that returns a plain value or throws at once, and frees its connection", async () => {
    const key = 4301;
    // knex ends only a transaction body that returns a thenable: the router's must not hang.
    for (let i = 0; i < 12; i++) await expect(router.write(key, () => i)).resolves.toBe(i);
    const boom = new Error("thrown before any statement");
    for (let i = 0; i < 12; i++)
      await expect(
        router.write(key, () => {
          throw boom;
        }),
      ).rejects.toBe(boom);
    // More calls than the pool has connections went before: each one gave its connection back.
    await router.write(key, (trx) => trx("users").insert(user(key)));
    try {
      expect(await f.whereIs("users", "user_id", key)).toHaveLength(1);
    } finally {
      await f.removeAll("users", "user_id", [key]);
    }
  });

  it("refuses a write the owner's fence refuses, until the deadline, without writing", async () => {
    const key = 777_001;
    const target = router.locate(key);
    await f.whileFrozen(key, async () => {
      const error = (await router
        .write(key, (trx) => trx("users").insert(user(key)), { deadlineMs: 300 })
        .catch((e: unknown) => e)) as RouterError;
      expect(error.code).toBe("DEADLINE_EXCEEDED");
      expect(error.shard).toBe(target.shard);
      expect((error.cause as RouterError).code).toBe("FENCED");
      expect(error.message).not.toMatch(/password/i);
    });
    expect(await f.whereIs("users", "user_id", key)).toEqual([]);
  });

  it("writes one statement fenced in one round trip, refused like write() and rolled back on error", async () => {
    const key = 666_001;
    try {
      const result = await router.writeOne(key, (k) => k("users").insert(user(key)));
      expect(result.affectedRows).toBe(1);
      expect(await f.whereIs("users", "user_id", key)).toEqual([router.locate(key).shard]);
      // A failing statement commits nothing and leaves the connection usable.
      await expect(router.writeOne(key, (k) => k("users").insert(user(key)))).rejects.toMatchObject(
        { code: "ER_DUP_ENTRY" },
      );
      const updated = await router.writeOne(key, (k) =>
        k("users").where({ user_id: key }).update({ name: "renamed" }),
      );
      expect(updated.affectedRows).toBe(1);
      await f.whileFrozen(key, async () => {
        const error = (await router
          .writeOne(key, (k) => k("users").where({ user_id: key }).delete(), { deadlineMs: 200 })
          .catch((e: unknown) => e)) as RouterError;
        expect(error.code).toBe("DEADLINE_EXCEEDED");
      });
      const db = f.shardDb[router.locate(key).shard] as Knex;
      expect(await db("users").where({ user_id: key }).first()).toMatchObject({ name: "renamed" });
      await router.writeOne(key, (k) => k("users").where({ user_id: key }).delete());
      expect(await f.whereIs("users", "user_id", key)).toEqual([]);
    } finally {
      await f.removeAll("users", "user_id", [key]);
    }
  });

  it("has no unfenced write path except the one named unsafe", async () => {
    const key = 888_001;
    try {
      // The knex handed out for reads runs READ ONLY sessions.
      await expect(router.read(key)("users").insert(user(key))).rejects.toMatchObject({
        code: "ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION",
      });
      await expect(
        router.readShard("s1").transaction((trx) => trx("users").insert(user(key))),
      ).rejects.toMatchObject({ code: "ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION" });
      expect(await f.whereIs("users", "user_id", key)).toEqual([]);
      const target = router.locate(key);
      await f.whileFrozen(key, () =>
        router.unsafeWriteWithoutFence(key, (trx) => trx("users").insert(user(key))),
      );
      expect(await f.whereIs("users", "user_id", key)).toEqual([target.shard]);
    } finally {
      await f.removeAll("users", "user_id", [key]);
    }
  });
});

describe("insert", () => {
  it("inserts rows by their key column, fenced, and refuses bad rows with a clear error", async () => {
    const key = 444_001;
    const owner = router.locate(key).shard;
    const db = f.shardDb[owner] as Knex;
    const many = f.keysOn(owner, 444_100, 3);
    const [fresh] = f.keysOn(owner, 444_200, 1);
    const [elsewhere] = f.keysOn(owner, 444_500, 1, true);
    const frozenKey = 444_400;
    try {
      expect(await router.insert("users", user(key))).toEqual({ affectedRows: 1, insertId: 0 });
      expect(await f.whereIs("users", "user_id", key)).toEqual([owner]);
      // The values land as a plain knex insert would store them (dates, decimals, NULLs).
      await f.reference("users").insert(user(key));
      expect(await db("users").where({ user_id: key }).first()).toEqual(
        await f.reference("users").where({ user_id: key }).first(),
      );
      await expect(router.insert("users", user(key))).rejects.toMatchObject({
        code: "ER_DUP_ENTRY",
      });

      // Several rows of one shard in one statement; values knex builds (raw SQL) work too.
      const rows = many.map((k) => ({ ...user(k), created: db.raw("NOW()") }));
      expect((await router.insert("users", rows)).affectedRows).toBe(3);
      for (const k of many) expect(await f.whereIs("users", "user_id", k)).toEqual([owner]);

      // Rows on two shards, a row without its key, a table that is not sharded, no rows:
      // refused with the reason, nothing written.
      await expect(
        router.insert("users", [user(fresh as number), user(elsewhere as number)]),
      ).rejects.toMatchObject({ code: "CROSS_SHARD" });
      const { user_id: _, ...keyless } = user(444_300);
      await expect(router.insert("users", keyless)).rejects.toMatchObject({
        code: "BAD_ARGUMENT",
        message: expect.stringContaining("row 1 has no value for users.user_id"),
      });
      await expect(router.insert("nope", user(444_301))).rejects.toMatchObject({
        code: "UNKNOWN_TABLE",
      });
      await expect(router.insert("users", [])).rejects.toMatchObject({ code: "BAD_ARGUMENT" });
      for (const k of [fresh, elsewhere, 444_301])
        expect(await f.whereIs("users", "user_id", k)).toEqual([]);

      // A frozen range refuses the insert until the deadline, saying why; nothing is written.
      await f.whileFrozen(frozenKey, async () => {
        const error = (await router
          .insert("users", user(frozenKey), { deadlineMs: 200 })
          .catch((e: unknown) => e)) as RouterError;
        expect(error.code).toBe("DEADLINE_EXCEEDED");
        expect((error.cause as RouterError).code).toBe("FENCED");
        expect((error.cause as RouterError).message).toContain("frozen for a cutover");
      });
      expect(await f.whereIs("users", "user_id", frozenKey)).toEqual([]);
    } finally {
      await f.removeAll("users", "user_id", [key, ...many, fresh, elsewhere, frozenKey]);
    }
  });

  it("refuses rows that are not objects, naming the row, and writes nothing", async () => {
    for (const rows of [null, 42, "row", [{ ...user(444_801) }, null]]) {
      const error = await router.insert("users", rows as never).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "BAD_ARGUMENT" });
      expect((error as Error).message).toMatch(/^insert\(\)'s row \d must be an object/);
    }
    expect(await f.whereIs("users", "user_id", 444_801)).toEqual([]);
  });

  it("a one-statement insert holds the fence's shared lock: a freeze waits for it, and later inserts see the freeze", async () => {
    const key = 444_601;
    const target = router.locate(key);
    const db = f.shardDb[target.shard] as Knex;
    const sql = fencedInsertSql(
      "users",
      ["user_id", "name", "country", "amount"],
      (id) => `\`${id}\``,
    );
    const bindings = (k: number) => [
      k,
      "lock",
      "de",
      1,
      target.range.start,
      target.ksid,
      target.ksid,
    ];
    const rangeRow = (k: Knex) =>
      k(FENCE_TABLE).where({ kind: "range", range_start: target.range.start });
    try {
      // An insert in flight: the statement the router sends, held open in a transaction; at
      // READ COMMITTED, where a plain INSERT ... SELECT would not lock what it reads.
      await db.transaction(
        async (inFlight) => {
          const [result] = (await inFlight.raw(sql, bindings(key))) as [{ affectedRows: number }];
          expect(result.affectedRows).toBe(1);
          await f.expectFreezeToWait(key);
        },
        { isolationLevel: "read committed" },
      );
      expect(await f.whereIs("users", "user_id", key)).toEqual([target.shard]);
      // Once the freeze is committed, the same statement inserts nothing.
      await rangeRow(db).update({ state: "frozen" });
      try {
        const [refused] = (await db.raw(sql, bindings(key + 1))) as [{ affectedRows: number }];
        expect(refused.affectedRows).toBe(0);
      } finally {
        await rangeRow(db).update({ state: "serving" });
      }
      expect(await f.whereIs("users", "user_id", key + 1)).toEqual([]);
    } finally {
      await f.removeAll("users", "user_id", [key, key + 1]);
    }
  });
});

describe("pinned keys", () => {
  it("an insert for a range holding a pinned key takes the full check; a stale router lands on the pin's shard", async () => {
    const key = 444_701;
    const home = router.locate(key);
    const pinTo = home.shard === "s3" ? "s1" : "s3";
    const stale = await f.staleRouter();
    const neighbour = [...Array(100_000).keys()]
      .map((i) => i + 600_000)
      .find((k) => rangeContains(home.range, hashKeyFunction.ksid(k))) as number;
    await f.store.pinKey(key, pinTo);
    await router.refresh();
    try {
      // The stale router does not know the pin. The home shard's range row counts it, so the
      // one-statement insert is refused there, and the retry lands on the pin's shard only.
      expect(stale.locate(key).shard).toBe(home.shard);
      expect((await stale.insert("users", user(key))).affectedRows).toBe(1);
      expect(await f.whereIs("users", "user_id", key)).toEqual([pinTo]);
      expect(stale.locate(key)).toMatchObject({ shard: pinTo, pinned: true });
      // Another key of that range still inserts on the home shard, through the full check.
      await router.insert("users", user(neighbour));
      expect(await f.whereIs("users", "user_id", neighbour)).toEqual([home.shard]);
    } finally {
      await stale.close();
      await f.removeAll("users", "user_id", [key, neighbour]);
      await f.store.unpinKey(key);
      await router.refresh();
    }
  });

  it("routes a pinned key to its shard, and its range owner's fence refuses it", async () => {
    const key = "whale-tenant";
    const home = router.locate(key).shard;
    const pinTo = home === "s3" ? "s1" : "s3";
    await f.store.pinKey(key, pinTo);
    await router.refresh();
    try {
      expect(router.locate(key)).toMatchObject({ shard: pinTo, pinned: true });
      await router.write(key, (trx) =>
        trx("orders").insert({ order_id: 31337, user_id: 31337, total: 5 }),
      );
      expect(await f.whereIs("orders", "order_id", 31337)).toEqual([pinTo]);
      // A router that has not seen the pin would go to the range owner: refused there.
      const { fence } = router.locate(key);
      const refused = await (f.shardDb[home] as Knex)
        .raw("CALL shardkit_begin_fenced(?, ?)", [hashKeyFunction.ksid(key), fence.keyBytes])
        .catch((e: { errno?: number }) => e);
      expect((refused as { errno?: number }).errno).toBe(45001);
    } finally {
      await f.removeAll("orders", "order_id", [31337]);
      await f.store.unpinKey(key);
      await router.refresh();
    }
    expect(router.locate(key)).toMatchObject({ shard: home, pinned: false });
  });
});
