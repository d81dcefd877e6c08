// Hashing throughput of the default key function: 1M integer keys and 1M short string keys,
// through ksid() (one key) and map() (a batch), best of 5 runs after a warm-up.
import { hashKeyFunction } from "@shardkit/directory";

const N = 1_000_000;

function best(fn) {
  fn(); // warm-up
  let seconds = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 5; run++) {
    const t0 = process.hrtime.bigint();
    fn();
    seconds = Math.min(seconds, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return seconds;
}

/** Runs the hashing benchmark and returns keys/s for each case. */
export function run() {
  const ints = Array.from({ length: N }, (_, i) => i * 7919 - 500_000);
  const strings = Array.from({ length: N }, (_, i) => `user:${i}`);
  let sink = 0;
  const results = [];
  for (const [label, keys] of [
    ["integer keys", ints],
    ["string keys", strings],
  ]) {
    const one = best(() => {
      for (let i = 0; i < keys.length; i++) sink ^= hashKeyFunction.ksid(keys[i]);
    });
    const batch = best(() => {
      const out = hashKeyFunction.map(keys);
      sink ^= out.length;
    });
    results.push({
      label,
      keys: N,
      ksidPerSecond: Math.round(N / one),
      mapPerSecond: Math.round(N / batch),
    });
  }
  if (sink === 0.5) console.log(sink);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of run()) {
    console.log(
      `hash ${r.label}: ksid() ${(r.ksidPerSecond / 1e6).toFixed(2)} M/s, map() ${(r.mapPerSecond / 1e6).toFixed(2)} M/s`,
    );
  }
}
