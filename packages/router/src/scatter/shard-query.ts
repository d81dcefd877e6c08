// Builds the SQL each shard runs: the caller's query plus what the merge needs, each helper
// column selected under a `__shardkit_` name (the value of every ORDER BY / GROUP BY term and
// its WEIGHT_STRING, partial aggregates). The caller's own column names are never renamed.
import type { Knex } from "knex";
import { hasColumns } from "../knex/knex-internals.js";
import { RouterError } from "../router-errors.js";
import { helper, type PlannedAggregate } from "./aggregates.js";
import { keyHelper } from "./copy-filter.js";
import { havingWeight } from "./having.js";
import type { QueryShape } from "./query-shape.js";
import { collationHelper } from "./result-columns.js";
import { type GroupColumn, normaliseName } from "./scatter-terms.js";
import type { AggregatePlan, PlannedOrder } from "./scatter-validation.js";
import type { ShardSql } from "./shard-reads.js";

/** Names of the helper columns of the i-th ORDER BY term of a row scatter. */
export const orderHelper = {
  value: (i: number) => `__shardkit_o${i}`,
  weight: (i: number) => `__shardkit_o${i}w`,
  collation: (i: number) => `__shardkit_o${i}c`,
} as const;

/** Alias of the derived table a row scatter wraps the caller's query in when it must. */
const DERIVED = "__shardkit_d";

/** How a row scatter's ORDER BY term is written on the shard. */
type RowTerm =
  /** A column reference, usable in the same SELECT. */
  | { readonly expr: string }
  /** An output column of the caller's query, usable only from an outer SELECT. */
  | { readonly output: string };

/** Resolves an ORDER BY term against the caller's select list, as MySQL resolves ORDER BY names. */
function rowTerm(shape: QueryShape, term: string): RowTerm {
  const t = normaliseName(term);
  for (const s of shape.select) {
    if (s.kind === "column" && normaliseName(s.name) === t) return { expr: s.expr };
  }
  for (const s of shape.select) {
    if (s.kind === "expression" && s.names.some((n) => normaliseName(n) === t))
      return { output: term };
  }
  return { expr: term };
}

/** The output name of a term, for a query wrapped in a derived table. */
function outputName(shape: QueryShape, term: string, resolved: RowTerm): string {
  if ("output" in resolved) return resolved.output;
  const t = normaliseName(resolved.expr);
  for (const s of shape.select) {
    if (s.kind === "column" && (normaliseName(s.expr) === t || normaliseName(s.name) === t))
      return s.name;
  }
  const [column, qualifier] = resolved.expr.replace(/`/g, "").split(".").reverse();
  const starred = shape.select.some(
    (s) =>
      s.kind === "star" &&
      (s.table === undefined ||
        qualifier === undefined ||
        normaliseName(s.table) === normaliseName(qualifier)),
  );
  if (starred && column) return column;
  throw new RouterError(
    "BAD_ARGUMENT",
    `scatter: orderBy ${term} is not a column of the query's result, which the merge needs here (the query groups its rows or orders by an expression alias); select ${term} in the query`,
    { details: { option: "orderBy", column: term } },
  );
}

/** Which helper columns an ORDER BY term needs beyond its value, by the kind of its values. */
export interface TermNeeds {
  /** WEIGHT_STRING: text (collation order) and dates (microseconds). */
  readonly weight: boolean;
  /** COLLATION(): text, whose collation the merge must know. */
  readonly collation: boolean;
}

/** Every helper: what a term needs when its kind is not known yet. */
export const ALL_NEEDS: TermNeeds = { weight: true, collation: true };

/** Where the merge reads each ORDER BY term in a shard's rows. */
export interface TermColumns {
  readonly value: string;
  readonly weight: string;
  readonly collation: string;
}

/** A row scatter's SQL for one shard and where its rows carry each term. */
export interface RowShardQuery {
  readonly sql: ShardSql;
  readonly terms: readonly TermColumns[];
}

/**
 * The SQL of a row scatter on one shard: the caller's query, the ORDER BY, LIMIT
 * `limit + offset`, and per term the helper columns `needs` asks for (all when undefined). A
 * term's value is read from the caller's own column when the select list names it once;
 * otherwise it is selected again under a helper name. When a term is an alias of an
 * expression, or the query groups its own rows (on the shard key), the query becomes a derived
 * table ordered from outside; MariaDB merges a plain one back into the outer query. `keys` are
 * selected as `__shardkit_k<i>` (a shard holding copies of a moving range's rows).
 */
