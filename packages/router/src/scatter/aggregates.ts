import { compareValues } from "./row-order.js";

/** Aggregate functions a scatter can compute across shards. */
export const AGGREGATE_FUNCTIONS = ["count", "sum", "min", "max", "avg"] as const;
/** One of {@link AGGREGATE_FUNCTIONS}. */
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];

/** One aggregate: the function and its column (`count` without a column counts rows). */
export interface AggregateSpec {
  readonly fn: AggregateFunction;
  readonly column?: string;
}

/** The SQL each shard runs for one output alias: avg becomes a sum and a count. */
export interface ShardAggregate {
  readonly alias: string;
  readonly sql: "COUNT" | "SUM" | "MIN" | "MAX";
  readonly column: string | undefined;
}

/** Expands the caller's aggregates into what each shard computes. */
export function shardAggregates(specs: Readonly<Record<string, AggregateSpec>>): ShardAggregate[] {
  return Object.entries(specs).flatMap(([alias, spec]): ShardAggregate[] =>
    spec.fn === "avg"
      ? [
          { alias: `__shardkit_avg_sum_${alias}`, sql: "SUM", column: spec.column },
          { alias: `__shardkit_avg_count_${alias}`, sql: "COUNT", column: spec.column },
        ]
      : [{ alias, sql: SHARD_SQL[spec.fn], column: spec.column }],
  );
}

const SHARD_SQL = { count: "COUNT", sum: "SUM", min: "MIN", max: "MAX" } as const;

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === "number" ? v : Number(v);
}

/** Alias of the collation weight selected for the i-th GROUP BY column. */
export function groupWeightAlias(i: number): string {
  return `__shardkit_g${i}`;
}

/**
 * Merges per-shard aggregate rows: counts and sums add, min and max compare, avg is the sum
 * of sums over the sum of counts. Rows with equal `groupBy` values form one group.
 */
export function mergeAggregates(
  shardRows: readonly (readonly Record<string, unknown>[])[],
  specs: Readonly<Record<string, AggregateSpec>>,
  groupBy: readonly string[],
): Record<string, unknown>[] {
  const groups = new Map<string, Record<string, unknown>>();
  for (const rows of shardRows) {
    for (const row of rows) {
      // Text group columns come with their collation weight, so 'a' and 'A' group together
      // across shards exactly as GROUP BY groups them within one.
      const key = JSON.stringify(
        groupBy.map((c, i) => normalise(row[groupWeightAlias(i)] ?? row[c])),
      );
      let acc = groups.get(key);
      if (!acc) {
        acc = Object.fromEntries(groupBy.map((c) => [c, row[c]]));
        for (const [alias, spec] of Object.entries(specs)) {
          acc[alias] = spec.fn === "count" ? 0 : null;
          if (spec.fn === "avg") {
            acc[`__sum_${alias}`] = null;
            acc[`__count_${alias}`] = 0;
          }
        }
        groups.set(key, acc);
      }
      for (const [alias, spec] of Object.entries(specs)) {
        const v = row[alias];
        switch (spec.fn) {
          case "count":
            acc[alias] = (acc[alias] as number) + (num(v) ?? 0);
            break;
          case "sum": {
            const n = num(v);
            if (n !== null) acc[alias] = ((acc[alias] as number | null) ?? 0) + n;
            break;
          }
          case "min":
            if (
              v !== null &&
              v !== undefined &&
              (acc[alias] === null || compareValues(v, acc[alias]) < 0)
            )
              acc[alias] = v;
            break;
          case "max":
            if (
              v !== null &&
              v !== undefined &&
              (acc[alias] === null || compareValues(v, acc[alias]) > 0)
            )
              acc[alias] = v;
            break;
          case "avg": {
            const s = num(row[`__shardkit_avg_sum_${alias}`]);
            if (s !== null)
              acc[`__sum_${alias}`] = ((acc[`__sum_${alias}`] as number | null) ?? 0) + s;
            acc[`__count_${alias}`] =
              (acc[`__count_${alias}`] as number) +
              (num(row[`__shardkit_avg_count_${alias}`]) ?? 0);
            break;
          }
        }
      }
    }
  }
  const out: Record<string, unknown>[] = [];
  for (const acc of groups.values()) {
    for (const [alias, spec] of Object.entries(specs)) {
      if (spec.fn !== "avg") continue;
      const count = acc[`__count_${alias}`] as number;
      const sum = acc[`__sum_${alias}`] as number | null;
      acc[alias] = count === 0 || sum === null ? null : sum / count;
      delete acc[`__sum_${alias}`];
      delete acc[`__count_${alias}`];
    }
    out.push(acc);
  }
  // Without GROUP BY, an aggregate over no rows at all is still one row, as in SQL.
  if (groupBy.length === 0 && out.length === 0) {
    out.push(
      Object.fromEntries(Object.entries(specs).map(([a, s]) => [a, s.fn === "count" ? 0 : null])),
    );
  }
  return out;
}

function normalise(v: unknown): unknown {
  if (v instanceof Date) return `d:${v.getTime()}`;
  if (Buffer.isBuffer(v)) return `b:${v.toString("hex")}`;
  if (typeof v === "bigint") return `n:${v}`;
  if (typeof v === "number") return `n:${v}`;
  return v;
}
