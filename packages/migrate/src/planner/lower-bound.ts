import type { Bounds } from "./make-plan.js";
import type { PieceTable } from "./piece-table.js";

/**
 * A lower bound on the bytes any plan must move (at bucket resolution): each shard above its
 * upper bound must shed the excess, and each shard below its lower bound must receive the
 * shortfall; every moved byte is counted once on each side, so the larger sum bounds the plan.
 * By rows, rows are priced at the fewest bytes they can cost: shedding takes a shard's buckets
 * with the fewest bytes per row first, receiving the cheapest buckets of the shards that can
 * give (a fractional knapsack, each a relaxation of what a plan can do).
 */
export function lowerBoundBytes(table: PieceTable, b: Bounds): number {
  let shed = 0;
  let received = 0;
  let receivedRows = 0;
  const below: string[] = [];
  for (const s of b.shards) {
    const m = table.metric(s);
    if (b.drained.has(s)) {
      for (const r of table.statesOf(s)) shed += r.bytes[r.buckets] as number;
      continue;
    }
    const over = m - (b.upper.get(s) ?? 0);
    if (over > 0) shed += table.by === "bytes" ? over : cheapest(table, [s], over);
    const under = (b.lower.get(s) ?? 0) - m;
    if (under > 0) {
      below.push(s);
      if (table.by === "bytes") received += under;
      else receivedRows += under;
    }
  }
  if (receivedRows > 0) {
    const givers = b.shards.filter((s) => !below.includes(s));
    received += cheapest(table, givers, receivedRows);
  }
  return Math.ceil(Math.max(shed, received) - 1e-6);
}

/** The fewest bytes `rows` rows of `shards`' buckets can weigh, taking buckets in part. */
function cheapest(table: PieceTable, shards: readonly string[], rows: number): number {
  const buckets: { rows: number; bytes: number }[] = [];
  for (const s of shards) {
    for (const r of table.statesOf(s)) {
      for (let k = 0; k < r.buckets; k++) {
        const n = (r.rows[k + 1] as number) - (r.rows[k] as number);
        if (n > 0) {
          buckets.push({ rows: n, bytes: (r.bytes[k + 1] as number) - (r.bytes[k] as number) });
        }
      }
    }
  }
  buckets.sort((x, y) => x.bytes / x.rows - y.bytes / y.rows);
  let left = rows;
  let bytes = 0;
  for (const bucket of buckets) {
    if (left <= 0) break;
    const take = Math.min(left, bucket.rows);
    bytes += (take * bucket.bytes) / bucket.rows;
    left -= take;
  }
  return bytes;
}
