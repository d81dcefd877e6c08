import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  FENCE_TABLE,
  fencedInsertSql,
  hashKeyFunction,
  MysqlDirectoryStore,
  parseKeyRange,
  parseMysqlUrl,
  rangeContains,
} from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { createRouter, type Router, RouterError, ScatterError } from "@shardkit/router";
import knexFactory, { type Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let fleet: Fleet;
let store: MysqlDirectoryStore;
let directoryUrl: string;
let router: Router;
const shardDb: Record<string, Knex> = {};
let reference: Knex;

const USERS = `CREATE TABLE users (
  user_id BIGINT NOT NULL PRIMARY KEY,
  name VARCHAR(50) NOT NULL,
  country VARCHAR(10) NOT NULL,
  amount DECIMAL(10,2) NOT NULL,
  created DATETIME NULL
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`;
const ORDERS =
  "CREATE TABLE orders (order_id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, total INT NOT NULL)";

function knexOf(url: string): Knex {
  const e = parseMysqlUrl(url);
  return knexFactory({
    client: "mysql2",
    connection: {
      host: e.host,
      port: e.port,
      user: e.user,
      password: e.password,
      database: e.database,
      supportBigNumbers: true,
    },
    pool: { min: 0, max: 4 },
  });
}

const NAMES = ["alice", "Bob", "carol", "Dave", "eve", "Émile", "zoë", "Zack", "ábel", "yan"];
const COUNTRIES = ["de", "FR", "fr", "us", "br"];

function user(i: number) {
  return {
    user_id: i,
    name: `${NAMES[i % NAMES.length]}${i % 7}`,
    country: COUNTRIES[i % COUNTRIES.length] as string,
    amount: ((i * 37) % 1000) / 4,
    created: i % 11 === 0 ? null : new Date(Date.UTC(2024, 0, 1 + (i % 300))),
  };
}

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
  const [a, b] = fleet.servers;
  if (!a || !b) throw new Error("no servers");
  directoryUrl = await a.createDatabase("dir");
  store = new MysqlDirectoryStore({ directory: directoryUrl });
  await store.init();
  const urls = {
    s1: await a.createDatabase("s1"),
    s2: await b.createDatabase("s2"),
    s3: await b.createDatabase("s3"),
  };
  for (const [name, url] of Object.entries(urls)) {
    await store.addShard({ name, ...parseMysqlUrl(url) });
    shardDb[name] = knexOf(url);
    await shardDb[name].raw(USERS);
    await shardDb[name].raw(ORDERS);
  }
  reference = knexOf(await a.createDatabase("reference"));
  await reference.raw(USERS);
  await reference.raw(ORDERS);
  await store.addTable({ name: "users", keyColumn: "user_id", keyFunction: "hash" });
  await store.addTable({ name: "orders", keyColumn: "user_id", keyFunction: "hash" });
  await store.layoutEven(6);
  router = await createRouter({ directory: directoryUrl, pollIntervalMs: 100 });
  for (let i = 1; i <= 300; i++) {
    const row = user(i);
    await router.write(i, (trx) => trx("users").insert(row));
    await reference("users").insert(row);
  }
}, 120_000);

afterAll(async () => {
  await router?.close();
  await Promise.all([...Object.values(shardDb), reference].filter(Boolean).map((k) => k.destroy()));
  await store?.close();
  await fleet?.stop();
});

/** Runs `fn` while the owner's ownership row for the key's range is frozen, as during a cutover. */
async function whileFrozen<T>(key: unknown, fn: () => Promise<T>): Promise<T> {
  const target = router.locate(key);
  const rows = () =>
    (shardDb[target.shard] as Knex)("shardkit_ownership").where({
      kind: "range",
      range_start: target.range.start,
    });
  await rows().update({ state: "frozen" });
  try {
    return await fn();
  } finally {
    await rows().update({ state: "serving" });
  }
}

async function whereIs(table: string, column: string, key: number): Promise<string[]> {
  const out: string[] = [];
  for (const [name, db] of Object.entries(shardDb)) {
    if ((await db(table).where(column, key)).length > 0) out.push(name);
  }
  return out;
}