export function rowShardSql(
  knex: Knex,
  caller: Knex.QueryBuilder,
  shape: QueryShape,
  orderBy: readonly PlannedOrder[],
  perShardLimit: number | undefined,
  needs?: readonly TermNeeds[],
  keys: readonly string[] = [],
): RowShardQuery {
  const qb = caller.clone();
  if (keys.length > 0) {
    if (!hasColumns(qb)) qb.select("*");
    selectKeys(knex, qb, keys);
  }
  let out = qb;
  const columns: TermColumns[] = [];
  if (orderBy.length > 0) {
    const terms = orderBy.map((t) => rowTerm(shape, t.column));
    const wrap = shape.distinct || shape.groupBy.length > 0 || terms.some((t) => "output" in t);
    let exprs: string[];
    if (wrap) {
      exprs = orderBy.map(
        (t, i) => `${DERIVED}.${outputName(shape, t.column, terms[i] as RowTerm)}`,
      );
      out = knex.select(knex.raw("??.*", [DERIVED])).from(qb.as(DERIVED));
    } else {
      exprs = terms.map((t) => (t as { expr: string }).expr);
      if (!hasColumns(out)) out.select("*");
    }
    exprs.forEach((e, i) => {
      const own = wrap || needs === undefined ? undefined : ownColumn(shape, e);
      const need = needs?.[i] ?? ALL_NEEDS;
      const parts: string[] = [];
      const bindings: Knex.RawBinding[] = [];
      if (own === undefined) {
        parts.push("?? AS ??");
        bindings.push(e, orderHelper.value(i));
      }
      if (need.weight) {
        parts.push("WEIGHT_STRING(??) AS ??");
        bindings.push(e, orderHelper.weight(i));
      }
      if (need.collation) {
        parts.push("COLLATION(??) AS ??");
        bindings.push(e, orderHelper.collation(i));
      }
      if (parts.length > 0) out.select(knex.raw(parts.join(", "), bindings));
      columns.push({
        value: own ?? orderHelper.value(i),
        weight: orderHelper.weight(i),
        collation: orderHelper.collation(i),
      });
    });
    exprs.forEach((e, i) => {
      out.orderBy(e, orderBy[i]?.desc ? "desc" : "asc");
    });
  }
  if (perShardLimit !== undefined) out.limit(perShardLimit);
  return { sql: native(out), terms: columns };
}

/** The caller's output column that is exactly `expr`, when its name is unambiguous in the result. */
function ownColumn(shape: QueryShape, expr: string): string | undefined {
  if (shape.select.some((s) => s.kind !== "column")) return undefined;
  const t = normaliseName(expr);
  const hits = shape.select.filter((s) => s.kind === "column" && normaliseName(s.expr) === t) as {
    name: string;
  }[];
  const name = hits[0]?.name;
  if (name === undefined || name.toLowerCase().startsWith("__shardkit_")) return undefined;
  const same = shape.select.filter(
    (s) => s.kind === "column" && normaliseName(s.name) === normaliseName(name),
  );
  return same.length === 1 ? name : undefined;
}

/** Selects each of `keys` as `__shardkit_k<i>`. */
function selectKeys(knex: Knex, qb: Knex.QueryBuilder, keys: readonly string[]): void {
  qb.select(
    knex.raw(
      keys.map(() => "?? AS ??").join(", "),
      keys.flatMap((k, i) => [k, keyHelper(i)]),
    ),
  );
}

/** A SQL fragment for a group term: an identifier (bound as `??`) or the caller's expression. */
function groupSql(g: GroupColumn): { text: string; bindings: Knex.RawBinding[] } {
  return g.raw ? { text: `(${g.expr})`, bindings: [] } : { text: "??", bindings: [g.expr] };
}

function argument(column: string | undefined): { text: string; bindings: Knex.RawBinding[] } {
  return column === undefined || column === "*"
    ? { text: "*", bindings: [] }
    : { text: "??", bindings: [column] };
}

function selectGroups(knex: Knex, qb: Knex.QueryBuilder, groups: readonly GroupColumn[]): void {
  groups.forEach((g, i) => {
    const e = groupSql(g);
    qb.select(
      knex.raw(`${e.text} AS ??, WEIGHT_STRING(${e.text}) AS ??, COLLATION(${e.text}) AS ??`, [
        ...e.bindings,
        helper.group(i),
        ...e.bindings,
        helper.groupWeight(i),
        ...e.bindings,
        collationHelper(helper.group(i)),
      ]),
    );
  });
}

