// Router overhead, measured side by side in one run against one local server of the fleet:
// each routed operation against the same operation on a plain knex pool, as a ratio.
import { MysqlDirectoryStore, parseMysqlUrl } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";
import { createRouter } from "@shardkit/router";
import { cpuApart } from "./cpu-apart.mjs";
import { plainKnex } from "./plain-knex.mjs";
import { orderByLimit100 } from "./scatter-queries.mjs";
import { figures, sideBySide } from "./side-by-side.mjs";

const ROWS_PER_SHARD = 5000;

/** @typedef {import("knex").Knex} Knex */
/** @typedef {{ id: number, v: number, payload: string }} Item */

/** Runs the router benchmarks and returns their figures. */
export async function run() {
  // MySQL 8's durability defaults: every commit syncs the redo log and the binlog.
  const fleet = await startFleet({
    servers: 1,
    serverArgs: ["--sync-binlog=1", "--innodb-flush-log-at-trx-commit=1"],
  });
  /** @type {Knex[]} */
  const knexes = [];
  /** @type {import("@shardkit/router").Router | undefined} */
  let router;
  let release = () => {};
  try {
    const server = fleet.servers[0];
    if (!server) throw new Error("the fleet started no server");
    const store = new MysqlDirectoryStore({ directory: await server.createDatabase("dir") });
    await store.init();
    const shardUrls = [];
    for (let i = 1; i <= 4; i++) {
      const url = await server.createDatabase(`s${i}`);
      shardUrls.push(url);
      await store.addShard({ name: `s${i}`, ...parseMysqlUrl(url) });
      // The baseline: the same queries on a plain knex pool to the owner.
      const k = plainKnex(url, { min: 1, max: 10 });
      knexes.push(k);
      await k.raw(
        "CREATE TABLE items (id BIGINT PRIMARY KEY, v INT NOT NULL, payload VARCHAR(100) NOT NULL, KEY by_v (v))",
      );
    }
    await store.addTable({ name: "items", keyColumn: "id", keyFunction: "hash" });
    await store.layoutEven(4);
    const routed = await createRouter({
      directory: store,
      pollIntervalMs: 1000,
      heartbeatId: false,
    });
    router = routed;

    // Load rows straight into their owners.
    /** @type {Map<string, Item[]>} */
    const byShard = new Map();
    for (
      let id = 1;
      byShard.size < 4 || [...byShard.values()].some((l) => l.length < ROWS_PER_SHARD);
      id++
    ) {
      const shard = routed.locate(id).shard;
      const list = byShard.get(shard) ?? [];
      if (list.length < ROWS_PER_SHARD)
        list.push({ id, v: (id * 7919) % 100_000, payload: `row ${id}` });
      byShard.set(shard, list);
    }
    for (const [shard, rows] of byShard) {
      const k = /** @type {Knex} */ (knexes[Number(shard.slice(1)) - 1]);
      for (let i = 0; i < rows.length; i += 1000) await k("items").insert(rows.slice(i, i + 1000));
    }
    const s1 = /** @type {Knex} */ (knexes[0]);
    // The server and this process on CPUs of their own, as on two machines (see cpu-apart.mjs).
    const apart = await cpuApart(s1);
    release = apart.release;
    const s1Keys = (byShard.get("s1") ?? []).map((r) => r.id);

    // 1. Point select by key: routed vs the same knex query on a plain pool to the owner.
    const select = await sideBySide(
      (i) =>
        routed
          .read(s1Keys[i % s1Keys.length])("items")
          .where({ id: s1Keys[i % s1Keys.length] })
          .first(),
      (i) =>
        s1("items")
          .where({ id: s1Keys[i % s1Keys.length] })
          .first(),
      10_000,
    );

    // 2. Single-row insert: routed and fenced vs a plain autocommit insert, on the same shard.
    /** @type {number[]} */
    const fresh = [];
    for (let id = 10_000_000; fresh.length < 60_000; id++)
      if (routed.locate(id).shard === "s1") fresh.push(id);
    let next = 0;
    /** An operation that inserts one new row of s1, with the id it is given. */
    const withFreshId =
      (/** @type {(id: number, row: Item) => Promise<unknown>} */ insert) => () => {
        const id = /** @type {number} */ (fresh[next++]);
        return insert(id, { id, v: 1, payload: "x" });
      };
    const plainInsert = withFreshId((_, row) => s1("items").insert(row));
    const routedInsert = withFreshId((_, row) => routed.insert("items", row));
    // Warm both paths up (pools, the router's statement cache) before timing.
    for (let i = 0; i < 200; i++) {
      await routedInsert();
      await plainInsert();
    }
    const insert = await sideBySide(routedInsert, plainInsert, 6000);
    // The same insert as one statement through writeOne (fence procedure, statement, COMMIT).
    const oneInsert = await sideBySide(
      withFreshId((id, row) => routed.writeOne(id, (k) => k("items").insert(row))),
      plainInsert,
      3000,
    );
    // The same insert through write(), a transaction with the caller's function inside.
    const txInsert = await sideBySide(
      withFreshId((id, row) => routed.write(id, (trx) => trx("items").insert(row))),
      plainInsert,
      3000,
    );

    // Updates and deletes of one row of s1 by key, and a transaction with the same UPDATE:
    // routed against the same statement through a plain knex pool.
    const rowOf = (/** @type {number} */ i) => /** @type {number} */ (s1Keys[i % s1Keys.length]);
    // Every UPDATE changes its row (an UPDATE that changes nothing writes no binlog and syncs nothing).
    let tick = 1_000_000;
    const plainUpdate = (/** @type {Knex} */ k, /** @type {number} */ i) =>
      k("items")
        .where({ id: rowOf(i) })
        .update({ v: tick++ });
    const routedUpdate = await sideBySide(
      (i) => routed.update("items", rowOf(i), { v: tick++ }),
      (i) => plainUpdate(s1, i),
      6000,
    );
    const oneUpdate = await sideBySide(
      (i) => routed.writeOne(rowOf(i), (k) => plainUpdate(k, i)),
      (i) => plainUpdate(s1, i),
      3000,
    );
    const txUpdate = await sideBySide(
      (i) => routed.write(rowOf(i), (trx) => plainUpdate(trx, i)),
      (i) => s1.transaction((trx) => plainUpdate(trx, i)),
      6000,
    );
    // Each delete removes a row an untimed insert put there just before.
    const deleted = fresh.slice(next, next + 12_000);
    next += 12_000;
    const routedDelete = await sideBySide(
      async (i) => {
        const id = /** @type {number} */ (deleted[2 * i]);
        // Each side puts its row back the way it deletes it (the router's own connections).
        await routed.insert("items", { id, v: 1, payload: "x" });
        const t0 = process.hrtime.bigint();
        await routed.delete("items", id);
        return { timedNs: Number(process.hrtime.bigint() - t0) };
      },
      async (i) => {
        const id = /** @type {number} */ (deleted[2 * i + 1]);
        await s1("items").insert({ id, v: 1, payload: "x" });
        const t0 = process.hrtime.bigint();
        await s1("items").where({ id }).delete();
        return { timedNs: Number(process.hrtime.bigint() - t0) };
      },
      6000,
    );

    // 3. Scatter ORDER BY v LIMIT 100 over 4 shards vs the same four queries run by hand in
    // parallel on plain pools (what an application would otherwise write), both timed whole.
    const { routed: scatterOnce, byHand } = orderByLimit100(routed, knexes);
    for (let i = 0; i < 200; i++) {
      await scatterOnce();
      await byHand();
    }
    const scatter = await sideBySide(scatterOnce, byHand, 3000);

    // 4. Ids from nextId.
    const N = 200_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await routed.nextId("bench");
    const idsPerSecond = N / (Number(process.hrtime.bigint() - t0) / 1e9);

    await store.close();
    return {
      placement: apart.placement,
      pointSelect: figures(select, 1.05),
      fencedInsert: figures(insert, 1.15),
      fencedStatementInsert: figures(oneInsert),
      fencedTransactionInsert: figures(txInsert),
      fencedUpdate: figures(routedUpdate, 1.15),
      fencedDelete: figures(routedDelete, 1.15),
      fencedTransactionUpdate: figures(txUpdate, 1.1),
      fencedStatementUpdate: figures(oneUpdate),
      scatterOrderByLimit100: figures(scatter, 1.3),
      idsPerSecond,
    };
  } finally {
    release();
    await router?.close();
    await Promise.all(knexes.map((k) => k.destroy()));
    await fleet.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(await run(), null, 2));
