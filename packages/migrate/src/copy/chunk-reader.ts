import { quoteIdentifier, type SqlConnection } from "@shardkit/directory/internal";
import type { Row } from "../binlog/binlog-source.js";
import { orderByPrimaryKey, type PrimaryKey, primaryKeyBound } from "../rows/primary-key.js";
import type { TableSchema } from "../rows/table-schema.js";

/** Rows of `table` after `after` (from the start when null) in primary-key order, `limit` of them. */
export async function readChunk(
  conn: SqlConnection,
  table: TableSchema,
  after: PrimaryKey | null,
  limit: number,
  columns: readonly string[] = table.columns,
): Promise<Row[]> {
  const bound = after === null ? null : primaryKeyBound(table, after, ">");
  return conn.query<Row>(
    `SELECT ${columns.map(quoteIdentifier).join(", ")} FROM ${quoteIdentifier(table.name)}${bound ? ` WHERE ${bound.sql}` : ""} ORDER BY ${orderByPrimaryKey(table)} LIMIT ${Math.floor(limit)}`,
    bound?.params ?? [],
  );
}

/** The rows of `table` in (`after`, `upTo`] in primary-key order (`upTo` null: to the end). */
export async function readSpan(
  conn: SqlConnection,
  table: TableSchema,
  after: PrimaryKey | null,
  upTo: PrimaryKey | null,
  columns: readonly string[] = table.columns,
): Promise<Row[]> {
  const terms: string[] = [];
  const params: unknown[] = [];
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
  return conn.query<Row>(
    `SELECT ${columns.map(quoteIdentifier).join(", ")} FROM ${quoteIdentifier(table.name)}${terms.length ? ` WHERE ${terms.join(" AND ")}` : ""} ORDER BY ${orderByPrimaryKey(table)}`,
    params,
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
