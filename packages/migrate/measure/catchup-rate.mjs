import { FULL_RANGE, parseMysqlUrl } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";
import { MoveSession, openShardConnection, rangeSelector } from "@shardkit/migrate/internal";

const fleet = await startFleet({ servers: 2 });
try {
  const rec = async (i, name) => ({
    name,
    ...parseMysqlUrl(await fleet.servers[i].createDatabase(name)),
    state: "serving",
  });
  const source = await rec(0, "src"),
    target = await rec(1, "dst");
  const login = (s) => ({ user: s.user, password: "" });
  const src = await openShardConnection(source, login(source));
  const ddl =
    "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL, payload VARCHAR(80) NOT NULL, n INT NOT NULL) ENGINE=InnoDB";
  await src.execute(ddl);
  const dst = await openShardConnection(target, login(target));
  await dst.execute(ddl);
  const s = await MoveSession.open({
    moveId: "bench",
    source,
    target,
    login,
    tables: [{ name: "t", keyColumn: "user_id", keyFunction: "hash" }],
    selector: rangeSelector(FULL_RANGE, []),
    chunkSize: 1000,
  });
  await s.copy();
  // Burst: 20k single-row transactions written while the applier waits, then applied.
  const writers = await Promise.all(
    [0, 1, 2, 3].map(() => openShardConnection(source, login(source))),
  );
  let id = 0;
  const burst = 20000;
  await Promise.all(
    writers.map(async (w) => {
      while (id < burst) {
        const i = ++id;
        await w.execute("INSERT INTO t VALUES (?, ?, 'p', 0)", [i, i]);
      }
    }),
  );
  let t0 = performance.now();
  await s.catchUpNow(60000);
  const applyMs = performance.now() - t0;
  console.log(
    JSON.stringify({
      burstEvents: burst,
      applyMs: Math.round(applyMs),
      eventsPerSec: Math.round((burst / applyMs) * 1000),
    }),
  );
  // Steady: 1000 writes/s for 10 s, lag sampled with markers.
  let stop = false;
  let writes = 0;
  const rate = Number(process.env.RATE ?? 1000);
  const steady = Promise.all(
    writers.map(async (w, k) => {
      const start = performance.now();
      let n = 0;
      while (!stop) {
        const due = start + (n * 1000 * writers.length) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const i = 1 + ((n * 4 + k) % burst);
        n++;
        await w.execute("UPDATE t SET n = n + 1 WHERE id = ?", [i]);
        writes++;
      }
    }),
  );
  const lags = [];
  t0 = performance.now();
  const end = t0 + 10000;
  let nextMarker = 0;

  while (performance.now() < end) {
    if (performance.now() > nextMarker) {
      await s.markers.write();
      nextMarker = performance.now() + 250;
    }
    await s.catchUp.step(20);
    lags.push(s.markers.lagMs());
  }
  stop = true;
  await steady;
  const elapsed = (performance.now() - t0) / 1000;
  lags.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      writesPerSec: Math.round(writes / elapsed),
      lagMsMedian: Math.round(lags[lags.length >> 1]),
      lagMsP99: Math.round(lags[Math.floor(lags.length * 0.99)]),
      lagMsMax: Math.round(lags.at(-1)),
    }),
  );
  await s.close();
  for (const w of writers) await w.close();
  await src.close();
  await dst.close();
} finally {
  await fleet.stop();
}
