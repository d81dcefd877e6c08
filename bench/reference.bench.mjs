// The lag of reference copies: a writer inserts into a reference table on its source at a
// steady 500 writes/s while the follower keeps the copies on two shards (one on the source's
// server, one on another) in step; a reader per shard notes when each row appears there.
import { setTimeout as sleep } from "node:timers/promises";
import { MysqlDirectoryStore, parseMysqlUrl } from "@shardkit/directory";
import { connect } from "@shardkit/directory/internal";
import { startFleet } from "@shardkit/fleet";
import { addReferenceTable, followReferenceTables } from "@shardkit/migrate";

const WRITES_PER_SECOND = 500;
const SECONDS = 10;
const POLL_MS = 5;
const WRITERS = 4;

/**
 * Median, 99th percentile and maximum of `xs`.
 * @param {number[]} xs
 */
function spread(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (/** @type {number} */ q) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { median: at(0.5), p99: at(0.99), max: s.at(-1) ?? 0, n: s.length };
}

/**
 * Runs the benchmark; returns the lag of each write until it is on every copy (ms).
 * @returns {Promise<{ writesPerSecond: number, lagMs: { median: number, p99: number, max: number, n: number } }>}
 */
export async function run() {
  const fleet = await startFleet({ servers: 2 });
  const [a, b] = fleet.servers;
  if (!a || !b) throw new Error("the fleet started too few servers");
  const store = new MysqlDirectoryStore({
    directory: await a.createDatabase("dir"),
    credentials: () => "",
  });
  /** @type {import("@shardkit/directory/internal").SqlConnection[]} */
  const conns = [];
  let follower;
  try {
    await store.init();
    const shardUrls = [await a.createDatabase("s1"), await b.createDatabase("s2")];
    for (const [i, url] of shardUrls.entries()) {
      const e = parseMysqlUrl(url);
      await store.addShard({
        name: `s${i + 1}`,
        host: e.host,
        port: e.port,
        user: e.user,
        database: e.database ?? "",
      });
    }
    const sourceUrl = await a.createDatabase("global");
    const source = await connect(parseMysqlUrl(sourceUrl));
    conns.push(source);
    await source.execute(
      "CREATE TABLE prices (id BIGINT PRIMARY KEY, sku VARCHAR(40) NOT NULL, price DECIMAL(10,2) NOT NULL)",
    );
    const s = parseMysqlUrl(sourceUrl);
    const added = await addReferenceTable(
      store,
      {
        table: "prices",
        source: {
          name: "global",
          host: s.host,
          port: s.port,
          user: s.user,
          database: s.database ?? "",
        },
      },
      { credentials: () => "" },
    );
    if (added.failure) throw added.failure;
    follower = followReferenceTables(store, { credentials: () => "", pollMs: 500 });
    await sleep(1500);

    const committedAt = new Map();
    const seenAt = shardUrls.map(() => new Map());
    let writing = true;
    const readers = shardUrls.map(async (url, i) => {
      const conn = await connect(parseMysqlUrl(url));
      conns.push(conn);
      // Writers commit out of id order: read from the lowest id not seen yet.
      let low = 1;
      const seen = /** @type {Map<number, number>} */ (seenAt[i]);
      while (writing || low <= committedAt.size) {
        const rows = await conn.query("SELECT id FROM prices WHERE id >= ? ORDER BY id", [low]);
        const now = performance.now();
        for (const r of /** @type {{ id: number }[]} */ (rows)) {
          if (!seen.has(Number(r.id))) seen.set(Number(r.id), now);
        }
        while (seen.has(low)) low++;
        await sleep(POLL_MS);
      }
    });
    const started = performance.now();
    const total = WRITES_PER_SECOND * SECONDS;
    // Writers on connections of their own, each taking every WRITERS-th id on its schedule, so
    // the rate holds when one insert takes longer than 1/500 s.
    const writers = [];
    for (let w = 0; w < WRITERS; w++) {
      const conn = await connect(parseMysqlUrl(sourceUrl));
      conns.push(conn);
      writers.push(
        (async () => {
          for (let id = w + 1; id <= total; id += WRITERS) {
            const wait = started + (id * 1000) / WRITES_PER_SECOND - performance.now();
            if (wait > 0) await sleep(wait);
            await conn.execute("INSERT INTO prices VALUES (?, ?, ?)", [
              id,
              `sku-${id}`,
              (id % 1000) / 10,
            ]);
            committedAt.set(id, performance.now());
          }
        })(),
      );
    }
    await Promise.all(writers);
    const elapsed = (performance.now() - started) / 1000;
    writing = false;
    await Promise.race([Promise.all(readers), sleep(30_000)]);
    const lags = [];
    for (const [id, at] of committedAt) {
      const on = seenAt.map((m) => m.get(id));
      if (on.some((t) => t === undefined)) throw new Error(`write ${id} never reached every copy`);
      lags.push(Math.max(...on.map((t) => Number(t) - at)));
    }
    return { writesPerSecond: total / elapsed, lagMs: spread(lags) };
  } finally {
    await follower?.stop();
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    await store.close();
    await fleet.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(
    `reference copy lag while the source takes ${r.writesPerSecond.toFixed(0)} writes/s: median ${r.lagMs.median.toFixed(0)} ms, p99 ${r.lagMs.p99.toFixed(0)} ms, max ${r.lagMs.max.toFixed(0)} ms (${r.lagMs.n} writes)`,
  );
}
