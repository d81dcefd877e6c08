import { execSync } from "node:child_process";
import { FULL_RANGE, parseMysqlUrl } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";
import { MoveSession, openShardConnection, rangeSelector } from "@shardkit/migrate/internal";

const ROWS = Number(process.env.ROWS ?? 200000);
const CHUNK = Number(process.env.CHUNK ?? 1000);
const CHUNK_TIME = Number(process.env.CHUNK_TIME ?? 200);
const fleet = await startFleet({ servers: 2 });
try {
  const rec = async (i, name) => {
    const e = parseMysqlUrl(await fleet.servers[i].createDatabase(name));
    return { name, ...e, state: "serving" };
  };
  const source = await rec(0, "src"),
    target = await rec(1, "dst"),
    dumpTarget = await rec(1, "dump");
  const login = (s) => ({ user: s.user, password: "" });
  const src = await openShardConnection(source, login(source));
  const ddl =
    "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL, payload VARCHAR(80) NOT NULL, n INT NOT NULL) ENGINE=InnoDB";
  await src.execute(ddl);
  for (let i = 0; i < ROWS; i += 5000) {
    const rows = [];
    for (let j = i; j < Math.min(ROWS, i + 5000); j++)
      rows.push([j + 1, (j * 7919) % 100000, "x".repeat(70) + String(j).padStart(8, "0"), j]);
    await src.query("INSERT INTO t VALUES ?", [rows]);
  }
  const dst = await openShardConnection(target, login(target));
  await dst.execute(ddl);
  const s = await MoveSession.open({
    moveId: "bench",
    source,
    target,
    login,
    tables: [{ name: "t", keyColumn: "user_id", keyFunction: "hash" }],
    selector: rangeSelector(FULL_RANGE, []),
    chunkSize: CHUNK,
    chunkTimeMs: CHUNK_TIME,
  });
  let t0 = performance.now();
  const cpuStart = process.cpuUsage();
  await s.copy();
  const copyMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpuStart);
  const moverCpuMs = Math.round((cpu.user + cpu.system) / 1000);

  await s.close();
  const dd = await openShardConnection(dumpTarget, login(dumpTarget));
  await dd.execute(ddl);
  t0 = performance.now();
  execSync(
    `mariadb-dump --no-create-info --single-transaction -h ${source.host} -P ${source.port} -u root ${source.database} t | mariadb -h ${dumpTarget.host} -P ${dumpTarget.port} -u root ${dumpTarget.database}`,
    { shell: "/bin/bash" },
  );
  const dumpMs = performance.now() - t0;
  const [{ n }] = await dd.query("SELECT COUNT(*) n FROM t");
  const [{ m }] = await dst.query("SELECT COUNT(*) m FROM t");
  console.log(
    JSON.stringify({
      rows: ROWS,
      chunk: CHUNK,
      chunkTimeMs: CHUNK_TIME,
      copied: m,
      dumped: n,
      moverCpuMs,
      copyRowsPerSec: Math.round((ROWS / copyMs) * 1000),
      dumpRowsPerSec: Math.round((ROWS / dumpMs) * 1000),
      ratio: +(dumpMs / copyMs).toFixed(2),
    }),
  );
  await src.close();
  await dst.close();
  await dd.close();
} finally {
  await fleet.stop();
}
