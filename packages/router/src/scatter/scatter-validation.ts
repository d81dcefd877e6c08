// Checks a scatter's options before any query is sent, and reads them into a plan: each
// mistake is a one-line BAD_ARGUMENT naming the option and saying what to give instead.
import { RouterError } from "../router-errors.js";
import type { ScatterOptions } from "../router-options.js";
import { AGGREGATE_FUNCTIONS, type AggregateFunction } from "./aggregates.js";
import { HAVING_OPERATORS, type HavingOperator, type HavingPredicate } from "./having.js";
import { ORDER_DIRECTIONS } from "./row-order.js";
import {
  type GroupColumn,
  groupColumn,
  normaliseName,
  type OutputColumn,
  resolveOutput,
} from "./scatter-terms.js";

const OPTION_NAMES = [
  "query",
  "range",
  "orderBy",
  "limit",
  "offset",
  "aggregates",
  "groupBy",
  "having",
  "allowPartial",
] as const;

/** One ORDER BY term of the plan. */
export interface PlannedOrder {
  readonly column: string;
  readonly desc: boolean;
}

/** The aggregate part of a plan: groups, aggregates, and orderBy/having resolved to output columns. */
export interface AggregatePlan {
  readonly groups: readonly GroupColumn[];
  readonly aggregates: readonly {
    readonly name: string;
    readonly fn: AggregateFunction;
    readonly column: string | undefined;
  }[];
  readonly order: readonly { readonly output: OutputColumn; readonly desc: boolean }[];
  readonly having:
    | readonly {
        readonly output: OutputColumn;
        readonly op: HavingOperator;
        readonly value: unknown;
      }[]
    | HavingPredicate
    | undefined;
}

/** A scatter's options, checked. */
export interface ScatterPlan {
  readonly query: ScatterOptions["query"];
  /** The query function's source text: with the other options, it names the query in caches. */
  readonly queryText: string;
  readonly range: ScatterOptions["range"];
  readonly orderBy: readonly PlannedOrder[];
  readonly limit: number | undefined;
  readonly offset: number;
  readonly aggregate: AggregatePlan | undefined;
  readonly allowPartial: boolean;
}

function bad(message: string, option: string): RouterError {
  return new RouterError("BAD_ARGUMENT", `scatter: ${message}`, { details: { option } });
}

function show(v: unknown): string {
  if (typeof v === "function") return "a function";
  if (typeof v === "bigint") return `${v}n`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function count(v: unknown, option: "limit" | "offset"): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    throw bad(
      `${option} must be a non-negative integer, got ${show(v)}; pass e.g. ${option}: 10`,
      option,
    );
  return v;
}

