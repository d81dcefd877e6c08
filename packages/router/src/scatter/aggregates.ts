// Aggregates across shards, exactly: each shard computes partial aggregates per group and the
// router combines them (counts and sums add in BigInt decimal arithmetic, MIN/MAX compare by
// the column's kind, AVG is the exact sum over the count at the server's scale), producing the
// values and JS types one server would have returned.
import { ShardkitError } from "@shardkit/directory";
import { type ColumnKind, type ColumnOrder, compareCells, groupKey } from "./column-kinds.js";
import {
  addDecimal,
  type Decimal,
  divideDecimal,
  formatDecimal,
  parseDecimal,
} from "./exact-decimal.js";
import {
  type MergedColumn,
  mergedColumn,
  requireMergeable,
  type ShardAnswer,
} from "./result-columns.js";
import type { GroupColumn } from "./scatter-terms.js";
import type { CollationWeights } from "./text-weights.js";

/** Aggregate functions a scatter can compute across shards. */
export const AGGREGATE_FUNCTIONS = ["count", "sum", "min", "max", "avg", "countDistinct"] as const;
/** One of {@link AGGREGATE_FUNCTIONS}. */
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];

/** One aggregate: the function and its column (`count` without a column counts rows). */
export interface AggregateSpec {
  readonly fn: AggregateFunction;
  readonly column?: string;
}

/** One aggregate of a scatter, as planned. */
export interface PlannedAggregate {
  readonly name: string;
  readonly fn: AggregateFunction;
  readonly column: string | undefined;
  /** countDistinct of the table's shard key: each shard's count is exact and they add. */
  readonly perShardDistinct: boolean;
}

/** Names of the helper columns each shard selects; the merge reads them back. */
export const helper = {
  group: (i: number) => `__shardkit_g${i}`,
  groupWeight: (i: number) => `__shardkit_g${i}w`,
  value: (j: number) => `__shardkit_a${j}`,
  valueWeight: (j: number) => `__shardkit_a${j}w`,
  avgSum: (j: number) => `__shardkit_a${j}s`,
  avgCount: (j: number) => `__shardkit_a${j}n`,
  avgType: (j: number) => `__shardkit_a${j}t`,
  distinct: "__shardkit_dv",
  distinctWeight: "__shardkit_dw",
} as const;

/** A merged group: one value (and weight, for text) per output column, groups then aggregates. */
export interface MergedRow {
  readonly values: unknown[];
  readonly weights: unknown[];
}

/** The merged groups and how each output column compares. */
export interface MergedTable {
  readonly columns: readonly { readonly name: string; readonly order: ColumnOrder }[];
  readonly rows: MergedRow[];
}

type AggState =
  | { fn: "count" | "distinctCount"; n: bigint }
  | { fn: "distinctSet"; seen: Set<string> }
  | { fn: "sum"; dec: Decimal | undefined; float: number | undefined }
  | { fn: "extreme"; value: unknown; weight: unknown }
  | { fn: "avg"; dec: Decimal | undefined; float: number | undefined; n: bigint };

interface GroupAcc {
  values: unknown[];
  weights: unknown[];
  states: AggState[];
}

/**
 * Combines each shard's partial aggregates. `distinctValues[j]` holds, for a countDistinct that
 * is not per shard, each shard's distinct values per group. Without groups, no rows at all
 * still make one row (COUNT 0, the others NULL), as one server answers.
 */
