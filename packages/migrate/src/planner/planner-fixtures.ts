import { evenSplit } from "@shardkit/directory";
import { bucketCount, type Load, type RangeLoad } from "./range-loads.js";

/** A small seeded generator (mulberry32), so that every test case can be run again. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link randomLayout}. */
export interface RandomLayoutOptions {
  readonly ranges: number;
  readonly shards: readonly string[];
  /** Buckets per range that carry rows (the rest of the 16 are empty). Default all. */
  readonly skew?: number;
  /** Largest rows per bucket. Default 1000. */
  readonly maxRows?: number;
}

/**
 * `ranges` even ranges dealt round-robin over `shards`, each bucket with random rows and
 * 50-150 bytes a row; a few ranges heavy (a skewed keyspace).
 */
export function randomLayout(random: () => number, o: RandomLayoutOptions): RangeLoad[] {
  const maxRows = o.maxRows ?? 1000;
  return evenSplit(o.ranges).map((range, i) => {
    const heavy = random() < 0.15 ? 4 : 1;
    const buckets: Load[] = [];
    for (let k = 0; k < bucketCount(range); k++) {
      const rows = Math.floor(random() * maxRows * heavy);
      buckets.push({ rows, bytes: rows * (50 + Math.floor(random() * 100)) });
    }
    return {
      range,
      shard: o.shards[i % o.shards.length] as string,
      rows: buckets.reduce((s, b) => s + b.rows, 0),
      bytes: buckets.reduce((s, b) => s + b.bytes, 0),
      buckets,
    };
  });
}
