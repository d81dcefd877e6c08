// What a caller's query builder carries, read off knex's recorded clauses, and whether running it
// on every shard and concatenating the answers is exact. Clauses that summarise or cut rows
// (GROUP BY, HAVING, DISTINCT, aggregates, LIMIT, ORDER BY, UNION) are exact per shard only when
// every group provably lives on one shard: when the groups include the table's shard key column.
import type { Knex } from "knex";
import {
  builderAlias,
  builderLimits,
  builderMethod,
  builderStatements,
  builderTable,
  hasDriverOptions,
  rawText,
} from "../knex/knex-internals.js";

/** One item of the caller's select list. */
export type SelectItem =
  /** A column reference (`col`, `t.col`), possibly renamed (`t.col as x`, `{ x: "t.col" }`). */
  | { readonly kind: "column"; readonly expr: string; readonly name: string }
  /** `*` or `t.*`. */
  | { readonly kind: "star"; readonly table: string | undefined }
  /** A raw expression, a subquery or a knex aggregate; `names` are the aliases it may define. */
  | {
      readonly kind: "expression";
      readonly names: readonly string[];
      readonly aggregate: boolean;
      readonly window: boolean;
    };

/** The clauses of a caller's query that decide how a scatter may run it. */
export interface QueryShape {
  /** The queried table (`knex(table)`), its alias, and its shard key column when it is sharded. */
  readonly table: string | undefined;
  readonly tableAlias: string | undefined;
  readonly keyColumn: string | undefined;
  readonly select: readonly SelectItem[];
  readonly groupBy: readonly (string | undefined)[];
  readonly having: boolean;
  readonly distinct: boolean;
  readonly orderBy: boolean;
  readonly limit: boolean;
  readonly union: boolean;
  readonly with: boolean;
  readonly method: string | undefined;
  readonly driverOptions: boolean;
}

