// Scatter at 16 shards, side by side in one run against one local server of the fleet holding
// 16 shard databases: ORDER BY ... LIMIT 100 and a GROUP BY aggregate through the router against
// the same 16 plain queries run in parallel by hand, and the router's memory for a scatter whose
// shards could each return a million rows (MariaDB's sequence engine, `seq_1_to_1000000`).
import { MysqlDirectoryStore, parseMysqlUrl } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";
import { createRouter } from "@shardkit/router";
import { plainKnex } from "./plain-knex.mjs";
import { orderByLimit100 } from "./scatter-queries.mjs";
import { figures, sideBySide } from "./side-by-side.mjs";

const SHARDS = 16;
const ROWS_PER_SHARD = 5000;

/** @typedef {import("knex").Knex} Knex */

/** Runs the scatter benchmarks at 16 shards and returns their figures. */
export async function run() {
  const fleet = await startFleet({ servers: 1 });
  /** @type {Knex[]} */
  const knexes = [];
  /** @type {import("@shardkit/router").Router | undefined} */
  let router;
  try {
    const server = fleet.servers[0];
    if (!server) throw new Error("the fleet started no server");
    const store = new MysqlDirectoryStore({ directory: await server.createDatabase("dir") });
    await store.init();
    for (let i = 1; i <= SHARDS; i++) {
      const url = await server.createDatabase(`s${i}`);
      await store.addShard({ name: `s${i}`, ...parseMysqlUrl(url) });
      const k = plainKnex(url, { min: 1, max: 4 });
      knexes.push(k);
      await k.raw(
        "CREATE TABLE items (id BIGINT PRIMARY KEY, grp INT NOT NULL, v INT NOT NULL, KEY by_v (v))",
      );
    }
    await store.addTable({ name: "items", keyColumn: "id", keyFunction: "hash" });
    await store.layoutEven(SHARDS);
    const routed = await createRouter({
      directory: store,
      pollIntervalMs: 1000,
      heartbeatId: false,
    });
    router = routed;
    // Rows straight into their owners: ids i * SHARDS + n, whichever shard owns them.
    /** @type {Map<string, { id: number, grp: number, v: number }[]>} */
    const byShard = new Map();
    for (let id = 1; id <= SHARDS * ROWS_PER_SHARD; id++) {
      const shard = routed.locate(id).shard;
      const list = byShard.get(shard) ?? [];
      list.push({ id, grp: id % 50, v: (id * 7919) % 1_000_003 });
      byShard.set(shard, list);
    }
    for (const [shard, rows] of byShard) {
      const k = /** @type {Knex} */ (knexes[Number(shard.slice(1)) - 1]);
      for (let i = 0; i < rows.length; i += 2000) await k("items").insert(rows.slice(i, i + 2000));
    }

    // ORDER BY v LIMIT 100 over the 16 shards vs the 16 queries by hand in parallel.
    const { routed: orderRouted, byHand: orderByHand } = orderByLimit100(routed, knexes);
    // A GROUP BY aggregate: 50 groups, a count and an exact sum each.
    const groupByHand = () =>
      Promise.all(
        knexes.map((k) =>
          k("items").select("grp").count({ n: "*" }).sum({ total: "v" }).groupBy("grp"),
        ),
      );
    const groupRouted = () =>
      routed.scatter({
        query: (k) => k("items"),
        groupBy: ["grp"],
        aggregates: { n: { fn: "count" }, total: { fn: "sum", column: "v" } },
      });
    for (let i = 0; i < 100; i++) {
      await orderRouted();
      await orderByHand();
      await groupRouted();
      await groupByHand();
    }
    const order = await sideBySide(orderRouted, orderByHand, 1500);
    const group = await sideBySide(groupRouted, groupByHand, 1500);

    // Memory: ORDER BY seq DESC LIMIT 100 over 16 shards that could each return 10^6 rows.
    const million = () =>
      routed.scatter({
        query: (k) => k("seq_1_to_1000000").select("seq"),
        orderBy: [{ column: "seq", order: "desc" }],
        limit: 100,
      });
    await million();
    global.gc?.();
    const before = process.memoryUsage();
    let peakHeap = before.heapUsed;
    let peakRss = before.rss;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }, 1);
    let rows = 0;
    for (let i = 0; i < 50; i++) rows = (await million()).rows.length;
    clearInterval(sampler);

    await store.close();
    return {
      shards: SHARDS,
      orderByLimit100: figures(order, 1.3),
      groupByAggregate: figures(group, 1.3),
      millionRows: {
        rowsReturned: rows,
        heapGrowthMb: (peakHeap - before.heapUsed) / 2 ** 20,
        rssGrowthMb: (peakRss - before.rss) / 2 ** 20,
      },
    };
  } finally {
    await router?.close();
    await Promise.all(knexes.map((k) => k.destroy()));
    await fleet.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(await run(), null, 2));
