import { mysqlCodeOf, quoteIdentifier, type SqlConnection } from "../../mysql/sql-connection.js";

/** What a shard lacks of a sharded table: the table itself, or its key column. */
export type MissingOnShard = "table" | "column";

/**
 * Whether the shard on `conn` has `table` with `column`. Column names never depend on case in
 * MySQL; table names do where `lower_case_table_names` is 0 (Linux), so there the name must
 * match exactly, as the router's queries will spell it.
 */
export async function missingOnShard(
  conn: SqlConnection,
  table: string,
  column: string,
): Promise<MissingOnShard | undefined> {
  const rows = await conn.query<{ name: string; has_column: number; lctn: number }>(
    `SELECT t.TABLE_NAME AS name, @@lower_case_table_names AS lctn,
       EXISTS (SELECT 1 FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA
         AND c.TABLE_NAME = t.TABLE_NAME AND c.COLUMN_NAME = ?) AS has_column
     FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = ?`,
    [column, table],
  );
  const found = rows.find((r) => r.name === table || Number(r.lctn) !== 0);
  if (!found) return "table";
  return Number(found.has_column) === 1 ? undefined : "column";
}

/**
 * The tables (of `tables`) where the shard on `conn` holds a row whose key column is the key
 * with canonical bytes `keyBytes`. A table missing on the shard holds no rows.
 */
export async function tablesWithKey(
  conn: SqlConnection,
  tables: readonly { readonly name: string; readonly keyColumn: string }[],
  keyBytes: Uint8Array,
): Promise<string[]> {
  const key = Buffer.from(keyBytes);
  const found: string[] = [];
  for (const t of tables) {
    const column = quoteIdentifier(t.keyColumn);
    try {
      // `=` uses the key column's index; the BINARY comparison keeps only the key itself, not
      // values a collation or a numeric conversion deems equal ('Whale', '007' for 7).
      const rows = await conn.query(
        `SELECT 1 FROM ${quoteIdentifier(t.name)} WHERE ${column} = ? AND BINARY ${column} = ? LIMIT 1`,
        [key, key],
      );
      if (rows.length > 0) found.push(t.name);
    } catch (error) {
      if (mysqlCodeOf(error) !== "ER_NO_SUCH_TABLE") throw error;
    }
  }
  return found;
}
