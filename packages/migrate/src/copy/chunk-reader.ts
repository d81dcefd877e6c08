import { quoteIdentifier, type SqlConnection } from "@shardkit/directory/internal";
import type { Row } from "../binlog/binlog-source.js";
import { orderByPrimaryKey, type PrimaryKey, primaryKeyBound } from "../rows/primary-key.js";
import type { SqlFilter } from "../rows/row-selector.js";
import type { TableSchema } from "../rows/table-schema.js";

/**
 * Rows of `table` after `after` (from the start when null) in primary-key order, `limit` of
 * them, only those meeting `filter` when given.
 */
export async function readChunk(
  conn: SqlConnection,
  table: TableSchema,
  after: PrimaryKey | null,
  limit: number,
  columns: readonly string[] = table.columns,
  filter: SqlFilter | null = null,
): Promise<Row[]> {
  const where = conditions(table, after, null, filter);
  return conn.query<Row>(
    `SELECT ${columns.map(quoteIdentifier).join(", ")} FROM ${quoteIdentifier(table.name)}${where.sql} ORDER BY ${orderByPrimaryKey(table)} LIMIT ${Math.floor(limit)}`,
    where.params,
  );
}

function conditions(
  table: TableSchema,
  after: PrimaryKey | null,
  upTo: PrimaryKey | null,
  filter: SqlFilter | null,
): { sql: string; params: unknown[] } {
  const terms: string[] = [];
  const params: unknown[] = [];
  if (filter) {
    terms.push(filter.sql);
    params.push(...filter.params);
  }
  if (after !== null) {
    const b = primaryKeyBound(table, after, ">");
    terms.push(b.sql);
    params.push(...b.params);
  }
  if (upTo !== null) {
    const b = primaryKeyBound(table, upTo, "<=");
    terms.push(b.sql);
    params.push(...b.params);
  }
  return { sql: terms.length ? ` WHERE ${terms.join(" AND ")}` : "", params };
}

/** The rows of `table` in (`after`, `upTo`] in primary-key order (`upTo` null: to the end), meeting `filter`. */
export async function readSpan(
  conn: SqlConnection,
  table: TableSchema,
  after: PrimaryKey | null,
  upTo: PrimaryKey | null,
  columns: readonly string[] = table.columns,
  filter: SqlFilter | null = null,
): Promise<Row[]> {
  const where = conditions(table, after, upTo, filter);
  return conn.query<Row>(
    `SELECT ${columns.map(quoteIdentifier).join(", ")} FROM ${quoteIdentifier(table.name)}${where.sql} ORDER BY ${orderByPrimaryKey(table)}`,
    where.params,
  );
}

/** The source's estimate of a table's rows (information_schema), for progress. */
export async function estimateRows(conn: SqlConnection, table: string): Promise<number> {
  const rows = await conn.query<{ n: number | string | null }>(
    "SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
    [table],
  );
  return Number(rows[0]?.n ?? 0);
}