describe("routing reads and writes", () => {
  it("writes each row to the shard that owns its key, and only there", async () => {
    const snap = await store.snapshot();
    for (const key of [1, 2, 3, 77, 150, 299]) {
      const ksid = hashKeyFunction.ksid(key);
      const owner = snap.ranges.find((r) => rangeContains(r.range, ksid))?.shard;
      expect(await whereIs("users", "user_id", key)).toEqual([owner]);
      expect(router.locate(key).shard).toBe(owner);
    }
    const counts = await Promise.all(
      Object.values(shardDb).map(async (db) => Number((await db("users").count({ n: "*" }))[0]?.n)),
    );
    expect(counts.reduce((a, b) => a + b)).toBe(300);
    expect(counts.every((c) => c > 0)).toBe(true);
  });

  it("reads a key through knex bound to its owner", async () => {
    for (const key of [5, 42, 250]) {
      const row = await router.read(key).from("users").where({ user_id: key }).first();
      expect(row).toMatchObject({ user_id: key, name: user(key).name });
    }
  });

  it("reads many keys with one query per shard, exactly as one table would", async () => {
    const keys = [3, 9, 27, 81, 243, 100, 200, 299, 1000];
    const rows = await router.readMany<{ user_id: number }>("users", keys, (qb) =>
      qb.select("user_id", "name"),
    );
    const expected = await reference("users").whereIn("user_id", keys).select("user_id", "name");
    expect(rows.sort((a, b) => a.user_id - b.user_id)).toEqual(
      expected.sort((a, b) => a.user_id - b.user_id),
    );
  });

  it("writes several keys of one shard in one transaction, and refuses keys on two shards", async () => {
    const onS1 = [...Array(300).keys()]
      .map((i) => i + 1000)
      .filter((k) => router.locate(k).shard === "s1")
      .slice(0, 3);
    await router.write(onS1, async (trx) => {
      for (const k of onS1) await trx("orders").insert({ order_id: k, user_id: k, total: 1 });
    });
    expect((await shardDb.s1?.("orders").whereIn("order_id", onS1))?.length).toBe(3);
    const onS2 = [...Array(300).keys()]
      .map((i) => i + 1000)
      .find((k) => router.locate(k).shard === "s2");
    const error = await router.write([onS1[0], onS2], async () => "never").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RouterError);
    expect((error as RouterError).code).toBe("CROSS_SHARD");
    await shardDb.s1?.("orders").whereIn("order_id", onS1).delete();
  });

  it("rolls back a write whose function fails, and rethrows the caller's error as is", async () => {
    const boom = new Error("caller failed");
    await expect(
      router.write(4242, async (trx) => {
        await trx("users").insert(user(4242));
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await whereIs("users", "user_id", 4242)).toEqual([]);
  });

  it("refuses a write the owner's fence refuses, until the deadline, without writing", async () => {
    const key = 777_001;
    const target = router.locate(key);
    await whileFrozen(key, async () => {
      const error = (await router
        .write(key, (trx) => trx("users").insert(user(key)), { deadlineMs: 300 })
        .catch((e: unknown) => e)) as RouterError;
      expect(error.code).toBe("DEADLINE_EXCEEDED");
      expect(error.shard).toBe(target.shard);
      expect((error.cause as RouterError).code).toBe("FENCED");
      expect(error.message).not.toMatch(/password/i);
    });
    expect(await whereIs("users", "user_id", key)).toEqual([]);
  });

  it("writes one statement fenced in one round trip, refused like write() and rolled back on error", async () => {
    const key = 666_001;
    const result = await router.writeOne(key, (k) => k("users").insert(user(key)));
    expect(result.affectedRows).toBe(1);
    expect(await whereIs("users", "user_id", key)).toEqual([router.locate(key).shard]);
    // A failing statement commits nothing and leaves the connection usable.
    await expect(router.writeOne(key, (k) => k("users").insert(user(key)))).rejects.toMatchObject({
      code: "ER_DUP_ENTRY",
    });
    const updated = await router.writeOne(key, (k) =>
      k("users").where({ user_id: key }).update({ name: "renamed" }),
    );
    expect(updated.affectedRows).toBe(1);
    await whileFrozen(key, async () => {
      const error = (await router
        .writeOne(key, (k) => k("users").where({ user_id: key }).delete(), { deadlineMs: 200 })
        .catch((e: unknown) => e)) as RouterError;
      expect(error.code).toBe("DEADLINE_EXCEEDED");
    });
    const db = shardDb[router.locate(key).shard] as Knex;
    expect(await db("users").where({ user_id: key }).first()).toMatchObject({ name: "renamed" });
    await router.writeOne(key, (k) => k("users").where({ user_id: key }).delete());
    expect(await whereIs("users", "user_id", key)).toEqual([]);
  });

  it("inserts rows by their key column, fenced, and refuses bad rows with a clear error", async () => {
    const key = 444_001;
    const owner = router.locate(key).shard;
    const db = shardDb[owner] as Knex;
    const onOwner = (from: number) =>
      [...Array(100).keys()].map((i) => from + i).filter((k) => router.locate(k).shard === owner);
    const elsewhere = [...Array(100).keys()]
      .map((i) => 444_500 + i)
      .find((k) => router.locate(k).shard !== owner) as number;

    expect(await router.insert("users", user(key))).toEqual({ affectedRows: 1, insertId: 0 });
    expect(await whereIs("users", "user_id", key)).toEqual([owner]);
    // The values land as a plain knex insert would store them (dates, decimals, NULLs).
    await reference("users").insert(user(key));
    expect(await db("users").where({ user_id: key }).first()).toEqual(
      await reference("users").where({ user_id: key }).first(),
    );
    await expect(router.insert("users", user(key))).rejects.toMatchObject({ code: "ER_DUP_ENTRY" });

    // Several rows of one shard in one statement; values knex builds (raw SQL) work too.
    const many = onOwner(444_100).slice(0, 3);
    const rows = many.map((k) => ({ ...user(k), created: db.raw("NOW()") }));
    expect((await router.insert("users", rows)).affectedRows).toBe(3);
    for (const k of many) expect(await whereIs("users", "user_id", k)).toEqual([owner]);

    // Rows on two shards, a row without its key, a table that is not sharded, no rows:
    // refused with the reason, nothing written.
    const [fresh] = onOwner(444_200);
    await expect(
      router.insert("users", [user(fresh as number), user(elsewhere)]),
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
    for (const k of [fresh as number, elsewhere, 444_301])
      expect(await whereIs("users", "user_id", k)).toEqual([]);

    // A frozen range refuses the insert until the deadline, saying why; nothing is written.
    const frozenKey = 444_400;
    await whileFrozen(frozenKey, async () => {
      const error = (await router
        .insert("users", user(frozenKey), { deadlineMs: 200 })
        .catch((e: unknown) => e)) as RouterError;
      expect(error.code).toBe("DEADLINE_EXCEEDED");
      expect((error.cause as RouterError).code).toBe("FENCED");
      expect((error.cause as RouterError).message).toContain("frozen for a cutover");
    });
    expect(await whereIs("users", "user_id", frozenKey)).toEqual([]);
    await db("users")
      .whereIn("user_id", [key, ...many])
      .delete();
    await reference("users").where({ user_id: key }).delete();
  });

  it("a one-statement insert holds the fence's shared lock: a freeze waits for it, and later inserts see the freeze", async () => {
    const key = 444_601;
    const target = router.locate(key);
    const db = shardDb[target.shard] as Knex;
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
    // An insert in flight: the statement the router sends, held open in a transaction; at
    // READ COMMITTED, where a plain INSERT ... SELECT would not lock what it reads.
    await db.transaction(
      async (inFlight) => {
        const [result] = (await inFlight.raw(sql, bindings(key))) as [{ affectedRows: number }];
        expect(result.affectedRows).toBe(1);
        const cutover = db.transaction(async (trx) => {
          await trx.raw("SET SESSION innodb_lock_wait_timeout = 1");
          await rangeRow(trx).update({ state: "frozen" });
        });
        await expect(cutover).rejects.toMatchObject({ code: "ER_LOCK_WAIT_TIMEOUT" });
      },
      { isolationLevel: "read committed" },
    );
    expect(await whereIs("users", "user_id", key)).toEqual([target.shard]);
    // Once the freeze is committed, the same statement inserts nothing.
    await rangeRow(db).update({ state: "frozen" });
    try {
      const [refused] = (await db.raw(sql, bindings(key + 1))) as [{ affectedRows: number }];
      expect(refused.affectedRows).toBe(0);
    } finally {
      await rangeRow(db).update({ state: "serving" });
    }
    expect(await whereIs("users", "user_id", key + 1)).toEqual([]);
    await db("users").where({ user_id: key }).delete();
  });

  it("an insert for a range holding a pinned key takes the full check; a stale router lands on the pin's shard", async () => {
    const key = 444_701;
    const home = router.locate(key);
    const pinTo = home.shard === "s3" ? "s1" : "s3";
    const stale = await createRouter({
      directory: directoryUrl,
      pollIntervalMs: 0,
      heartbeatId: false,
    });
    await store.pinKey(key, pinTo);
    await router.refresh();
    const neighbour = [...Array(100_000).keys()]
      .map((i) => i + 600_000)
      .find((k) => rangeContains(home.range, hashKeyFunction.ksid(k))) as number;
    try {
      // The stale router does not know the pin. The home shard's range row counts it, so the
      // one-statement insert is refused there, and the retry lands on the pin's shard only.
      expect(stale.locate(key).shard).toBe(home.shard);
      expect((await stale.insert("users", user(key))).affectedRows).toBe(1);
      expect(await whereIs("users", "user_id", key)).toEqual([pinTo]);
      expect(stale.locate(key)).toMatchObject({ shard: pinTo, pinned: true });
      // Another key of that range still inserts on the home shard, through the full check.
      await router.insert("users", user(neighbour));
      expect(await whereIs("users", "user_id", neighbour)).toEqual([home.shard]);
    } finally {
      await stale.close();
      await (shardDb[pinTo] as Knex)("users").where({ user_id: key }).delete();
      await (shardDb[home.shard] as Knex)("users").where({ user_id: neighbour }).delete();
      await store.unpinKey(key);
      await router.refresh();
    }
  });

  it("routes a pinned key to its shard, and its range owner's fence refuses it", async () => {
    const key = "whale-tenant";
    const home = router.locate(key).shard;
    const pinTo = home === "s3" ? "s1" : "s3";
    await store.pinKey(key, pinTo);
    await router.refresh();
    try {
      expect(router.locate(key)).toMatchObject({ shard: pinTo, pinned: true });
      await router.write(key, (trx) =>
        trx("orders").insert({ order_id: 31337, user_id: 31337, total: 5 }),
      );
      expect(await whereIs("orders", "order_id", 31337)).toEqual([pinTo]);
      // A router that has not seen the pin would go to the range owner: refused there.
      const { fence } = router.locate(key);
      const refused = await (shardDb[home] as Knex)
        .raw("CALL shardkit_begin_fenced(?, ?)", [hashKeyFunction.ksid(key), fence.keyBytes])
        .catch((e: { errno?: number }) => e);
      expect((refused as { errno?: number }).errno).toBe(45001);
    } finally {
      await shardDb[pinTo]?.("orders").where({ order_id: 31337 }).delete();
      await store.unpinKey(key);
      await router.refresh();
    }
    expect(router.locate(key)).toMatchObject({ shard: home, pinned: false });
  });

  it("has no unfenced write path except the one named unsafe", async () => {
    const key = 888_001;
    // The knex handed out for reads runs READ ONLY sessions.
    await expect(router.read(key)("users").insert(user(key))).rejects.toMatchObject({
      code: "ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION",
    });
    await expect(
      router.readShard("s1").transaction((trx) => trx("users").insert(user(key))),
    ).rejects.toMatchObject({ code: "ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION" });
    expect(await whereIs("users", "user_id", key)).toEqual([]);
    const target = router.locate(key);
    const db = shardDb[target.shard] as Knex;
    await whileFrozen(key, () =>
      router.unsafeWriteWithoutFence(key, (trx) => trx("users").insert(user(key))),
    );
    expect(await whereIs("users", "user_id", key)).toEqual([target.shard]);
    await db("users").where({ user_id: key }).delete();
  });
});

describe("scatter", () => {
  it("concatenates every shard's rows", async () => {
    const { rows, failed } = await router.scatter<{ user_id: number }>({
      query: (k) => k("users").select("user_id"),
    });
    expect(failed).toEqual([]);
    expect(rows.map((r) => r.user_id).sort((a, b) => a - b)).toEqual(
      [...Array(300).keys()].map((i) => i + 1),
    );
  });

  it.each([
    [[{ column: "amount", order: "desc" }, { column: "user_id" }], 10, 0],
    [[{ column: "amount", order: "desc" }, { column: "user_id" }], 25, 40],
    [[{ column: "name" }, { column: "user_id", order: "desc" }], 30, 7],
    [[{ column: "country", order: "desc" }, { column: "name" }, { column: "user_id" }], 100, 150],
    [[{ column: "created" }, { column: "user_id" }], 20, 0],
    [[{ column: "user_id", order: "desc" }], 1000, 0],
  ] as const)(
    "ORDER BY %j LIMIT %d OFFSET %d equals one big table",
    async (orderBy, limit, offset) => {
      const { rows } = await router.scatter({
        query: (k) => k("users").select("user_id", "name", "country", "amount", "created"),
        orderBy,
        limit,
        offset,
      });
      let q = reference("users").select("user_id", "name", "country", "amount", "created");
      for (const t of orderBy) q = q.orderBy(t.column, "order" in t ? t.order : "asc");
      const expected = limit === undefined ? await q : await q.limit(limit).offset(offset);
      expect(rows).toEqual(expected);
    },
  );

  it("computes COUNT, SUM, MIN, MAX and AVG, overall and per GROUP BY group", async () => {
    const aggregates = {
      n: { fn: "count" },
      total: { fn: "sum", column: "amount" },
      lo: { fn: "min", column: "amount" },
      hi: { fn: "max", column: "name" },
      mean: { fn: "avg", column: "amount" },
      dated: { fn: "count", column: "created" },
    } as const;
    const {
      rows: [all],
    } = await router.scatter({ query: (k) => k("users"), aggregates });
    const [ref] = await reference("users").select(
      reference.raw(
        "COUNT(*) AS n, SUM(amount) AS total, MIN(amount) AS lo, MAX(name) AS hi, AVG(amount) AS mean, COUNT(created) AS dated",
      ),
    );
    expect(all?.n).toBe(Number(ref.n));
    expect(all?.total).toBeCloseTo(Number(ref.total), 6);
    expect(Number(all?.lo)).toBe(Number(ref.lo));
    expect(all?.hi).toBe(ref.hi);
    expect(all?.mean).toBeCloseTo(Number(ref.mean), 4);
    expect(all?.dated).toBe(Number(ref.dated));

    const { rows: grouped } = await router.scatter({
      query: (k) => k("users").where("amount", ">", 10),
      aggregates: {
        n: { fn: "count" },
        total: { fn: "sum", column: "amount" },
        mean: { fn: "avg", column: "amount" },
      },
      groupBy: ["country"],
      orderBy: [{ column: "n", order: "desc" }],
    });
    const expected = await reference("users")
      .where("amount", ">", 10)
      .select("country", reference.raw("COUNT(*) AS n, SUM(amount) AS total, AVG(amount) AS mean"))
      .groupBy("country")
      .orderBy("n", "desc");
    // utf8mb4_general_ci groups "FR" and "fr" together, on every shard and across them.
    expect(grouped).toHaveLength(expected.length);
    for (const e of expected) {
      const g = grouped.find(
        (x) => String(x.country).toLowerCase() === String(e.country).toLowerCase(),
      );
      expect(g?.n).toBe(Number(e.n));
      expect(g?.total).toBeCloseTo(Number(e.total), 6);
      expect(g?.mean).toBeCloseTo(Number(e.mean), 4);
    }
  });

  it("handles an empty shard and an aggregate over no rows", async () => {
    // orders only on shards s1 and s2: s3 is empty.
    const keys = [...Array(400).keys()]
      .map((i) => i + 5000)
      .filter((k) => router.locate(k).shard !== "s3")
      .slice(0, 40);
    for (const k of keys) {
      await router.write(k, (trx) =>
        trx("orders").insert({ order_id: k, user_id: k, total: k % 13 }),
      );
      await reference("orders").insert({ order_id: k, user_id: k, total: k % 13 });
    }
    expect(await shardDb.s3?.("orders").count({ n: "*" })).toEqual([{ n: 0 }]);
    const { rows } = await router.scatter({
      query: (k) => k("orders").select("order_id", "total"),
      orderBy: [{ column: "total", order: "desc" }, { column: "order_id" }],
      limit: 15,
    });
    expect(rows).toEqual(
      await reference("orders")
        .select("order_id", "total")
        .orderBy([{ column: "total", order: "desc" }, "order_id"])
        .limit(15),
    );
    const { rows: none } = await router.scatter({
      query: (k) => k("orders").where("total", ">", 1000),
      aggregates: {
        n: { fn: "count" },
        s: { fn: "sum", column: "total" },
        m: { fn: "avg", column: "total" },
      },
    });
    expect(none).toEqual([{ n: 0, s: null, m: null }]);
  });

  it("scatters only to the shards a key range covers", async () => {
    const snap = await store.snapshot();
    const first = snap.ranges[0];
    const { rows } = await router.scatter<{ user_id: number }>({
      query: (k) => k("users").select("user_id"),
      range: "-2a",
    });
    const onOwner = await shardDb[first?.shard ?? ""]?.("users").select("user_id");
    expect(rows.length).toBe(onOwner?.length);
  });

  it("names each failing shard, or returns the others' rows with allowPartial", async () => {
    await shardDb.s2?.raw("RENAME TABLE users TO users_away");
    try {
      const error = await router
        .scatter({ query: (k) => k("users").select("user_id") })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ScatterError);
      expect((error as ScatterError).code).toBe("SHARD_UNAVAILABLE");
      expect((error as ScatterError).failures.map((f) => f.shard)).toEqual(["s2"]);
      expect((error as Error).message).toMatch(/s2 .*users/);
      const partial = await router.scatter<{ user_id: number }>({
        query: (k) => k("users").select("user_id"),
        orderBy: [{ column: "user_id" }],
        allowPartial: true,
      });
      expect(partial.failed.map((f) => f.shard)).toEqual(["s2"]);
      const expected =
        Number((await shardDb.s1?.("users").count({ n: "*" }))?.[0]?.n) +
        Number((await shardDb.s3?.("users").count({ n: "*" }))?.[0]?.n);
      expect(partial.rows).toHaveLength(expected);
    } finally {
      await shardDb.s2?.raw("RENAME TABLE users_away TO users");
    }
  });
});

interface Child {
  proc: ChildProcessWithoutNullStreams;
  send(cmd: object): Promise<Record<string, unknown>>;
  ready: Promise<Record<string, unknown>>;
}

function child(pollMs: number): Child {
  const proc = spawn(process.execPath, [
    join(import.meta.dirname, "fixtures/router-child.mjs"),
    directoryUrl,
    String(pollMs),
  ]);
  const lines = createInterface({ input: proc.stdout });
  const waiting: ((v: Record<string, unknown>) => void)[] = [];
  lines.on("line", (l) => waiting.shift()?.(JSON.parse(l)));
  proc.stderr.on("data", (d) => process.stderr.write(d));
  const next = () => new Promise<Record<string, unknown>>((r) => waiting.push(r));
  const ready = next();
  return {
    proc,
    ready,
    send: (cmd) => {
      const p = next();
      proc.stdin.write(`${JSON.stringify(cmd)}\n`);
      return p;
    },
  };
}

async function stopChild(c: Child): Promise<void> {
  c.proc.stdin.end(`${JSON.stringify({ op: "exit" })}\n`);
  await new Promise((r) => c.proc.once("exit", r));
}

describe("routers in other processes", () => {
  it("a stale router's write is refused by the fence, retried, and lands on the new owner only", async () => {
    const stale = child(0);
    const staleInserter = child(0);
    try {
      const { version } = await stale.ready;
      expect((await staleInserter.ready).version).toBe(version);
      // A key that is not in the table yet, in the first range.
      const range = (await store.snapshot()).ranges[0];
      if (!range) throw new Error("no ranges");
      const from = range.shard;
      const to = from === "s3" ? "s2" : "s3";
      const [key, insertKey] = [...Array(5000).keys()]
        .map((i) => i + 900_000)
        .filter((k) => rangeContains(range.range, hashKeyFunction.ksid(k))) as [number, number];
      // Copy the range's rows to the new owner (what a move's copy step does), then switch.
      const rows = (await shardDb[from]?.("users").select()) ?? [];
      const moving = rows.filter((r) =>
        rangeContains(range.range, hashKeyFunction.ksid(Number(r.user_id))),
      );
      if (moving.length > 0) await shardDb[to]?.("users").insert(moving);
      const before = Number((await shardDb[from]?.("users").count({ n: "*" }))?.[0]?.n);
      const switched = await store.assignRange(range.range, from, to);
      expect(switched.version).toBeGreaterThan(version as number);

      const reply = await stale.send({ op: "write", key, name: "late" });
      expect(reply).toMatchObject({ ok: true, shard: to });
      expect(reply.version).toBe(switched.version);
      expect(await whereIs("users", "user_id", key)).toEqual([to]);
      // The same through insert(), whose one statement the old owner's fence refuses too.
      const inserted = await staleInserter.send({ op: "insert", key: insertKey, name: "late" });
      expect(inserted).toMatchObject({ ok: true, shard: to, version: switched.version });
      expect(await whereIs("users", "user_id", insertKey)).toEqual([to]);
      expect(Number((await shardDb[from]?.("users").count({ n: "*" }))?.[0]?.n)).toBe(before);
      // The polling router follows on its own and writes to the new owner too.
      await new Promise((r) => setTimeout(r, 300));
      expect(router.directory.version).toBe(switched.version);
      await router.write(key + 1_000_000, (trx) => trx("users").insert(user(key + 1_000_000)));
      // Put the range back for the other tests (rows of the range stay on both; drop the copies).
      await store.assignRange(range.range, to, from);
      const ids = moving.map((r) => r.user_id);
      await shardDb[to]?.("users").whereIn("user_id", ids).delete();
    } finally {
      await Promise.all([stopChild(stale), stopChild(staleInserter)]);
    }
  });

  it("hands out ids unique across routers in parallel processes, increasing within each", async () => {
    const children = [child(0), child(0), child(0)];
    try {
      await Promise.all(children.map((c) => c.ready));
      const replies = await Promise.all(
        children.map((c) => c.send({ op: "ids", sequence: "orders", n: 2500 })),
      );
      const mine: number[] = [];
      for (let i = 0; i < 1500; i++) mine.push(await router.nextId("orders"));
      const all = [...replies.flatMap((r) => r.ids as number[]), ...mine];
      expect(all).toHaveLength(3 * 2500 + 1500);
      expect(new Set(all).size).toBe(all.length);
      for (const list of [...replies.map((r) => r.ids as number[]), mine]) {
        for (let i = 1; i < list.length; i++)
          expect(list[i]).toBeGreaterThan(list[i - 1] as number);
      }
    } finally {
      await Promise.all(children.map(stopChild));
    }
  });
});

describe("errors", () => {
  it("says SHARD_UNAVAILABLE, naming the shard and range, when a shard's server is down", async () => {
    const doomed = await startFleet({ servers: 1 });
    const [a] = fleet.servers;
    const url = await a?.createDatabase("dir_down");
    const s = new MysqlDirectoryStore({ directory: url ?? "" });
    let r: Router | undefined;
    try {
      await s.init();
      await s.addShard({ name: "up", ...parseMysqlUrl((await a?.createDatabase("up")) ?? "") });
      await s.addShard({
        name: "down",
        ...parseMysqlUrl((await doomed.servers[0]?.createDatabase("down")) ?? ""),
      });
      await s.layoutEven(2);
      r = await createRouter({ directory: s, pollIntervalMs: 0, heartbeatId: false });
      await doomed.stop();
      const key = [...Array(100).keys()].find((k) => r?.locate(k).shard === "down") as number;
      const error = (await r
        .write(key, (trx) => trx.raw("SELECT 1"))
        .catch((e: unknown) => e)) as RouterError;
      expect(error).toBeInstanceOf(RouterError);
      expect(error.code).toBe("SHARD_UNAVAILABLE");
      expect(error.shard).toBe("down");
      expect(error.range).toBe(r.locate(key).range.start === 0 ? "-80" : "80-");
      const scatter = (await r
        .scatter({ query: (k) => k.select(k.raw("1 AS one")) })
        .catch((e: unknown) => e)) as ScatterError;
      expect(scatter.failures.map((f) => [f.shard, (f.error as RouterError).code])).toEqual([
        ["down", "SHARD_UNAVAILABLE"],
      ]);
    } finally {
      await r?.close();
      await s.close();
      await doomed.stop();
    }
  });

  it("says NO_OWNER when no layout exists", async () => {
    const [a] = fleet.servers;
    const url = await a?.createDatabase("empty_dir");
    const s = new MysqlDirectoryStore({ directory: url ?? "" });
    await s.init();
    const r = await createRouter({ directory: s, pollIntervalMs: 0, heartbeatId: false });
    try {
      expect(() => r.locate(1)).toThrow(expect.objectContaining({ code: "NO_OWNER" }));
    } finally {
      await r.close();
      await s.close();
    }
    expect(parseKeyRange("-2a").end).toBe(0x2a000000);
  });
});
