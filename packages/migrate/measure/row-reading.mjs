// The mover's CPU to read 200k rows of about 100 bytes in 20 chunks, with mysql2's settings of
// the mover's connections: rows as objects (what the engine does), as arrays (rowsAsArray), and
// as raw bytes (typeCast off), which would spare decoding values that go straight back.
import { parseMysqlUrl } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";
import { shardConnectOptions } from "@shardkit/migrate/internal";
import mysql from "mysql2/promise";

const ROWS = 200_000;
const CHUNKS = 20;
const ROUNDS = 5;
const fleet = await startFleet({ servers: 1 });
try {
  const e = parseMysqlUrl(await fleet.servers[0].createDatabase("read"));
  const options = shardConnectOptions(
    { name: "s", host: e.host, port: e.port, user: e.user, database: e.database ?? "" },
    { user: e.user, password: "" },
  );
  const c = await mysql.createConnection({ ...options, trace: false });
  await c.query(
    "CREATE TABLE items (id BIGINT NOT NULL PRIMARY KEY, account BIGINT NOT NULL, amount INT NOT NULL, note VARCHAR(80) NOT NULL)",
  );
  await c.query(
    `INSERT INTO items SELECT seq, seq % 9973, seq % 100000, RPAD(CONCAT('item ', seq, ' '), 72, 'x') FROM seq_1_to_${ROWS}`,
  );
  const ways = {
    objects: {},
    arrays: { rowsAsArray: true },
    bytes: { rowsAsArray: true, typeCast: false },
  };
  /** @type {Record<string, number[]>} */
  const cpuMs = { objects: [], arrays: [], bytes: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, way] of Object.entries(ways)) {
      const before = process.cpuUsage();
      const size = ROWS / CHUNKS;
      for (let i = 0; i < CHUNKS; i++) {
        await c.query({
          sql: `SELECT id, account, amount, note FROM items WHERE id > ${i * size} ORDER BY id LIMIT ${size}`,
          ...way,
        });
      }
      const used = process.cpuUsage(before);
      cpuMs[name]?.push(Math.round((used.user + used.system) / 1000));
    }
  }
  await c.end();
  const best = Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, Math.min(...v)]));
  console.log(JSON.stringify({ rows: ROWS, chunks: CHUNKS, cpuMs, best }));
} finally {
  await fleet.stop();
}
