// `npm run bench`: every benchmark in one run, printed as a Markdown table for docs/benchmarks.md.
import os from "node:os";
import { run as hash } from "./hash.bench.mjs";
import { run as lookup } from "./lookup.bench.mjs";
import { run as move } from "./move.bench.mjs";
import { run as plan } from "./plan.bench.mjs";
import { run as reference } from "./reference.bench.mjs";
import { run as router } from "./router.bench.mjs";
import { run as scatterScale } from "./scatter-scale.bench.mjs";
import { run as service } from "./service.bench.mjs";

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

console.log(
  "\n| planner benchmark | time | bytes moved / lower bound | max/mean load before -> after | target |",
);
console.log("| --- | --- | --- | --- | --- |");
for (const p of plan()) {
  console.log(
    `| ${p.label} (${p.ranges} ranges; ${p.moves} moves, ${p.steps - p.moves} splits) | ${p.ms.toFixed(0)} ms | ${p.closeness.toFixed(4)} | ${p.maxOverMeanBefore.toFixed(2)} -> ${p.maxOverMeanAfter.toFixed(2)} | < 1 s |`,
  );
}

const r = await router();
const ms = (/** @type {number} */ x) => `${(x * 1000).toFixed(0)} µs`;
console.log(`\nrouter benchmark placement: ${r.placement}\n`);
console.log("| router benchmark | routed | baseline | ratio | target |");
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
  `| single-row UPDATE, fenced (update) vs the same autocommit knex UPDATE | ${ms(r.fencedUpdate.routedMs)} | ${ms(r.fencedUpdate.plainMs)} | ${r.fencedUpdate.ratio.toFixed(2)} | <= 1.15 |`,
);
console.log(
  `| single-row DELETE, fenced (delete) vs the same autocommit knex DELETE | ${ms(r.fencedDelete.routedMs)} | ${ms(r.fencedDelete.plainMs)} | ${r.fencedDelete.ratio.toFixed(2)} | <= 1.15 |`,
);
console.log(
  `| single-row UPDATE in a fenced transaction (write) vs a plain knex transaction with the same UPDATE | ${ms(r.fencedTransactionUpdate.routedMs)} | ${ms(r.fencedTransactionUpdate.plainMs)} | ${r.fencedTransactionUpdate.ratio.toFixed(2)} | <= 1.10 |`,
);
console.log(
  `| single-row UPDATE, fenced statement (writeOne) vs the same autocommit knex UPDATE | ${ms(r.fencedStatementUpdate.routedMs)} | ${ms(r.fencedStatementUpdate.plainMs)} | ${r.fencedStatementUpdate.ratio.toFixed(2)} | |`,
);
console.log(
  `| scatter ORDER BY LIMIT 100 over 4 shards vs the 4 plain queries in parallel | ${ms(r.scatterOrderByLimit100.routedMs)} | ${ms(r.scatterOrderByLimit100.plainMs)} | ${r.scatterOrderByLimit100.ratio.toFixed(2)} | <= 1.3 |`,
);
console.log(
  `| ids from nextId (blocks of 1000) | ${(r.idsPerSecond / 1e6).toFixed(2)} M ids/s | | | |`,
);

const sc = await scatterScale();
console.log(
  `\n| scatter over ${sc.shards} shards | routed | ${sc.shards} plain queries in parallel | ratio | target |`,
);
console.log("| --- | --- | --- | --- | --- |");
console.log(
  `| ORDER BY v LIMIT 100 | ${ms(sc.orderByLimit100.routedMs)} | ${ms(sc.orderByLimit100.plainMs)} | ${sc.orderByLimit100.ratio.toFixed(2)} | <= 1.3 |`,
);
console.log(
  `| GROUP BY (50 groups) with COUNT and SUM | ${ms(sc.groupByAggregate.routedMs)} | ${ms(sc.groupByAggregate.plainMs)} | ${sc.groupByAggregate.ratio.toFixed(2)} | <= 1.3 |`,
);
console.log(
  `| router memory, ORDER BY LIMIT 100 over ${sc.shards} shards of 10^6 rows each (50 scatters, ${sc.millionRows.rowsReturned} rows each) | heap +${sc.millionRows.heapGrowthMb.toFixed(1)} MB, RSS +${sc.millionRows.rssGrowthMb.toFixed(1)} MB | | | bounded by limit x shards |`,
);

