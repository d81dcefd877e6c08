import type { KeyRange } from "@shardkit/directory";

/** What a range, a piece of one or a shard holds: rows and bytes. */
export interface Load {
  readonly rows: number;
  readonly bytes: number;
}

/** What the planner balances: rows or bytes. */
export const PLAN_METRICS = ["rows", "bytes"] as const;
/** One of {@link PLAN_METRICS}. */
export type PlanMetric = (typeof PLAN_METRICS)[number];

/** Equal-width sub-ranges a range's load is measured in, so that the planner can size a split. */
export const LOAD_BUCKETS = 16;

/**
 * One range as measured: its owner, its rows and bytes, and the same per bucket (the
 * `bucketBounds` sub-ranges, in order) when known. Without buckets a range moves only whole.
 */
export interface RangeLoad extends Load {
  readonly range: KeyRange;
  readonly shard: string;
  readonly buckets?: readonly Load[];
}

/** How many buckets `range` is measured in: {@link LOAD_BUCKETS}, or 1 for a range narrower than that. */
export function bucketCount(range: KeyRange): number {
  return range.end - range.start >= LOAD_BUCKETS ? LOAD_BUCKETS : 1;
}

/** The keyspace id where bucket `k` of `range` starts (`k = bucketCount` gives the range's end). */
export function bucketStart(range: KeyRange, k: number): number {
  const n = bucketCount(range);
  return range.start + Math.floor(((range.end - range.start) * k) / n);
}

/** The bucket of `range` that `ksid` (inside it) falls in. */
export function bucketOf(range: KeyRange, ksid: number): number {
  const n = bucketCount(range);
  let k = Math.floor(((ksid - range.start) * n) / (range.end - range.start));
  // Bounds are floored, so a ksid just below a bound may compute one too high.
  while (k > 0 && ksid < bucketStart(range, k)) k--;
  while (k < n - 1 && ksid >= bucketStart(range, k + 1)) k++;
  return k;
}

/** A load's value in the metric balanced. */
export function metricOf(load: Load, by: PlanMetric): number {
  return by === "rows" ? load.rows : load.bytes;
}
