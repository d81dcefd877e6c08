// `npm run bench`: every benchmark in one run, printed as a Markdown table for docs/benchmarks.md.
import os from "node:os";
import { run as hash } from "./hash.bench.mjs";
import { run as lookup } from "./lookup.bench.mjs";

const M = (n) => `${(n / 1e6).toFixed(2)} M/s`;
console.log(
  `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), Node ${process.version}\n`,
);
console.log("| benchmark | keys | result | target |");
console.log("| --- | --- | --- | --- |");
for (const r of hash()) {
  console.log(`| hash, ${r.label}, ksid() | ${r.keys} | ${M(r.ksidPerSecond)} | >= 3 M/s |`);
  console.log(`| hash, ${r.label}, map() | ${r.keys} | ${M(r.mapPerSecond)} | >= 3 M/s |`);
}
const l = await lookup();
for (const r of l.results) {
  console.log(
    `| cached lookup, ${r.label} (${l.ranges} ranges, ${l.pins} pinned keys) | ${r.keys} | ${M(r.perSecond)} | >= 2 M/s |`,
  );
}