function groupByAll(knex: Knex, qb: Knex.QueryBuilder, groups: readonly GroupColumn[]): void {
  for (const g of groups) {
    const e = groupSql(g);
    qb.groupBy(knex.raw(e.text, e.bindings));
  }
}

/**
 * The SQL of an aggregate scatter on one shard: per group, the group values and weights and
 * the partial aggregates (AVG as SUM, COUNT, and AVG itself for its result type); then one
 * query per countDistinct that is not on the shard key, listing each group's distinct values.
 * `keys` are selected as `__shardkit_k<i>` and grouped by too, so a shard holding copies of a
 * moving range's rows answers partial aggregates per key, which the router filters.
 */
export function aggregateShardSql(
  knex: Knex,
  qb: Knex.QueryBuilder,
  plan: AggregatePlan,
  aggregates: readonly PlannedAggregate[],
  keys: readonly string[] = [],
): { main: ShardSql; distinct: Map<number, ShardSql> } {
  const base = qb.clone().clearSelect().clearOrder();
  const byKeys = (q: Knex.QueryBuilder) => {
    if (keys.length === 0) return;
    selectKeys(knex, q, keys);
    for (const k of keys) q.groupBy(k);
  };
  const distinct = new Map<number, ShardSql>();
  aggregates.forEach((a, j) => {
    if (a.fn !== "countDistinct" || a.perShardDistinct) return;
    const d = base.clone();
    selectGroups(knex, d, plan.groups);
    d.select(
      knex.raw("?? AS ??, WEIGHT_STRING(??) AS ??, COLLATION(??) AS ??", [
        a.column as string,
        helper.distinct,
        a.column as string,
        helper.distinctWeight,
        a.column as string,
        collationHelper(helper.distinct),
      ]),
    );
    groupByAll(knex, d, plan.groups);
    d.groupBy(a.column as string);
    byKeys(d);
    distinct.set(j, native(d));
  });

  const main = base.clone();
  selectGroups(knex, main, plan.groups);
  aggregates.forEach((a, j) => {
    const arg = argument(a.column);
    const fn = (sql: string, alias: string) =>
      main.select(knex.raw(`${sql}(${arg.text}) AS ??`, [...arg.bindings, alias]));
    switch (a.fn) {
      case "count":
        fn("COUNT", helper.value(j));
        break;
      case "countDistinct":
        if (a.perShardDistinct)
          main.select(knex.raw("COUNT(DISTINCT ??) AS ??", [a.column as string, helper.value(j)]));
        break;
      case "sum":
        fn("SUM", helper.value(j));
        break;
      case "min":
      case "max": {
        const f = a.fn.toUpperCase();
        main.select(
          knex.raw(`${f}(??) AS ??, WEIGHT_STRING(${f}(??)) AS ??, COLLATION(${f}(??)) AS ??`, [
            a.column as string,
            helper.value(j),
            a.column as string,
            helper.valueWeight(j),
            a.column as string,
            collationHelper(helper.value(j)),
          ]),
        );
        break;
      }
      case "avg":
        fn("SUM", helper.avgSum(j));
        fn("COUNT", helper.avgCount(j));
        fn("AVG", helper.avgType(j));
        break;
    }
  });
  if (Array.isArray(plan.having)) {
    plan.having.forEach((c, k) => {
      // The weight of a text value in the collation of the column it is compared with:
      // LEFT(x, 0) carries x's collation into CONCAT.
      if (typeof c.value !== "string") return;
      if (c.output.source === "group") {
        const e = groupSql(plan.groups[c.output.index] as GroupColumn);
        main.select(
          knex.raw(`WEIGHT_STRING(CONCAT(LEFT(${e.text}, 0), ?)) AS ??`, [
            ...e.bindings,
            c.value,
            havingWeight(k),
          ]),
        );
        return;
      }
      const a = aggregates[c.output.index];
      if (a?.fn !== "min" && a?.fn !== "max") return;
      main.select(
        knex.raw(`WEIGHT_STRING(CONCAT(LEFT(${a.fn.toUpperCase()}(??), 0), ?)) AS ??`, [
          a.column as string,
          c.value,
          havingWeight(k),
        ]),
      );
    });
  }
  groupByAll(knex, main, plan.groups);
  byKeys(main);
  return { main: native(main), distinct };
}

function native(qb: Knex.QueryBuilder): ShardSql {
  const n = qb.toSQL().toNative();
  return { sql: n.sql, values: n.bindings as readonly unknown[] };
}
