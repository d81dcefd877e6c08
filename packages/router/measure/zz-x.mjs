import { MysqlDirectoryStore, parseMysqlUrl } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";
import mysql from "mysql2/promise";
const N = Number(process.env.N ?? 1500);
const F = "shardkit_ownership"; const KSID = 12345;
const COND = (a) => `${a}.kind = 'range' AND ${a}.range_start = 0 AND ${a}.key_bytes = '' AND ${a}.range_end > ${KSID} AND ${a}.state = 'serving' AND ${a}.pinned_keys = 0`;
const JOIN = `JOIN ${F} AS f ON ${COND("f")}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sync = process.env.SYNC !== "0";
const fleet = await startFleet({ servers: 1, serverArgs: sync ? ["--sync-binlog=1", "--innodb-flush-log-at-trx-commit=1"] : ["--sync-binlog=0", "--innodb-flush-log-at-trx-commit=0"] });
try {
  const server = fleet.servers[0];
  const store = new MysqlDirectoryStore({ directory: await server.createDatabase("dir") });
  await store.init();
  const url = await server.createDatabase("s1");
  await store.addShard({ name: "s1", ...parseMysqlUrl(url) });
  const e = parseMysqlUrl(url);
  const conn = await mysql.createConnection({ host: e.host, port: e.port, user: e.user, password: e.password, database: e.database, multipleStatements: true });
  await conn.query("CREATE TABLE items (id BIGINT PRIMARY KEY, v INT NOT NULL, payload VARCHAR(100) NOT NULL)");
  await store.addTable({ name: "items", keyColumn: "id", keyFunction: "hash" });
  await store.layoutEven(1);
  const rows = Array.from({ length: 5000 }, (_, i) => [i + 1, i, `row ${i + 1}`]);
  await conn.query("INSERT INTO items (id, v, payload) VALUES ?", [rows]);
  const cands = (await import(process.env.CANDS)).default(F, JOIN, COND);
  for (const [n, c] of Object.entries(cands)) if (c.explain) console.log(n, JSON.stringify((await conn.query("EXPLAIN " + c.explain))[0]));
  const names = Object.keys(cands);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  let id = 1_000_000;
  for (let i = 0; i < N; i++) {
    for (const n of i % 2 === 0 ? names : [...names].reverse()) {
      const row = 1 + ((i * 7) % 5000);
      if (cands[n].prep) await cands[n].prep(conn, ++id);
      const t0 = process.hrtime.bigint();
      const [r] = await cands[n].run(conn, cands[n].prep ? id : row);
      times[n].push(Number(process.hrtime.bigint() - t0) / 1e3);
      if (r.affectedRows !== 1) throw new Error(`${n} affected ${r.affectedRows}`);
    }
  }
  const base = median(times[names[0]]);
  console.log(Object.fromEntries(names.map((n) => [n, `${Math.round(median(times[n]))}us ${(median(times[n]) / base).toFixed(2)}`])));
  await conn.end();
} finally { await fleet.stop(); }
