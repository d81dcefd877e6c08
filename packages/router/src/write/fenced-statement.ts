import type { Knex } from "knex";
import type mysql from "mysql2/promise";
import type { KeyTarget } from "../destination.js";
import type { ShardConnections } from "../shard-pools.js";
import { distinctFences, isFenceError, markRetryable } from "./fence-params.js";

/**
 * The fence of every key, one statement and COMMIT, sent as one multi-statement query.
 * MySQL stops at the first failing statement, so a refused fence (which rolls back) never
 * runs the statement, and a failed statement never commits.
 */
export async function runFencedStatement(
  shard: ShardConnections,
  targets: readonly KeyTarget[],
  build: (knex: Knex) => Knex.QueryBuilder | Knex.Raw,
): Promise<mysql.ResultSetHeader> {
  const fences = distinctFences(targets);
  const { sql, bindings } = build(shard.writer).toSQL().toNative();
  const calls = fences.map((_, i) =>
    i === 0 ? "CALL shardkit_begin_fenced(?, ?)" : "CALL shardkit_fence(?, ?)",
  );
  const conn = await shard.statements.getConnection();
  try {
    const [results] = await conn.query(`${calls.join("; ")}; ${sql}; COMMIT`, [
      ...fences.flatMap((f) => [f.ksid, f.keyBytes]),
      ...(bindings as unknown[]),
    ]);
    return (results as unknown[])[fences.length] as mysql.ResultSetHeader;
  } catch (error) {
    if (!isFenceError(error)) await conn.query("ROLLBACK").catch(() => undefined);
    throw markRetryable(error);
  } finally {
    conn.release();
  }
}
