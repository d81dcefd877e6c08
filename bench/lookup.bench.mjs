// Cached directory lookups: a DirectoryClient loaded from a real directory on a local server,
// then 1M lookups of integer keys and 1M of short string keys answered from memory.
import { DirectoryClient, MysqlDirectoryStore } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";

const N = 1_000_000;

/**
 * The best of 5 timed runs of `lookup` over `keys`, after 200,000 warm-up lookups.
 * @template K
 * @param {string} label
 * @param {readonly K[]} keys
 * @param {(key: K) => { ksid: number }} lookup
 */
function measure(label, keys, lookup) {
  for (let i = 0; i < 200_000; i++) lookup(/** @type {K} */ (keys[i % keys.length])); // warm-up
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let run = 0; run < 5; run++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < keys.length; i++) sink += lookup(/** @type {K} */ (keys[i])).ksid & 1;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  if (sink < 0) console.log(sink);
  return { label, keys: keys.length, seconds: best, perSecond: Math.round(keys.length / best) };
}

/** Runs the lookup benchmark and returns its figures. */
export async function run({ ranges = 64, pins = 16 } = {}) {
  const fleet = await startFleet({ servers: 1 });
  try {
    const server = fleet.servers[0];
    if (!server) throw new Error("the fleet started no server");
    const store = new MysqlDirectoryStore({ directory: await server.createDatabase("dir") });
    await store.init();
    await store.addShard({ ...parse(await server.createDatabase("s1")), name: "s1" });
    await store.addShard({ ...parse(await server.createDatabase("s2")), name: "s2" });
    await store.layoutEven(ranges);
    for (let i = 0; i < pins; i++) await store.pinKey(`whale-${i}`, "s2");
    const client = await DirectoryClient.open({
      directory: store,
      pollIntervalMs: 0,
      heartbeatId: false,
    });
    const ints = Array.from({ length: N }, (_, i) => i * 7919);
    const strings = Array.from({ length: N }, (_, i) => `user:${i}`);
    const results = [
      measure("integer keys", ints, (k) => client.lookup(k)),
      measure("string keys", strings, (k) => client.lookup(k)),
    ];
    await client.close();
    await store.close();
    return { ranges, pins, results };
  } finally {
    await fleet.stop();
  }
}

/** @param {string} url */
function parse(url) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  for (const x of r.results)
    console.log(
      `lookup ${x.label}: ${(x.perSecond / 1e6).toFixed(2)} M/s (${x.keys} keys in ${x.seconds.toFixed(3)} s, ${r.ranges} ranges, ${r.pins} pins)`,
    );
}
