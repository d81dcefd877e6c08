import { fencedInsertSql, fenceJoinSql, quoteIdentifier } from "@shardkit/directory/internal";
import type { Knex } from "knex";
import type mysql from "mysql2/promise";
import type { KeyTarget } from "../destination.js";
import {
  builderInsertRows,
  builderLimits,
  builderMethod,
  builderStatements,
  builderTable,
} from "../knex/knex-internals.js";
import type { ShardConnections } from "../shard-pools.js";
import { markRetryable } from "./fence-params.js";
import { hasPlainValues } from "./plain-values.js";

/** MySQL's error for a column name two joined tables share (the statement ran nothing). */
const ER_NON_UNIQ_ERROR = 1052;

/**
 * Runs a `writeOne` statement as one autocommit statement that carries the key's fence, when
 * its shape allows: an UPDATE or DELETE with only WHERE clauses gets the range's fence row
 * joined (`fenceJoinSql`), one plain row of an INSERT becomes `fencedInsertSql`. Returns
 * undefined when the statement has another shape, or names a column the fence table has too;
 * the caller then takes the fence procedures. Affected rows 0 means refused or nothing matched.
 * For keys whose range holds no pinned key (`fencedByRange`).
 */
export async function runFencedBuilder(
  shard: ShardConnections,
  target: KeyTarget,
  build: (knex: Knex) => Knex.QueryBuilder | Knex.Raw,
): Promise<mysql.ResultSetHeader | undefined> {
  const native = fencedNative(build(shard.writer), target);
  if (!native) return undefined;
  try {
    const result = await shard.statement(native.sql, native.bindings);
    return result as mysql.ResultSetHeader;
  } catch (error) {
    if ((error as { errno?: unknown } | null)?.errno === ER_NON_UNIQ_ERROR) return undefined;
    // One autocommit statement: a deadlock rolled all of it back.
    throw markRetryable(error);
  }
}

function fencedNative(
  built: Knex.QueryBuilder | Knex.Raw,
  target: KeyTarget,
): { sql: string; bindings: unknown[] } | undefined {
  const qb = built as Knex.QueryBuilder;
  const method = builderMethod(qb);
  const table = builderTable(qb);
  if (table === undefined || !builderStatements(qb).every((s) => s.grouping === "where"))
    return undefined;
  if (method === "update" || method === "del") {
    if (builderLimits(qb).limit !== undefined) return undefined;
    const fenced = qb
      .clone()
      .joinRaw(fenceJoinSql("shardkit_fence_0"), [target.range.start, target.ksid]);
    const { sql, bindings } = fenced.toSQL().toNative();
    return { sql, bindings: bindings as unknown[] };
  }
  if (method === "insert") {
    const rows = builderInsertRows(qb);
    const row = rows?.length === 1 ? rows[0] : undefined;
    if (!row || !hasPlainValues(row) || table.includes(" ")) return undefined;
    const columns = Object.keys(row).filter((c) => row[c] !== undefined);
    const bindings = columns.map((c) => row[c]);
    bindings.push(target.range.start, target.ksid, target.ksid);
    return { sql: fencedInsertSql(table, columns, quoteIdentifier), bindings };
  }
  return undefined;
}
