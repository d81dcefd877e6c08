// The directory service under load: the service in a process of its own over a real directory
// (64 ranges on 4 shards), this process sending a fixed count of requests over a fixed number
// of keep-alive connections (bench/http-load.mjs), one request in flight on each.
// Single-key GET /v1/route lookups, and POST /v1/route batches of 1000 keys.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { MysqlDirectoryStore, parseMysqlUrl } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";
import { Pool } from "undici";
import { httpLoad, requestBytes } from "./http-load.mjs";

const TOKEN = "bench-token";
const CONNECTIONS = 32;
const SINGLE_REQUESTS = 100_000;
const BATCH_SIZE = 1000;
const BATCH_REQUESTS = 1000;

/** Distinct single-key requests cycled through (each its own key). */
const SINGLE_DISTINCT = 4096;

/**
 * Sends `count` requests to `url` with `CONNECTIONS` in flight; returns requests/s and latency
 * percentiles in ms (after `warmup` requests that are not measured).
 * @param {string} url
 * @param {number} count
 * @param {Buffer[]} requests prepared request bytes, sent in turn
 * @param {number} warmup
 */
function load(url, count, requests, warmup) {
  return httpLoad(
    url,
    CONNECTIONS,
    count,
    (i) => /** @type {Buffer} */ (requests[i % requests.length]),
    warmup,
  );
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

    /** The prepared single-key and batch requests for the server at `url`. */
    const requestsFor = (/** @type {string} */ url) => {
      const host = new URL(url).host;
      return {
        single: Array.from({ length: SINGLE_DISTINCT }, (_, i) =>
          requestBytes(host, {
            method: "GET",
            path: `/v1/route?key=${(i * 7919) % 1_000_000}`,
            headers,
          }),
        ),
        batch: bodies.map((body) =>
          requestBytes(host, {
            method: "POST",
            path: "/v1/route",
            headers: { ...headers, "content-type": "application/json" },
            body,
          }),
        ),
      };
    };
    /** One server's prepared requests, and the figures of each round against it. */
    const sideOf = (/** @type {string} */ url) => ({
      url,
      requests: requestsFor(url),
      single: /** @type {Awaited<ReturnType<typeof load>>[]} */ ([]),
      batch: /** @type {Awaited<ReturnType<typeof load>>[]} */ ([]),
    });
    const ofService = sideOf(service.url);
    const ofBare = sideOf(bare.url);
    for (let r = 0; r < rounds; r++) {
      for (const side of r % 2 === 0 ? [ofService, ofBare] : [ofBare, ofService]) {
        side.single.push(
          await load(side.url, SINGLE_REQUESTS / rounds, side.requests.single, 1000),
        );
        side.batch.push(await load(side.url, BATCH_REQUESTS / rounds, side.requests.batch, 20));
      }
    }
    const single = total(ofService.single);
    const singleBare = total(ofBare.single);
    const batch = total(ofService.batch);
    const batchBare = total(ofBare.batch);
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
