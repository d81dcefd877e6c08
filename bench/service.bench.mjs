// The directory service under load: the service in a process of its own over a real directory
// (64 ranges on 4 shards), a client process sending a fixed count of requests over a fixed
// number of keep-alive connections (undici), all in flight at once up to that number.
// Single-key GET /v1/route lookups, and POST /v1/route batches of 1000 keys.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { MysqlDirectoryStore, parseMysqlUrl } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";
import { Pool } from "undici";

const TOKEN = "bench-token";
const CONNECTIONS = 32;
const SINGLE_REQUESTS = 100_000;
const BATCH_SIZE = 1000;
const BATCH_REQUESTS = 1000;

/**
 * Sends `count` requests with at most `CONNECTIONS` in flight; returns requests/s and latency
 * percentiles in ms (after `warmup` requests that are not measured).
 * @param {Pool} pool
 * @param {number} count
 * @param {(i: number) => import("undici").Dispatcher.RequestOptions} request
 * @param {number} warmup
 */
async function load(pool, count, request, warmup) {
  const send = async (/** @type {number} */ i) => {
    const r = await pool.request(request(i));
    const body = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`HTTP ${r.statusCode}: ${body.slice(0, 200)}`);
  };
  for (let i = 0; i < warmup; i++) await send(i);
  /** @type {number[]} */
  const latencies = new Array(count);
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const s = performance.now();
      await send(i);
      latencies[i] = performance.now() - s;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (/** @type {number} */ q) =>
    /** @type {number} */ (latencies[Math.floor(q * (count - 1))]);
  return { requests: count, seconds, perSecond: count / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/**
 * Starts bench/service-process.mjs with `env` and resolves to its URL and the process.
 * @param {NodeJS.ProcessEnv} env
 */
async function serverProcess(env) {
  const proc = spawn(
    process.execPath,
    [new URL("./service-process.mjs", import.meta.url).pathname],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const lines = createInterface({
    input: /** @type {import("node:stream").Readable} */ (proc.stdout),
  });
  const first = await lines[Symbol.asyncIterator]().next();
  return { url: String(first.value), proc };
}

/** @param {import("node:child_process").ChildProcess} proc */
async function stop(proc) {
  if (proc.exitCode !== null) return;
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  proc.kill("SIGTERM");
  await exited;
}

/**
 * Sums rounds of {@link load} into one figure.
 * @param {Awaited<ReturnType<typeof load>>[]} rounds
 */
function total(rounds) {
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const p99 = rounds.map((r) => r.p99Ms).sort((a, b) => a - b);
  const p50 = rounds.map((r) => r.p50Ms).sort((a, b) => a - b);
  return {
    requests,
    seconds,
    perSecond: requests / seconds,
    // The median over the rounds of each round's percentile.
    p50Ms: /** @type {number} */ (p50[Math.floor(p50.length / 2)]),
    p99Ms: /** @type {number} */ (p99[Math.floor(p99.length / 2)]),
  };
}

/**
 * Runs the service benchmark and returns its figures: the service, and side by side (rounds
 * alternating, so both see the same load from other work) the baseline, Fastify alone
 * answering the same requests with fixed JSON of the same size.
 */
export async function run({ rounds = 4 } = {}) {
  const fleet = await startFleet({ servers: 1 });
  /** @type {import("node:child_process").ChildProcess[]} */
  const procs = [];
  /** @type {Pool[]} */
  const pools = [];
  try {
    const server = fleet.servers[0];
    if (!server) throw new Error("the fleet started no server");
    const directory = await server.createDatabase("dir");
    const store = new MysqlDirectoryStore({ directory });
    await store.init();
    for (let i = 1; i <= 4; i++) {
      await store.addShard({
        name: `s${i}`,
        ...parseMysqlUrl(await server.createDatabase(`s${i}`)),
      });
    }
    await store.layoutEven(64);
    await store.close();
    const service = await serverProcess({ BENCH_DIRECTORY: directory, BENCH_TOKEN: TOKEN });
    procs.push(service.proc);
    const headers = { authorization: `Bearer ${TOKEN}` };
    const servicePool = new Pool(service.url, { connections: CONNECTIONS, pipelining: 1 });
    pools.push(servicePool);
    const bodies = Array.from({ length: 16 }, (_, b) =>
      JSON.stringify({
        keys: Array.from({ length: BATCH_SIZE }, (_, i) => (b * BATCH_SIZE + i) * 31),
      }),
    );
    // The baseline answers with what the service answers, fixed.
    const sample = await servicePool.request({
      method: "GET",
      path: "/v1/route?key=4242",
      headers,
    });
    const batchSample = await servicePool.request({
      method: "POST",
      path: "/v1/route",
      headers: { ...headers, "content-type": "application/json" },
      body: bodies[0],
    });
    const bare = await serverProcess({
      BENCH_MODE: "bare",
      BENCH_SINGLE: await sample.body.text(),
      BENCH_BATCH: await batchSample.body.text(),
    });
    procs.push(bare.proc);
    const barePool = new Pool(bare.url, { connections: CONNECTIONS, pipelining: 1 });
    pools.push(barePool);

    const singleRequest = (/** @type {number} */ i) => ({
      method: /** @type {const} */ ("GET"),
      path: `/v1/route?key=${(i * 7919) % 1_000_000}`,
      headers,
    });
    const batchRequest = (/** @type {number} */ i) => ({
      method: /** @type {const} */ ("POST"),
      path: "/v1/route",
      headers: { ...headers, "content-type": "application/json" },
      body: bodies[i % bodies.length],
    });
    /** @type {Record<string, Awaited<ReturnType<typeof load>>[]>} */
    const out = { single: [], singleBare: [], batch: [], batchBare: [] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [servicePool, barePool] : [barePool, servicePool];
      for (const pool of order) {
        const isService = pool === servicePool;
        out[isService ? "single" : "singleBare"]?.push(
          await load(pool, SINGLE_REQUESTS / rounds, singleRequest, 1000),
        );
        out[isService ? "batch" : "batchBare"]?.push(
          await load(pool, BATCH_REQUESTS / rounds, batchRequest, 20),
        );
      }
    }
    const single = total(out.single ?? []);
    const singleBare = total(out.singleBare ?? []);
    const batch = total(out.batch ?? []);
    const batchBare = total(out.batchBare ?? []);
    return {
      connections: CONNECTIONS,
      single,
      singleBare,
      batch: { ...batch, batchSize: BATCH_SIZE, keysPerSecond: batch.perSecond * BATCH_SIZE },
      batchBare: {
        ...batchBare,
        batchSize: BATCH_SIZE,
        keysPerSecond: batchBare.perSecond * BATCH_SIZE,
      },
    };
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    await Promise.all(procs.map(stop));
    await fleet.stop();
  }
}
