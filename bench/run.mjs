// `npm run bench`: every benchmark in one run, printed as a Markdown table for docs/benchmarks.md.
import os from "node:os";
import { run as hash } from "./hash.bench.mjs";
import { run as lookup } from "./lookup.bench.mjs";
import { run as router } from "./router.bench.mjs";

const M = (/** @type {number} */ n) => `${(n / 1e6).toFixed(2)} M/s`;
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

const r = await router();
const ms = (/** @type {number} */ x) => `${(x * 1000).toFixed(0)} µs`;
console.log("\n| router benchmark | routed | baseline | ratio | target |");
console.log("| --- | --- | --- | --- | --- |");
console.log(
  `| point select by key vs the same knex query on a plain pool | ${ms(r.pointSelect.routedMs)} | ${ms(r.pointSelect.plainMs)} | ${r.pointSelect.ratio.toFixed(2)} | <= 1.05 |`,
);
console.log(
  `| single-row insert, fenced (insert) vs plain autocommit knex insert | ${ms(r.fencedInsert.routedMs)} | ${ms(r.fencedInsert.plainMs)} | ${r.fencedInsert.ratio.toFixed(2)} | <= 1.15 |`,
);
console.log(
  `| single-row insert, fenced statement (writeOne) vs plain autocommit knex insert | ${ms(r.fencedStatementInsert.routedMs)} | ${ms(r.fencedStatementInsert.plainMs)} | ${r.fencedStatementInsert.ratio.toFixed(2)} | |`,
);
console.log(
  `| single-row insert, fenced transaction (write) vs plain autocommit knex insert | ${ms(r.fencedTransactionInsert.routedMs)} | ${ms(r.fencedTransactionInsert.plainMs)} | ${r.fencedTransactionInsert.ratio.toFixed(2)} | |`,
);
console.log(
  `| scatter ORDER BY LIMIT 100 over 4 shards vs the 4 plain queries in parallel | ${ms(r.scatterOrderByLimit100.routedMs)} | ${ms(r.scatterOrderByLimit100.plainMs)} | ${r.scatterOrderByLimit100.ratio.toFixed(2)} | <= 1.3 |`,
);
console.log(
  `| ids from nextId (blocks of 1000) | ${(r.idsPerSecond / 1e6).toFixed(2)} M ids/s | | | |`,
);
