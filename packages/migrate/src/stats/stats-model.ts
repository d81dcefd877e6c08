import type { Load } from "../planner/range-loads.js";

/** One range as measured: owner, rows and bytes (per table and per bucket). */
export interface RangeStats extends Load {
  /** In range notation (`40-80`). */
  readonly range: string;
  readonly shard: string;
  /** Rows and bytes of each sharded table in the range. */
  readonly tables: Readonly<Record<string, Load>>;
  /** Per equal-width bucket (see `bucketStart`), so that a split can be sized. */
  readonly buckets: readonly Load[];
}

/** One shard's totals. */
export interface ShardStats extends Load {
  readonly shard: string;
  readonly ranges: number;
  /** Rows and bytes of keys pinned to it (part of the totals). */
  readonly pinned: Load;
}

/** A key with many rows: worth pinning or moving with `shardkit move --key`. */
export interface TopKey {
  readonly table: string;
  readonly key: string;
  readonly shard: string;
  readonly rows: number;
}

/** What one `shardkit stats` run measured; stored in the directory as a snapshot. */
export interface StatsReport {
  /** The directory version the ranges are those of. */
  readonly directoryVersion: number;
  /** ISO time the scan started. */
  readonly takenAt: string;
  /** The fraction of rows read (null: every row, exact). */
  readonly sample: number | null;
  /**
   * With `sample`: each estimate is within this many rows (bytes: relative the same) of the
   * true count with 99.7% confidence, for a range of the size given (see docs/planning.md).
   */
  readonly errorBound: { readonly sigmas: 3; readonly relative: number } | null;
  readonly ranges: readonly RangeStats[];
  readonly shards: readonly ShardStats[];
  readonly tables: readonly ({ readonly table: string } & Load)[];
  readonly topKeys: readonly TopKey[];
  /** Rows whose key maps to no keyspace id (the router refuses them); counted nowhere else. */
  readonly unroutableRows: number;
  /** Rows found on a shard that does not own their key (copies of a move not yet cleaned). */
  readonly strayRows: number;
}

/** The error bound of an estimate `estimate` made from a sample of `fraction`: 3 standard deviations. */
export function sampleBound(estimate: number, fraction: number): number {
  if (fraction >= 1) return 0;
  // X ~ Binomial(N, f), estimate X / f: variance N (1 - f) / f; N estimated (at least 1 row).
  return 3 * Math.sqrt((Math.max(estimate, 1 / fraction) * (1 - fraction)) / fraction);
}
