// On a shard that holds copies of a moving range's rows (see move-copies.ts), which of the
// query's rows are copies: each sharded table the query reads has its key column selected as a
// helper (`__shardkit_k<i>`), unless it is joined on a key already read (its rows then share
// that key), and a row is dropped when one of those keys belongs to a move's range (or key)
// and another shard owns it. A query that reads a sharded table where no helper can follow it
// (a subquery, raw SQL) is refused rather than answered with the copies in it.
import { canonicalKeyString, type DirectoryMap } from "@shardkit/directory";
import type { Knex } from "knex";
import type { ColumnKeyOf } from "../destination.js";
import { builderJoins } from "../knex/knex-internals.js";
import { RouterError } from "../router-errors.js";
import { type CopyScope, describeMove } from "./move-copies.js";
import type { QueryShape } from "./query-shape.js";
import { normaliseName } from "./scatter-terms.js";

/** Name of the helper column carrying the i-th key the query reads. */
export const keyHelper = (i: number): string => `__shardkit_k${i}`;

/** How a shard's query drops the copies it holds. */
export interface ShardCopies {
  /** Key columns (qualified) the shard's SQL selects as `__shardkit_k<i>`; an aggregate also groups by them. */
  readonly keys: readonly string[];
  /** False for a row (or a partial aggregate) that is a copy the shard does not own. */
  keep(row: Record<string, unknown>): boolean;
}

/** A key column of a sharded table the query reads, as the shard's SQL names it. */
interface KeyRead {
  readonly expr: string;
  readonly table: string;
}

/** Joins whose rows all share a row of the tables before them (an unmatched one adds NULLs). */
const KEEPING_JOINS = new Set(["inner", "left", "left outer"]);

/**
 * How `shard` drops the copies of `scopes` from the query's rows; throws RANGE_BUSY when it
 * cannot. `groupsRows`: the query groups its own rows (on the shard key), so a helper must be
 * a key its groups already hold.
 */
export function shardCopies(
  map: DirectoryMap,
  shard: string,
  scopes: readonly CopyScope[],
  shape: QueryShape,
  qb: Knex.QueryBuilder,
  groupsRows: boolean,
  columnKeyOf: ColumnKeyOf,
): ShardCopies {
  const reads = keyReads(map, shape, qb, groupsRows);
  if (typeof reads === "string") {
    const first = scopes[0] as CopyScope;
    throw new RouterError(
      "RANGE_BUSY",
      `scatter: shard ${shard} holds copies of rows it does not own for ${describeMove(first.move)}, and the query ${reads}, where the router cannot drop them; run it once the move is done (see shardkit moves), or name each sharded table in the query's FROM or a join on its key`,
      { details: { shard, move: first.move.id } },
    );
  }
  const tables = reads.map((r) => ({
    table: r.table,
    hashed: map.table(r.table)?.keyFunction === "hash",
  }));
  const names = reads.map((_, i) => keyHelper(i));
  const isCopy = (table: string, hashed: boolean, value: unknown): boolean => {
    let key: unknown;
    try {
      key = columnKeyOf(table, value);
    } catch (error) {
      const first = scopes[0] as CopyScope;
      throw new RouterError(
        "RANGE_BUSY",
        `scatter: shard ${shard} holds copies of rows it does not own for ${describeMove(first.move)}, and a row of ${table} on it has a key the router cannot route (${(error as Error).message}), so whether it is a copy is unknown; correct that row's key or run the query once the move is done`,
        { details: { shard, table, move: first.move.id }, cause: error },
      );
    }
    const loc = map.lookup(key, table);
    if (loc.shard === shard) return false;
    for (const s of scopes) {
      if (s.key === null) {
        if (s.range.start <= loc.ksid && loc.ksid < s.range.end) return true;
      } else if ((!hashed || loc.ksid === s.range.start) && canonicalKeyString(key) === s.key) {
        return true;
      }
    }
    return false;
  };
  return {
    keys: reads.map((r) => r.expr),
    keep(row) {
      for (let i = 0; i < names.length; i++) {
        const value = row[names[i] as string];
        if (value === null || value === undefined) continue;
        const t = tables[i] as { table: string; hashed: boolean };
        if (isCopy(t.table, t.hashed, value)) return false;
      }
      return true;
    },
  };
}

/**
 * The key columns a shard's query must select to tell copies apart, or why it cannot: the
 * queried table's key, and the key of each joined sharded table not joined on a key already
 * read. Any other read of a sharded table (a subquery, a raw FROM or join) cannot be followed.
 */
function keyReads(
  map: DirectoryMap,
  shape: QueryShape,
  qb: Knex.QueryBuilder,
  groupsRows: boolean,
): KeyRead[] | string {
  const reads: KeyRead[] = [];
  /** Key columns whose value is the row's key, normalised. */
  const sameKey = new Set<string>();
  /** How many reads of each sharded table the FROM and the plain joins account for. */
  const named = new Map<string, number>();
  const from = shape.table === undefined ? undefined : map.table(shape.table);
  if (from) {
    const expr = `${shape.tableAlias ?? from.name}.${from.keyColumn}`;
    reads.push({ expr, table: from.name });
    sameKey.add(normaliseName(expr));
    named.set(from.name, 1);
  }
  for (const join of builderJoins(qb)) {
    if (join.table === undefined) continue;
    const [, name, alias] = /^\s*(\S+?)(?:\s+as\s+(\S+))?\s*$/i.exec(join.table) ?? [];
    const table = name === undefined ? undefined : map.table(name.replace(/`/g, ""));
    if (!table) continue;
    named.set(table.name, (named.get(table.name) ?? 0) + 1);
    const expr = `${(alias ?? table.name).replace(/`/g, "")}.${table.keyColumn}`;
    const key = normaliseName(expr);
    const onKey =
      KEEPING_JOINS.has(join.joinType.toLowerCase()) &&
      join.conditions.every((c) => c.bool === "and") &&
      join.conditions.some(
        (c) =>
          c.type === "onBasic" &&
          c.operator === "=" &&
          typeof c.column === "string" &&
          typeof c.value === "string" &&
          ((normaliseName(c.column) === key && sameKey.has(normaliseName(c.value))) ||
            (normaliseName(c.value) === key && sameKey.has(normaliseName(c.column)))),
      );
    if (onKey) {
      sameKey.add(key);
      continue;
    }
    if (groupsRows)
      return `groups rows of ${table.name}, joined on other columns than the shard key`;
    reads.push({ expr, table: table.name });
  }
  const sql = qb.toSQL().sql;
  for (const t of map.snapshot.tables) {
    if (tableReads(sql, t.name) > (named.get(t.name) ?? 0))
      return `reads ${t.name} in a subquery or raw SQL`;
  }
  return reads;
}

/** How often `sql` reads `table` (after FROM or JOIN, optionally database-qualified). */
function tableReads(sql: string, table: string): number {
  const name = table.replace(/\$/g, "\\$");
  const re = new RegExp(
    `(?:from|join)\\s+(?:\`?[\\w$]+\`?\\s*\\.\\s*)?\`?${name}\`?(?![\\w$])`,
    "gi",
  );
  return sql.match(re)?.length ?? 0;
}
