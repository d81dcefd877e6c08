// Hashing throughput of the default key function over the built package: 1M integer keys and
// 1M short string keys, through ksid() (one key at a time) and map() (one batch), best of 5
// runs after a warm-up run. Run it alone with `node bench/hash.bench.mjs` after building.
import { pathToFileURL } from "node:url";
import { hashKeyFunction } from "@shardkit/directory";

const N = 1_000_000;
const RUNS = 5;

/**
 * Seconds of the fastest of RUNS timed runs of `fn`, after one untimed warm-up run.
 * @param {() => void} fn
 */
function bestSeconds(fn) {
  fn();
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < RUNS; run++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

/**
 * Runs the hashing benchmark; one entry per kind of key:
 * `{ label, keys, ksidPerSecond, mapPerSecond }`.
 */
export function run() {
  // Built before timing: integers of 1 to 10 digits, negatives too; strings like "user:123456".
  const ints = Array.from({ length: N }, (_, i) => i * 7919 - 500_000);
  const strings = Array.from({ length: N }, (_, i) => `user:${100_000 + i}`);
  let sink = 0;
  const results = [];
  /** @type {[string, readonly (number | string)[]][]} */
  const sets = [
    ["integer keys", ints],
    ["string keys", strings],
  ];
  for (const [label, keys] of sets) {
    const one = bestSeconds(() => {
      for (let i = 0; i < keys.length; i++) sink ^= hashKeyFunction.ksid(keys[i]);
    });
    const batch = bestSeconds(() => {
      const out = hashKeyFunction.map(keys);
      sink ^= Number(out[out.length - 1]);
    });
    results.push({
      label,
      keys: N,
      ksidPerSecond: Math.round(N / one),
      mapPerSecond: Math.round(N / batch),
    });
  }
  // Using the results keeps the hashing from being optimised away.
  if (sink === 0.5) console.log(sink);
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`Node ${process.version}, best of ${RUNS} runs after a warm-up`);
  for (const r of run()) {
    const m = (/** @type {number} */ n) => `${(n / 1e6).toFixed(2)} M keys/s`;
    console.log(`hash, ${r.label}: ksid() ${m(r.ksidPerSecond)}, map() ${m(r.mapPerSecond)}`);
  }
}
