import type { Bounds } from "./make-plan.js";
import type { PieceTable } from "./piece-table.js";

/**
 * A lower bound on the bytes any plan must move (at bucket resolution): each shard above its
 * upper bound must shed the excess, and each shard below its lower bound must receive the
 * shortfall; every moved byte is counted once on each side, so the larger sum bounds the plan.
 * By rows, shedding picks the buckets with the fewest bytes per row first (a fractional
 * knapsack), and receiving is priced at the fewest bytes per row of any bucket.
 */
export function lowerBoundBytes(table: PieceTable, b: Bounds): number {
  let shed = 0;
  let received = 0;
  let cheapest = Number.POSITIVE_INFINITY;
  for (const s of b.shards) {
    for (const r of table.statesOf(s)) {
      for (let k = 0; k < r.buckets; k++) {
        const rows = (r.rows[k + 1] as number) - (r.rows[k] as number);
        const bytes = (r.bytes[k + 1] as number) - (r.bytes[k] as number);
        if (rows > 0) cheapest = Math.min(cheapest, bytes / rows);
      }
    }
  }
  for (const s of b.shards) {
    const m = table.metric(s);
    if (b.drained.has(s)) {
      for (const r of table.statesOf(s)) shed += r.bytes[r.buckets] as number;
      continue;
    }
    const over = m - (b.upper.get(s) ?? 0);
    if (over > 0) shed += table.by === "bytes" ? over : cheapestShed(table, s, over);
    const under = (b.lower.get(s) ?? 0) - m;
    if (under > 0) {
      received += table.by === "bytes" ? under : under * (Number.isFinite(cheapest) ? cheapest : 0);
    }
  }
  return Math.ceil(Math.max(shed, received) - 1e-6);
}

/** The fewest bytes `shard` can shed to shed `rows` rows, taking buckets in part. */
function cheapestShed(table: PieceTable, shard: string, rows: number): number {
  const buckets: { rows: number; bytes: number }[] = [];
  for (const r of table.statesOf(shard)) {
    for (let k = 0; k < r.buckets; k++) {
      const n = (r.rows[k + 1] as number) - (r.rows[k] as number);
      if (n > 0)
        buckets.push({ rows: n, bytes: (r.bytes[k + 1] as number) - (r.bytes[k] as number) });
    }
  }
  buckets.sort((x, y) => x.bytes / x.rows - y.bytes / y.rows);
  let left = rows;
  let bytes = 0;
  for (const b of buckets) {
    if (left <= 0) break;
    const take = Math.min(left, b.rows);
    bytes += (take * b.bytes) / b.rows;
    left -= take;
  }
  return bytes;
}