const mv = await move();
const k = (/** @type {number} */ n) => `${(n / 1000).toFixed(0)} k rows/s`;
const lag = (/** @type {{ median: number, p99: number, max: number }} */ s) =>
  `${s.median.toFixed(0)} / ${s.p99.toFixed(0)} / ${s.max.toFixed(0)} ms`;
console.log("\n| move benchmark | shardkit | baseline | ratio | target |");
console.log("| --- | --- | --- | --- | --- |");
if (mv.copy) {
  const c = mv.copy;
  console.log(
    `| copy of a whole shard's range (${c.rows / 1000}k rows of ~100 B) vs mariadb-dump \\| mariadb | ${k(c.engineRowsPerSecond)} | ${k(c.dumpRowsPerSecond)} | ${(c.engineRowsPerSecond / c.dumpRowsPerSecond).toFixed(2)} | >= 1.0 |`,
  );
}
if (mv.quarter) {
  console.log(
    `| rows read per row moved, a quarter of a shard | ${mv.quarter.readPerMoved.toFixed(2)} (${mv.quarter.rowsRead} / ${mv.quarter.rowsCopied}) | | | |`,
  );
}
if (mv.catchUp) {
  const c = mv.catchUp;
  console.log(
    `| catch-up: a backlog of ${c.backlogEvents / 1000}k row changes applied | ${(c.eventsPerSecond / 1000).toFixed(1)} k events/s | | | |`,
  );
  console.log(
    `| catch-up lag (median / p99 / max) while a writer does ${c.writesPerSecond.toFixed(0)} writes/s | ${lag(c.lagMs)} | | | < 1 s |`,
  );
}
if (mv.pause) {
  const p = mv.pause;
  console.log(
    `| write pause at cutover: longest stall of a writer at 500 writes/s through a router vs the naive way (freeze, dump, load, switch) | ${p.engineStallNearCutoverMs.max.toFixed(0)} ms (the mover's pause ${p.enginePauseMs} ms: freeze ${p.freezeMs.toFixed(0)}, marker ${(Number(p.enginePauseMs) - p.freezeMs - p.switchMs).toFixed(0)}, switch ${p.switchMs.toFixed(0)}) | ${p.naiveStallMs.max.toFixed(0)} ms (pause ${p.naivePauseMs.toFixed(0)} ms) | ${(p.engineStallNearCutoverMs.max / p.naiveStallMs.max).toFixed(3)} | <= 100 ms |`,
  );
  console.log(
    `| longest stall of that writer during the whole move (copy, verify, cutover) | ${p.engineStallMs.max.toFixed(0)} ms (p99 ${p.engineStallMs.p99.toFixed(0)} ms) | | | |`,
  );
}

const ref = await reference();
console.log("\n| reference benchmark | result | target |");
console.log("| --- | --- | --- |");
console.log(
  `| lag of two reference copies (median / p99 / max) while the source takes ${ref.writesPerSecond.toFixed(0)} writes/s | ${ref.lagMs.median.toFixed(0)} / ${ref.lagMs.p99.toFixed(0)} / ${ref.lagMs.max.toFixed(0)} ms | p99 < 1 s |`,
);

const sv = await service();
const rate = (/** @type {number} */ n) => `${(n / 1000).toFixed(1)} k/s`;
const p = (/** @type {{ p50Ms: number, p99Ms: number }} */ r) =>
  `p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms`;
console.log(
  `\n| service benchmark (${sv.connections} connections) | service | baseline: Fastify alone, fixed answers | ratio | target |`,
);
console.log("| --- | --- | --- | --- | --- |");
console.log(
  `| GET /v1/route, one key per request (${sv.single.requests} requests) | ${rate(sv.single.perSecond)} lookups (${p(sv.single)}) | ${rate(sv.singleBare.perSecond)} (${p(sv.singleBare)}) | ${(sv.single.perSecond / sv.singleBare.perSecond).toFixed(2)} | >= 20 k/s |`,
);
console.log(
  `| POST /v1/route, ${sv.batch.batchSize} keys per request (${sv.batch.requests} requests) | ${(sv.batch.keysPerSecond / 1e6).toFixed(2)} M keys/s (${p(sv.batch)}) | ${(sv.batchBare.keysPerSecond / 1e6).toFixed(2)} M keys/s (${p(sv.batchBare)}) | ${(sv.batch.keysPerSecond / sv.batchBare.keysPerSecond).toFixed(2)} | >= 1 M keys/s |`,
);