/** Checks `options` and reads them into a plan; throws BAD_ARGUMENT naming the first wrong option. */
export function planScatter(options: unknown): ScatterPlan {
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw bad(
      `options must be an object such as { query: (knex) => knex("users") }, got ${show(options)}`,
      "options",
    );
  const o = options as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(OPTION_NAMES as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw bad(
      `unknown option ${unknown.join(", ")}; the options are ${OPTION_NAMES.join(", ")}`,
      unknown[0] as string,
    );
  if (typeof o.query !== "function")
    throw bad(
      `query must be a function (knex, shard) => knex(table)..., got ${show(o.query)}`,
      "query",
    );
  if (
    o.range !== undefined &&
    typeof o.range !== "string" &&
    (typeof o.range !== "object" || o.range === null)
  )
    throw bad(`range must be a key range such as "40-80", got ${show(o.range)}`, "range");
  if (o.allowPartial !== undefined && typeof o.allowPartial !== "boolean")
    throw bad(`allowPartial must be true or false, got ${show(o.allowPartial)}`, "allowPartial");
  const limit = count(o.limit, "limit");
  const offset = count(o.offset, "offset") ?? 0;
  const orderBy = planOrder(o.orderBy);
  const aggregate = o.aggregates === undefined ? undefined : planAggregates(o, orderBy);
  if (!aggregate) {
    if (o.groupBy !== undefined)
      throw bad(
        'groupBy needs aggregates (e.g. aggregates: { n: { fn: "count" } }); without them, select the rows you want',
        "groupBy",
      );
    if (o.having !== undefined)
      throw bad(
        "having needs aggregates and filters their merged groups; filter rows with where() in the query instead",
        "having",
      );
  }
  return {
    query: o.query as ScatterOptions["query"],
    queryText: String(o.query),
    range: o.range as ScatterOptions["range"],
    orderBy,
    limit,
    offset,
    aggregate,
    allowPartial: o.allowPartial === true,
  };
}

function planOrder(v: unknown): PlannedOrder[] {
  if (v === undefined) return [];
  if (!Array.isArray(v))
    throw bad(
      `orderBy must be an array such as [{ column: "id", order: "desc" }], got ${show(v)}`,
      "orderBy",
    );
  return v.map((t: unknown) => {
    const term = t as { column?: unknown; order?: unknown } | null;
    if (
      typeof term !== "object" ||
      term === null ||
      typeof term.column !== "string" ||
      term.column.trim() === ""
    )
      throw bad(
        `each orderBy term must be { column: "name", order?: "asc" | "desc" }, got ${show(t)}`,
        "orderBy",
      );
    if (term.order !== undefined && !(ORDER_DIRECTIONS as readonly unknown[]).includes(term.order))
      throw bad(
        `orderBy ${term.column}: order must be "asc" or "desc", got ${show(term.order)}`,
        "orderBy",
      );
    if (/\s+as\s+/i.test(term.column))
      throw bad(
        `orderBy ${term.column}: name the alias alone; define it in the query's select list or in groupBy`,
        "orderBy",
      );
    return { column: term.column.trim(), desc: term.order === "desc" };
  });
}

function planAggregates(
  o: Record<string, unknown>,
  orderBy: readonly PlannedOrder[],
): AggregatePlan {
  const specs = o.aggregates;
  if (typeof specs !== "object" || specs === null || Array.isArray(specs))
    throw bad(
      `aggregates must be an object of name -> { fn, column }, got ${show(specs)}`,
      "aggregates",
    );
  const aggregates = Object.entries(specs).map(([name, s]) => {
    const spec = s as { fn?: unknown; column?: unknown } | null;
    if (typeof spec !== "object" || spec === null)
      throw bad(`aggregate ${name} must be { fn, column }, got ${show(s)}`, "aggregates");
    if (!(AGGREGATE_FUNCTIONS as readonly unknown[]).includes(spec.fn))
      throw bad(
        `aggregate ${name}: unknown fn ${show(spec.fn)}; use one of ${AGGREGATE_FUNCTIONS.join(", ")}`,
        "aggregates",
      );
    if (spec.column !== undefined && (typeof spec.column !== "string" || spec.column.trim() === ""))
      throw bad(
        `aggregate ${name}: column must be a column name, got ${show(spec.column)}`,
        "aggregates",
      );
    if (spec.column === undefined && spec.fn !== "count")
      throw bad(
        `aggregate ${name}: ${String(spec.fn)} needs a column, e.g. { fn: "${String(spec.fn)}", column: "amount" }`,
        "aggregates",
      );
    checkName(name, "aggregates");
    return {
      name,
      fn: spec.fn as AggregateFunction,
      column: (spec.column as string | undefined)?.trim(),
    };
  });
  const groups = planGroups(o.groupBy);
  if (aggregates.length === 0 && groups.length === 0)
    throw bad(
      'aggregates is empty; name at least one, e.g. { n: { fn: "count" } }, or give groupBy',
      "aggregates",
    );
  const names = [...groups.map((g) => g.name), ...aggregates.map((a) => a.name)];
  const dup = names.find(
    (n, i) => names.findIndex((m) => normaliseName(m) === normaliseName(n)) !== i,
  );
  if (dup !== undefined)
    throw bad(
      `two output columns are named ${dup}; give the group or the aggregate another name`,
      "aggregates",
    );
  const aggregateNames = aggregates.map((a) => a.name);
  const resolve = (column: string, option: string) => {
    const out = resolveOutput(column, groups, aggregateNames);
    if (!out)
      throw bad(
        `${option} ${column} is not an output column; use one of ${names.join(", ")}`,
        option,
      );
    return out;
  };
  const order = orderBy.map((t) => ({ output: resolve(t.column, "orderBy"), desc: t.desc }));
  let having: AggregatePlan["having"];
  if (typeof o.having === "function") having = o.having as HavingPredicate;
  else if (Array.isArray(o.having)) {
    having = o.having.map((c: unknown) => {
      const cond = c as { column?: unknown; op?: unknown; value?: unknown } | null;
      if (typeof cond !== "object" || cond === null || typeof cond.column !== "string")
        throw bad(`each having condition must be { column, op, value }, got ${show(c)}`, "having");
      if (!(HAVING_OPERATORS as readonly unknown[]).includes(cond.op))
        throw bad(
          `having ${cond.column}: op must be one of ${HAVING_OPERATORS.join(" ")}, got ${show(cond.op)}`,
          "having",
        );
      if (cond.value === null || cond.value === undefined)
        throw bad(
          `having ${cond.column}: value must not be null (NULL compares with nothing); use a having function to test for null`,
          "having",
        );
      const output = resolve(cond.column, "having");
      const fn = output.source === "aggregate" ? aggregates[output.index]?.fn : undefined;
      if (
        (fn === "count" || fn === "countDistinct" || fn === "sum" || fn === "avg") &&
        !isNumber(cond.value)
      )
        throw bad(
          `having ${cond.column}: ${fn} is a number, so value must be a number, a bigint or decimal text, got ${show(cond.value)}`,
          "having",
        );
      return { output, op: cond.op as HavingOperator, value: cond.value };
    });
  } else if (o.having !== undefined)
    throw bad(
      `having must be an array of { column, op, value } or a function (row) => boolean, got ${show(o.having)}`,
      "having",
    );
  return { groups, aggregates, order, having };
}

function planGroups(v: unknown): GroupColumn[] {
  if (v === undefined) return [];
  if (!Array.isArray(v))
    throw bad(
      `groupBy must be an array such as ["country"] or ["inventory.store_id as store"], got ${show(v)}`,
      "groupBy",
    );
  return v.map((t: unknown) => {
    const raw = t as { sql?: unknown; as?: unknown } | null;
    if (typeof t === "string" && t.trim() !== "") {
      const g = groupColumn(t);
      checkName(g.name, "groupBy");
      return g;
    }
    if (
      typeof raw === "object" &&
      raw !== null &&
      typeof raw.sql === "string" &&
      raw.sql.trim() !== "" &&
      typeof raw.as === "string" &&
      raw.as.trim() !== ""
    ) {
      if (raw.sql.includes("?"))
        throw bad(
          `groupBy { sql: ${show(raw.sql)} } takes no placeholders; write the expression out`,
          "groupBy",
        );
      const g = groupColumn({ sql: raw.sql, as: raw.as.trim() });
      checkName(g.name, "groupBy");
      return g;
    }
    throw bad(
      `each groupBy term must be a column ("t.col", "t.col as name") or { sql, as }, got ${show(t)}`,
      "groupBy",
    );
  });
}

function checkName(name: string, option: string): void {
  if (name.trim() === "" || name.toLowerCase().startsWith("__shardkit_"))
    throw bad(
      `${show(name)} cannot name an output column (empty, or reserved for the router's helper columns); choose another name`,
      option,
    );
}

function isNumber(v: unknown): boolean {
  if (typeof v === "number") return Number.isFinite(v);
  if (typeof v === "bigint") return true;
  return typeof v === "string" && /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(v);
}
