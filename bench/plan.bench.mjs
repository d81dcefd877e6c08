// The planner over the built package: 4096 ranges over 64 shards (random rows per bucket, some
// ranges four times heavier), four plans: rebalance within 10%, scale out to 80 shards (by
// bytes, and by rows), drain one shard. Each timed as the best of 5 runs after a warm-up run. Pure computation, no servers.
// Run it alone with `node bench/plan.bench.mjs` after building.
import { pathToFileURL } from "node:url";
import { makePlan } from "@shardkit/migrate";
import { randomLayout, seeded } from "@shardkit/migrate/internal";

const RUNS = 5;
const SHARDS = Array.from({ length: 64 }, (_, i) => `s${String(i + 1).padStart(2, "0")}`);

/**
 * Runs the planner benchmark; one entry per scenario:
 * `{ label, ranges, shards, ms, steps, moves, bytesMoved, lowerBound, closeness, within, maxOverMeanBefore, maxOverMeanAfter }`.
 */
export function run() {
  const ranges = randomLayout(seeded(42), { ranges: 4096, shards: SHARDS });
  /** @type {[string, import("@shardkit/migrate").PlanOptions][]} */
  const scenarios = [
    ["rebalance, 64 shards, within 10%", { maxImbalance: 10 }],
    [
      "scale out 64 -> 80 shards, within 10%",
      { add: Array.from({ length: 16 }, (_, i) => `n${i + 1}`) },
    ],
    ["drain 1 of 64 shards, within 10%", { drain: ["s01"] }],
    [
      "scale out 64 -> 80 shards by rows, within 10%",
      { by: "rows", add: Array.from({ length: 16 }, (_, i) => `n${i + 1}`) },
    ],
  ];
  return scenarios.map(([label, options]) => {
    makePlan({ ranges }, options);
    let best = Number.POSITIVE_INFINITY;
    let plan = makePlan({ ranges }, options);
    for (let i = 0; i < RUNS; i++) {
      const t0 = process.hrtime.bigint();
      plan = makePlan({ ranges }, options);
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return {
      label,
      ranges: ranges.length,
      shards: plan.shards.length,
      ms: best,
      steps: plan.steps.length,
      moves: plan.steps.filter((s) => s.kind === "move").length,
      bytesMoved: plan.bytesMoved,
      lowerBound: plan.lowerBoundBytes,
      closeness: plan.closeness,
      within: plan.withinImbalance,
      maxOverMeanBefore: plan.maxOverMean.before,
      maxOverMeanAfter: plan.maxOverMean.after,
    };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of run()) console.log(JSON.stringify(r));
}