const AGGREGATE_CALL =
  /\b(count|sum|avg|min|max|group_concat|std|stddev|stddev_pop|stddev_samp|variance|var_pop|var_samp|bit_and|bit_or|bit_xor|json_arrayagg|json_objectagg)\s*\(/i;
const WINDOW_CALL = /\bover\s*(\(|`?\w)/i;
const AS_NAME = /\bas\s+[`"]?(\w+)[`"]?/gi;

/** Reads the clauses of `qb`; `keyColumnOf` gives a sharded table's key column. */
export function queryShape(
  qb: Knex.QueryBuilder,
  keyColumnOf: (table: string) => string | undefined,
): QueryShape {
  const from = builderTable(qb);
  const [, table, tableAlias] = /^\s*(\S+?)(?:\s+as\s+(\S+))?\s*$/i.exec(from ?? "") ?? [];
  const select: SelectItem[] = [];
  const groupBy: (string | undefined)[] = [];
  let having = false;
  let distinct = false;
  let orderBy = false;
  let union = false;
  let withClause = false;
  for (const s of builderStatements(qb)) {
    switch (s.grouping) {
      case "columns":
        if ((s as { distinct?: boolean }).distinct) distinct = true;
        select.push(...selectItems(s));
        break;
      case "group":
        for (const v of [s.value].flat()) groupBy.push(typeof v === "string" ? v : undefined);
        break;
      case "having":
        having = true;
        break;
      case "order":
        orderBy = true;
        break;
      case "union":
        union = true;
        break;
      case "with":
        withClause = true;
        break;
    }
  }
  const limits = builderLimits(qb);
  return {
    table,
    tableAlias,
    keyColumn: table === undefined ? undefined : keyColumnOf(table),
    select,
    groupBy,
    having,
    distinct,
    orderBy,
    limit: limits.limit !== undefined || limits.offset !== undefined,
    union,
    with: withClause,
    method: builderMethod(qb),
    driverOptions: hasDriverOptions(qb),
  };
}

function selectItems(s: { type?: string; value?: unknown; method?: string }): SelectItem[] {
  if (s.type === "aggregate" || s.type === "aggregateRaw") {
    const v = s.value;
    const names =
      typeof v === "string"
        ? [splitAlias(v).name]
        : typeof v === "object" && v !== null && rawText(v) === undefined
          ? Object.keys(v)
          : [];
    return [{ kind: "expression", names, aggregate: true, window: false }];
  }
  if (s.type === "analytic") {
    const alias = (s as { alias?: unknown }).alias;
    return [
      {
        kind: "expression",
        names: typeof alias === "string" ? [alias] : [],
        aggregate: false,
        window: true,
      },
    ];
  }
  return [s.value].flat().flatMap((v): SelectItem[] => {
    if (typeof v === "string") return [stringItem(v)];
    const raw = rawText(v);
    if (raw !== undefined) return [rawItem(raw, [])];
    const sub = builderAlias(v);
    if (sub !== undefined || (typeof v === "object" && v !== null && "_statements" in v))
      return [{ kind: "expression", names: sub ? [sub] : [], aggregate: false, window: false }];
    if (typeof v === "object" && v !== null) {
      return Object.entries(v).map(([alias, expr]): SelectItem => {
        if (typeof expr === "string") return { kind: "column", expr, name: alias };
        const text = rawText(expr);
        return text === undefined
          ? { kind: "expression", names: [alias], aggregate: false, window: false }
          : rawItem(text, [alias]);
      });
    }
    return [];
  });
}

function rawItem(sql: string, names: readonly string[]): SelectItem {
  return {
    kind: "expression",
    names: [...names, ...[...sql.matchAll(AS_NAME)].map((m) => m[1] as string)],
    aggregate: AGGREGATE_CALL.test(sql),
    window: WINDOW_CALL.test(sql),
  };
}

function stringItem(text: string): SelectItem {
  const { expr, name } = splitAlias(text);
  if (expr === "*") return { kind: "star", table: undefined };
  if (expr.endsWith(".*")) return { kind: "star", table: expr.slice(0, -2) };
  return { kind: "column", expr, name };
}

/** `t.col as x` -> expression `t.col`, name `x`; `t.col` -> name `col`. */
export function splitAlias(text: string): { expr: string; name: string } {
  const m = /^\s*(.+?)\s+as\s+(.+?)\s*$/i.exec(text);
  const expr = (m?.[1] ?? text).trim();
  const name = (m?.[2] ?? expr.slice(expr.lastIndexOf(".") + 1)).trim();
  return { expr, name };
}

/** True when `expr` names the queried table's shard key column (`key`, `table.key`, `alias.key`). */
export function isKeyColumn(shape: QueryShape, expr: string): boolean {
  if (shape.keyColumn === undefined) return false;
  const parts = expr.replace(/`/g, "").toLowerCase().split(".");
  const column = parts.pop();
  if (column !== shape.keyColumn.toLowerCase()) return false;
  if (parts.length === 0) return true;
  const qualifier = parts.join(".");
  return qualifier === shape.table?.toLowerCase() || qualifier === shape.tableAlias?.toLowerCase();
}

/** True when every group (or distinct row) of the query contains the shard key, so it lives on one shard. */
export function groupsOnOneShard(shape: QueryShape): boolean {
  if (shape.groupBy.length > 0)
    return shape.groupBy.some((g) => g !== undefined && isKeyColumn(shape, g));
  // Without GROUP BY, an aggregate or HAVING summarises the whole shard.
  if (shape.having || shape.select.some((s) => s.kind === "expression" && s.aggregate))
    return false;
  if (shape.distinct) {
    // No columns at all is SELECT DISTINCT *.
    if (shape.select.length === 0) return true;
    return shape.select.some(
      (s) =>
        (s.kind === "column" && isKeyColumn(shape, s.expr)) ||
        (s.kind === "star" &&
          (s.table === undefined ||
            s.table.toLowerCase() === shape.table?.toLowerCase() ||
            s.table.toLowerCase() === shape.tableAlias?.toLowerCase())),
    );
  }
  return false;
}

/** True when the query summarises rows per shard (GROUP BY, HAVING, DISTINCT, aggregates). */
export function summarises(shape: QueryShape): boolean {
  return (
    shape.groupBy.length > 0 ||
    shape.having ||
    shape.distinct ||
    shape.select.some((s) => s.kind === "expression" && s.aggregate)
  );
}

/**
 * Why running the query on each shard and merging would not be exact, as the end of a
 * one-line message, or undefined when it is exact. `withAggregates`: the scatter computes
 * aggregates itself, so the query must be plain rows.
 */
export function refusal(shape: QueryShape, withAggregates: boolean): string | undefined {
  const key = shape.keyColumn
    ? `group by the shard key column ${shape.keyColumn} (its groups live on one shard) or `
    : "";
  if (shape.method !== "select" && shape.method !== undefined)
    return `is a ${shape.method}() query; a scatter runs a plain select: build it with knex(table).select(...)`;
  if (shape.driverOptions)
    return "sets driver options (.options()); a scatter reads rows as the router's connections return them: remove them";
  if (shape.union) return "carries a UNION; run each part as its own scatter";
  if (shape.with)
    return "carries a WITH clause, which each shard would evaluate over its own rows only; join or filter in the query instead";
  if (shape.limit)
    return "carries its own LIMIT/OFFSET; pass limit and offset to scatter() instead";
  if (shape.orderBy) return "carries its own ORDER BY; pass orderBy to scatter() instead";
  if (shape.select.some((s) => s.kind === "expression" && s.window))
    return "carries a window function (OVER), which each shard would compute over its own rows only; compute it from the merged rows";
  if (withAggregates) {
    if (summarises(shape))
      return "summarises rows itself (GROUP BY, HAVING, DISTINCT or an aggregate) while the scatter computes aggregates; give the rows only and pass groupBy, having and aggregates to scatter()";
    return undefined;
  }
  if (!summarises(shape)) return undefined;
  if (groupsOnOneShard(shape)) return undefined;
  if (shape.groupBy.length > 0)
    return `carries its own GROUP BY without the shard key; ${key}pass groupBy and aggregates to scatter() instead`;
  if (shape.having)
    return `carries its own HAVING without a GROUP BY on the shard key; ${key}pass having, groupBy and aggregates to scatter() instead`;
  if (shape.distinct)
    return `selects DISTINCT without the shard key column; ${shape.keyColumn ? `select the shard key column ${shape.keyColumn} too, or ` : ""}pass groupBy and aggregates (e.g. countDistinct) to scatter() instead`;
  return `computes an aggregate in its select list; ${key}pass aggregates to scatter() instead`;
}