export function mergeAggregates(
  groups: readonly GroupColumn[],
  aggregates: readonly PlannedAggregate[],
  answers: readonly ShardAnswer[],
  distinctValues: ReadonlyMap<number, readonly ShardAnswer[]>,
  collations: ReadonlyMap<string, CollationWeights>,
): MergedTable {
  const groupCols = groups.map((g, i) => {
    const c = mergedColumn(answers, helper.group(i), collations, g.spec);
    requireMergeable(c, g.spec, "group");
    return c;
  });
  const valueCols = aggregates.map((a, j) =>
    a.fn === "avg"
      ? mergedColumn(answers, helper.avgType(j), collations, a.name)
      : mergedColumn(answers, helper.value(j), collations, a.name),
  );
  const sumCols = aggregates.map((a, j) =>
    a.fn === "avg" ? mergedColumn(answers, helper.avgSum(j), collations, a.name) : undefined,
  );
  aggregates.forEach((a, j) => {
    if (a.fn === "min" || a.fn === "max")
      requireMergeable(valueCols[j] as MergedColumn, `${a.fn}(${a.column})`, "order");
  });
  const accs = new Map<string, GroupAcc>();
  const keyOf = (row: Record<string, unknown>) =>
    JSON.stringify(
      groupCols.map((c, i) => groupKey(c, row[helper.group(i)], row[helper.groupWeight(i)])),
    );
  const accFor = (row: Record<string, unknown>, key: string) => {
    let acc = accs.get(key);
    if (!acc) {
      acc = {
        values: groups.map((_, i) => row[helper.group(i)]),
        weights: groups.map((_, i) => row[helper.groupWeight(i)]),
        states: aggregates.map(initialState),
      };
      accs.set(key, acc);
    }
    return acc;
  };

  for (const answer of answers) {
    for (const row of answer.rows) {
      const acc = accFor(row, keyOf(row));
      aggregates.forEach((a, j) => {
        const s = acc.states[j] as AggState;
        switch (s.fn) {
          case "count":
          case "distinctCount":
            s.n += BigInt(String(row[helper.value(j)] ?? 0));
            break;
          case "sum":
            addTo(s, row[helper.value(j)], (valueCols[j] as MergedColumn).kind);
            break;
          case "avg":
            addTo(s, row[helper.avgSum(j)], (sumCols[j] as MergedColumn).kind);
            s.n += BigInt(String(row[helper.avgCount(j)] ?? 0));
            break;
          case "extreme": {
            const v = row[helper.value(j)];
            const w = row[helper.valueWeight(j)];
            if (v === null || v === undefined) break;
            const c =
              s.value === undefined
                ? -1
                : compareCells(valueCols[j] as MergedColumn, v, w, s.value, s.weight);
            if (s.value === undefined || (a.fn === "min" ? c < 0 : c > 0)) {
              s.value = v;
              s.weight = w;
            }
            break;
          }
          case "distinctSet":
            break;
        }
      });
    }
  }

  for (const [j, parts] of distinctValues) {
    const col = mergedColumn(parts, helper.distinct, collations, aggregates[j]?.name);
    requireMergeable(col, String(aggregates[j]?.column), "group");
    for (const part of parts) {
      for (const row of part.rows) {
        const v = row[helper.distinct];
        if (v === null || v === undefined) continue;
        const s = accs.get(keyOf(row))?.states[j];
        if (s?.fn === "distinctSet") s.seen.add(groupKey(col, v, row[helper.distinctWeight]));
      }
    }
  }

  if (groups.length === 0 && accs.size === 0) {
    accs.set("", { values: [], weights: [], states: aggregates.map(initialState) });
  }
  const rows = [...accs.values()].map((acc) => {
    const out = aggregates.map((_, j) =>
      finalValue(acc.states[j] as AggState, valueCols[j] as MergedColumn, sumCols[j]),
    );
    return {
      values: [...acc.values, ...out.map((o) => o.value)],
      weights: [...acc.weights, ...out.map((o) => o.weight)],
    };
  });
  const columns = [
    ...groups.map((g, i) => ({ name: g.name, order: groupCols[i] as ColumnOrder })),
    ...aggregates.map((a, j) => ({ name: a.name, order: outputOrder(a, valueCols[j]) })),
  ];
  return { columns, rows };
}

function initialState(a: PlannedAggregate): AggState {
  switch (a.fn) {
    case "count":
      return { fn: "count", n: 0n };
    case "countDistinct":
      return a.perShardDistinct
        ? { fn: "distinctCount", n: 0n }
        : { fn: "distinctSet", seen: new Set() };
    case "sum":
      return { fn: "sum", dec: undefined, float: undefined };
    case "avg":
      return { fn: "avg", dec: undefined, float: undefined, n: 0n };
    case "min":
    case "max":
      return { fn: "extreme", value: undefined, weight: undefined };
  }
}

function addTo(
  s: { dec: Decimal | undefined; float: number | undefined },
  v: unknown,
  kind: ColumnKind,
): void {
  if (v === null || v === undefined) return;
  if (kind === "float") {
    s.float = (s.float ?? 0) + (v as number);
    return;
  }
  const d = parseDecimal(String(v));
  if (!d)
    throw new ShardkitError("INTERNAL", `a shard returned ${String(v)} as a sum; report this`);
  s.dec = s.dec ? addDecimal(s.dec, d) : d;
}

/** An integer as mysql2 returns a BIGINT with supportBigNumbers: a number when exact, else text. */
export function integerValue(n: bigint): number | string {
  const x = Number(n);
  return Number.isSafeInteger(x) ? x : n.toString();
}

function finalValue(
  s: AggState,
  col: MergedColumn,
  sumCol: MergedColumn | undefined,
): { value: unknown; weight: unknown } {
  switch (s.fn) {
    case "count":
    case "distinctCount":
      return { value: integerValue(s.n), weight: undefined };
    case "distinctSet":
      return { value: integerValue(BigInt(s.seen.size)), weight: undefined };
    case "extreme":
      return { value: s.value ?? null, weight: s.weight };
    case "sum":
      return { value: numberValue(s.dec, s.float, col), weight: undefined };
    case "avg": {
      if (s.n === 0n || (s.dec === undefined && s.float === undefined))
        return { value: null, weight: undefined };
      if (col.kind === "decimal") {
        const sum = s.dec ?? parseDecimal(String(s.float)) ?? { units: 0n, scale: 0 };
        return { value: formatDecimal(divideDecimal(sum, s.n, col.decimals)), weight: undefined };
      }
      const sum = s.float ?? Number(numberValue(s.dec, undefined, sumCol ?? col));
      return { value: sum / Number(s.n), weight: undefined };
    }
  }
}

/** A merged sum in the type of its column: DECIMAL text at the column's scale, a float, or an integer. */
function numberValue(
  dec: Decimal | undefined,
  float: number | undefined,
  col: MergedColumn,
): unknown {
  if (dec === undefined && float === undefined) return null;
  if (col.kind === "float") return (float ?? 0) + (dec ? Number(formatDecimal(dec)) : 0);
  const d = dec ?? { units: 0n, scale: 0 };
  if (col.kind === "integer") return integerValue(d.units / 10n ** BigInt(d.scale));
  return formatDecimal(d, col.decimals);
}

function outputOrder(a: PlannedAggregate, col: MergedColumn | undefined): ColumnOrder {
  if (a.fn === "count" || a.fn === "countDistinct") return { kind: "integer" };
  return col ?? { kind: "null" };
}
