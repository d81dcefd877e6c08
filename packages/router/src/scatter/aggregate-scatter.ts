// An aggregate scatter: each shard computes partial aggregates per group; the router merges the
// groups, filters them with having, orders and pages them.
import type { ShardConnections } from "../shard-pools.js";
import {
  helper,
  type MergedRow,
  type MergedTable,
  mergeAggregates,
  type PlannedAggregate,
} from "./aggregates.js";
import { havingWeight, satisfies } from "./having.js";
import { isKeyColumn } from "./query-shape.js";
import { collationHelper, requireMergeable, type ShardAnswer } from "./result-columns.js";
import { rowComparator, type SortKey } from "./row-order.js";
import type { AggregatePlan, ScatterPlan } from "./scatter-validation.js";
import { aggregateShardSql } from "./shard-query.js";
import { type ReadResult, readAll } from "./shard-reads.js";
import type { BuiltQuery, ShardRunner } from "./shard-runner.js";

type Row = Record<string, unknown>;

/** Runs an aggregate scatter over the built queries and returns the merged rows. */
export async function scatterAggregates(
  runner: ShardRunner,
  plan: ScatterPlan,
  agg: AggregatePlan,
  built: readonly BuiltQuery[],
  connections: (shard: string) => ShardConnections,
): Promise<Row[]> {
  // A countDistinct of the table's shard key is exact per shard; any other needs the values.
  const aggregates: PlannedAggregate[] = agg.aggregates.map((a) => ({
    ...a,
    perShardDistinct:
      a.fn === "countDistinct" &&
      built.length > 0 &&
      built.every((b) => isKeyColumn(b.shape, a.column as string)),
  }));
  const sql = new Map(
    built.map((b) => [b.shard, aggregateShardSql(b.knex, b.qb, agg, aggregates, b.copies?.keys)]),
  );
  // One answer per shard: its main query and its distinct-value queries, all or nothing.
  const done = await runner.each(built, async (b) => {
    const q = sql.get(b.shard) as ReturnType<typeof aggregateShardSql>;
    const pool = b.connections.scatterReader;
    const [main, ...distinct] = await Promise.all([
      readAll(pool, q.main),
      ...[...q.distinct.values()].map((d) => readAll(pool, d)),
    ]);
    // A shard holding copies answered per key: the partials of copies are dropped.
    const copies = b.copies;
    const owned = (r: ReadResult): ReadResult =>
      copies ? { rows: r.rows.filter((row) => copies.keep(row)), fields: r.fields } : r;
    return {
      main: owned(main),
      distinct: new Map(
        [...q.distinct.keys()].map((j, k) => [j, distinct[k] && owned(distinct[k])]),
      ),
    };
  });
  const complete: ShardAnswer[] = done.map((d) => ({ shard: d.shard, ...d.value.main }));
  const distinctValues = new Map<number, ShardAnswer[]>();
  for (const d of done) {
    for (const [j, part] of d.value.distinct) {
      if (!part) continue;
      distinctValues.set(j, [...(distinctValues.get(j) ?? []), { shard: d.shard, ...part }]);
    }
  }

  const collationColumns = [
    ...agg.groups.map((_, i) => helper.group(i)),
    ...aggregates.map((_, j) => helper.value(j)),
    helper.distinct,
  ].map((value) => ({ value, collation: collationHelper(value) }));
  const collations = await runner.collationsOf(
    [...complete, ...[...distinctValues.values()].flat()],
    collationColumns,
    connections,
  );
  const table = mergeAggregates(agg.groups, aggregates, complete, distinctValues, collations);
  const rows = having(agg, table, complete);
  if (agg.order.length > 0) {
    const keys: SortKey<MergedRow>[] = agg.order.map((t) => {
      const index = outputIndex(agg, t.output);
      const column = table.columns[index] as MergedTable["columns"][number];
      requireMergeable({ ...column.order, field: undefined, decimals: 0 }, t.output.name, "order");
      return {
        order: column.order,
        desc: t.desc,
        value: (r) => r.values[index],
        weight: (r) => r.weights[index],
      };
    });
    rows.sort(rowComparator(keys));
  }
  const { offset, limit } = plan;
  return rows
    .slice(offset, limit === undefined ? undefined : offset + limit)
    .map((r) => toRow(table, r));
}

function outputIndex(
  agg: AggregatePlan,
  output: { source: "group" | "aggregate"; index: number },
): number {
  return output.source === "group" ? output.index : agg.groups.length + output.index;
}

/** The merged groups that pass the plan's having (all of them without one). */
function having(
  agg: AggregatePlan,
  table: MergedTable,
  answers: readonly ShardAnswer[],
): MergedRow[] {
  if (agg.having === undefined) return table.rows;
  if (typeof agg.having === "function") {
    const keep = agg.having;
    return table.rows.filter((r) => keep(toRow(table, r)));
  }
  const conditions = agg.having.map((c, k) => ({
    ...c,
    index: outputIndex(agg, c.output),
    // The weight MySQL gave the value in the column's collation; the same on every row.
    weight: answers
      .flatMap((a) => a.rows)
      .map((r) => r[havingWeight(k)])
      .find((w) => w !== null && w !== undefined),
  }));
  return table.rows.filter((r) =>
    conditions.every((c) =>
      satisfies(
        table.columns[c.index]?.order ?? { kind: "null" },
        c.output.name,
        r.values[c.index],
        r.weights[c.index],
        c.op,
        c.value,
        c.weight,
      ),
    ),
  );
}

/** A merged group as one server returns it: groups then aggregates, by output name. */
export function toRow(table: MergedTable, r: MergedRow): Row {
  const row: Row = {};
  table.columns.forEach((c, i) => {
    row[c.name] = r.values[i];
  });
  return row;
}
