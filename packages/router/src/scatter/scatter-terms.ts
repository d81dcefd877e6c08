// The names a scatter's options use: GROUP BY terms and the output columns of an aggregate
// scatter, which orderBy and having refer to.
import { splitAlias } from "./query-shape.js";

/**
 * One GROUP BY term: a column (`store_id`, `inventory.store_id`), a column under a name
 * (`inventory.store_id as store`), or a SQL expression under a name
 * (`{ sql: "YEAR(rental.rental_date)", as: "year" }`).
 */
export type GroupTerm = string | { readonly sql: string; readonly as: string };

/** A GROUP BY term as each shard selects and groups it. */
export interface GroupColumn {
  /** The column reference, or the SQL text when `raw`. */
  readonly expr: string;
  readonly raw: boolean;
  /** The output name: the alias, else the column's own name (as MySQL names it). */
  readonly name: string;
  /** The term as the caller wrote it. */
  readonly spec: string;
}

/** Reads one GROUP BY term. */
export function groupColumn(term: GroupTerm): GroupColumn {
  if (typeof term === "string") {
    const { expr, name } = splitAlias(term);
    return { expr, raw: false, name, spec: term };
  }
  return { expr: term.sql, raw: true, name: term.as, spec: `${term.sql} as ${term.as}` };
}

/** Output columns of an aggregate scatter: the groups, then the aggregates. */
export type OutputColumn =
  | { readonly source: "group"; readonly index: number; readonly name: string }
  | { readonly source: "aggregate"; readonly index: number; readonly name: string };

/** Lower case and without backticks, as MySQL matches column names and aliases. */
export function normaliseName(name: string): string {
  return name.replace(/`/g, "").trim().toLowerCase();
}

/**
 * The output column an orderBy/having term names: an aggregate's name, a group's output name,
 * or a group term as written (`inventory.store_id`); undefined when it names none.
 */
export function resolveOutput(
  term: string,
  groups: readonly GroupColumn[],
  aggregateNames: readonly string[],
): OutputColumn | undefined {
  const t = normaliseName(term);
  const a = aggregateNames.findIndex((n) => normaliseName(n) === t);
  if (a >= 0) return { source: "aggregate", index: a, name: aggregateNames[a] as string };
  const g = groups.findIndex(
    (c) =>
      normaliseName(c.name) === t ||
      normaliseName(c.spec) === t ||
      (!c.raw && normaliseName(c.expr) === t),
  );
  if (g >= 0) return { source: "group", index: g, name: (groups[g] as GroupColumn).name };
  return undefined;
}
