// Candidates for fenced single-row writes, measured with raw mysql2 on one local server (MySQL
// 8's durability defaults) against the same statement unfenced, interleaved one operation at a
// time (medians, in µs), and whether each candidate's read of the fence row holds a lock that a
// cutover's freeze must wait for (at READ COMMITTED). Prints one JSON line.
// Run after `npm run build`: node packages/router/measure/fence-candidates.mjs (N=2000 pairs).
import { MysqlDirectoryStore, parseMysqlUrl } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";
import mysql from "mysql2/promise";

const N = Number(process.env.N ?? 2000);
const ROWS = 5000;
const F = "shardkit_ownership";
const KSID = 12345; // the one range, -, covers every keyspace id
const KEY = Buffer.from("42");
const RANGE = `SELECT state, range_end, pinned_keys FROM ${F} WHERE kind = 'range' AND range_start = 0 AND key_bytes = '' LOCK IN SHARE MODE`;
const JOIN = `JOIN ${F} AS f ON f.kind = 'range' AND f.range_start = 0 AND f.key_bytes = '' AND f.range_end > ${KSID} AND f.state = 'serving' AND f.pinned_keys = 0`;
const U = "UPDATE items SET v = v + 1 WHERE id = ?";

/** Each candidate, by what it does: the statement(s) it sends for row `id`. */
const candidates = {
  update: {
    plain: (c, id) => c.query(U, [id]),
    procedure: (c, id) =>
      c.query(`CALL shardkit_begin_fenced(?, ?); ${U}; COMMIT`, [KSID, KEY, id]),
    joined: (c, id) =>
      c.query(`UPDATE items ${JOIN} SET items.v = items.v + 1 WHERE items.id = ?`, [id]),
    plainPrepared: (c, id) => c.execute(U, [id]),
    joinedPrepared: (c, id) =>
      c.execute(`UPDATE items ${JOIN} SET items.v = items.v + 1 WHERE items.id = ?`, [id]),
    subquery: (c, id) =>
      c.query(
        `${U} AND EXISTS (SELECT 1 FROM ${F} AS f WHERE f.kind = 'range' AND f.range_start = 0 AND f.key_bytes = '' AND f.range_end > ${KSID} AND f.state = 'serving' AND f.pinned_keys = 0)`,
        [id],
      ),
  },
  transaction: {
    plain: async (c, id) => {
      await c.query("START TRANSACTION");
      await c.query(U, [id]);
      await c.query("COMMIT");
    },
    procedure: async (c, id) => {
      await c.query("CALL shardkit_begin_fenced(?, ?)", [KSID, KEY]);
      await c.query(U, [id]);
      await c.query("COMMIT");
    },
    selectWithBegin: async (c, id) => {
      await c.query(`START TRANSACTION; ${RANGE}`);
      await c.query(U, [id]);
      await c.query("COMMIT");
    },
    selectWithFirstStatement: async (c, id) => {
      await c.query(`START TRANSACTION; ${RANGE}; ${U}`, [id]);
      await c.query("COMMIT");
    },
  },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Times each candidate of `group` on `conn`, interleaved, and returns µs and ratios to `plain`. */
async function measure(conn, group) {
  const names = Object.keys(group);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < N; i++) {
    for (const n of i % 2 === 0 ? names : [...names].reverse()) {
      const t0 = process.hrtime.bigint();
      await group[n](conn, 1 + ((i * 7) % ROWS));
      times[n].push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
  }
  const base = median(times.plain);
  return Object.fromEntries(
    names.map((n) => [
      n,
      { us: Math.round(median(times[n])), ratio: +(median(times[n]) / base).toFixed(2) },
    ]),
  );
}

/** DELETE candidates, each of a row an untimed INSERT put back just before (µs, ratio to plain). */
async function measureDeletes(conn) {
  const group = {
    plain: (id) => conn.query("DELETE FROM items WHERE id = ?", [id]),
    joined: (id) => conn.query(`DELETE items FROM items ${JOIN} WHERE items.id = ?`, [id]),
    plainPrepared: (id) => conn.execute("DELETE FROM items WHERE id = ?", [id]),
    joinedPrepared: (id) =>
      conn.execute(`DELETE items FROM items ${JOIN} WHERE items.id = ?`, [id]),
    subquery: (id) =>
      conn.query(
        `DELETE FROM items WHERE id = ? AND EXISTS (SELECT 1 FROM ${F} AS f WHERE f.kind = 'range' AND f.range_start = 0 AND f.key_bytes = '' AND f.range_end > ${KSID} AND f.state = 'serving' AND f.pinned_keys = 0)`,
        [id],
      ),
  };
  const names = Object.keys(group);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  let id = 1_000_000;
  for (let i = 0; i < N; i++) {
    for (const n of i % 2 === 0 ? names : [...names].reverse()) {
      await conn.query("INSERT INTO items (id, v, payload) VALUES (?, 1, 'x')", [++id]);
      const t0 = process.hrtime.bigint();
      const [r] = await group[n](id);
      times[n].push(Number(process.hrtime.bigint() - t0) / 1e3);
      if (r.affectedRows !== 1) throw new Error(`${n} deleted ${r.affectedRows} rows`);
    }
  }
  const base = median(times.plain);
  return Object.fromEntries(
    names.map((n) => [
      n,
      { us: Math.round(median(times[n])), ratio: +(median(times[n]) / base).toFixed(2) },
    ]),
  );
}

/** Whether a freeze of the range row waits while `sql` runs in an open READ COMMITTED transaction. */
async function freezeWaits(a, b, sql, isolation = "READ COMMITTED") {
  await a.query(`SET SESSION TRANSACTION ISOLATION LEVEL ${isolation}`);
  await a.query("START TRANSACTION");
  await a.query(sql, [1]);
  await b.query("SET SESSION innodb_lock_wait_timeout = 1");
  try {
    await b.query(`UPDATE ${F} SET state = 'frozen' WHERE kind = 'range' AND range_start = 0`);
    await b.query(`UPDATE ${F} SET state = 'serving' WHERE kind = 'range' AND range_start = 0`);
    return false;
  } catch (error) {
    return error.code === "ER_LOCK_WAIT_TIMEOUT";
  } finally {
    await a.query("ROLLBACK");
  }
}

const fleet = await startFleet({
  servers: 1,
  serverArgs: ["--sync-binlog=1", "--innodb-flush-log-at-trx-commit=1"],
});
try {
  const server = fleet.servers[0];
  const store = new MysqlDirectoryStore({ directory: await server.createDatabase("dir") });
  await store.init();
  const url = await server.createDatabase("s1");
  await store.addShard({ name: "s1", ...parseMysqlUrl(url) });
  const e = parseMysqlUrl(url);
  const open = () =>
    mysql.createConnection({
      host: e.host,
      port: e.port,
      user: e.user,
      password: e.password,
      database: e.database,
      multipleStatements: true,
    });
  const [a, b] = [await open(), await open()];
  await a.query(
    "CREATE TABLE items (id BIGINT PRIMARY KEY, v INT NOT NULL, payload VARCHAR(100) NOT NULL)",
  );
  await store.addTable({ name: "items", keyColumn: "id", keyFunction: "hash" });
  await store.layoutEven(1);
  const rows = Array.from({ length: ROWS }, (_, i) => [i + 1, i, `row ${i + 1}`]);
  await a.query("INSERT INTO items (id, v, payload) VALUES ?", [rows]);
  const out = { n: N };
  for (const [name, group] of Object.entries(candidates)) out[name] = await measure(a, group);
  out.delete = await measureDeletes(a);
  out.freezeWaits = {
    joined: await freezeWaits(
      a,
      b,
      `UPDATE items ${JOIN} SET items.v = items.v + 1 WHERE items.id = ?`,
    ),
    joinedDelete: await freezeWaits(a, b, `DELETE items FROM items ${JOIN} WHERE items.id = ?`),
    subqueryRepeatableRead: await freezeWaits(
      a,
      b,
      `${U} AND EXISTS (SELECT 1 FROM ${F} WHERE kind = 'range' AND range_start = 0 AND state = 'serving')`,
      "REPEATABLE READ",
    ),
    subquery: await freezeWaits(
      a,
      b,
      `${U} AND EXISTS (SELECT 1 FROM ${F} WHERE kind = 'range' AND range_start = 0 AND state = 'serving')`,
    ),
    rangeSelect: await freezeWaits(
      a,
      b,
      `${RANGE.replace("range_start = 0", "range_start = 0 AND 1 = ?")}`,
    ),
  };
  console.log(JSON.stringify(out));
  await a.end();
  await b.end();
} finally {
  await fleet.stop();
}
