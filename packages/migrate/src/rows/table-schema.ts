import {
  getKeyFunction,
  type KeyColumnType,
  type KeyFunction,
  type ShardedTable,
} from "@shardkit/directory";
import {
  quoteIdentifier,
  readKeyColumnTypes,
  type SqlConnection,
} from "@shardkit/directory/internal";

/** How the engine orders values of a primary-key column in JavaScript. */
export type PrimaryKeyKind = "integer" | "binary" | "other";

/** A sharded table as the source defines it: what the engine copies, compares and deletes. */
export interface TableSchema {
  readonly name: string;
  readonly keyColumn: string;
  readonly keyFunction: KeyFunction;
  /** The key column's type, read once per move from the source. */
  readonly keyType: KeyColumnType;
  /** The columns written (every column but generated ones), in table order. */
  readonly columns: readonly string[];
  /** The primary key's columns, in key order. */
  readonly primaryKey: readonly string[];
  /** For each primary-key column, how JavaScript can order it (`other`: it cannot, exactly). */
  readonly primaryKeyKinds: readonly PrimaryKeyKind[];
}

/** A table the source cannot move, with the one-line reason. */
export interface TableProblem {
  readonly table: string;
  readonly code: "NO_PRIMARY_KEY" | "TABLE_NOT_ON_SHARD";
  readonly message: string;
}

const INTEGER_TYPES = new Set(["tinyint", "smallint", "mediumint", "int", "integer", "bigint"]);
const BINARY_TYPES = new Set(["binary", "varbinary"]);

interface ColumnRow {
  tableName: string;
  columnName: string;
  dataType: string;
  extra: string;
}

/**
 * Reads each sharded table's columns, primary key and key column type from one shard. Tables
 * the shard lacks, without a primary key, or without their key column come back as problems.
 */
export async function readTableSchemas(
  conn: SqlConnection,
  shard: string,
  tables: readonly ShardedTable[],
): Promise<{ schemas: Map<string, TableSchema>; problems: TableProblem[] }> {
  const schemas = new Map<string, TableSchema>();
  const problems: TableProblem[] = [];
  if (tables.length === 0) return { schemas, problems };
  const names = tables.map((t) => t.name);
  const marks = names.map(() => "?").join(", ");
  const columns = await conn.query<ColumnRow>(
    `SELECT TABLE_NAME AS tableName, COLUMN_NAME AS columnName, DATA_TYPE AS dataType, EXTRA AS extra
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${marks})
     ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    names,
  );
  const keys = await conn.query<{ tableName: string; columnName: string }>(
    `SELECT TABLE_NAME AS tableName, COLUMN_NAME AS columnName FROM information_schema.STATISTICS
     WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'PRIMARY' AND TABLE_NAME IN (${marks})
     ORDER BY TABLE_NAME, SEQ_IN_INDEX`,
    names,
  );
  const keyTypes = await readKeyColumnTypes(
    (sql, params) => conn.query(sql, params),
    tables.map((t) => ({ name: t.name, keyColumn: t.keyColumn })),
  );
  for (const t of tables) {
    const own = columns.filter((c) => c.tableName === t.name);
    const keyType = keyTypes.get(t.name);
    if (own.length === 0 || !keyType) {
      problems.push({
        table: t.name,
        code: "TABLE_NOT_ON_SHARD",
        message:
          own.length === 0
            ? `shard ${shard} has no table ${t.name}; create it there (or forget it with shardkit table remove) and retry`
            : `table ${t.name} on shard ${shard} has no shard-key column ${t.keyColumn}; add the column and retry`,
      });
      continue;
    }
    const primaryKey = keys.filter((k) => k.tableName === t.name).map((k) => k.columnName);
    if (primaryKey.length === 0) {
      problems.push({
        table: t.name,
        code: "NO_PRIMARY_KEY",
        message: `table ${t.name} on shard ${shard} has no primary key, which a move copies and compares rows by; add one and retry`,
      });
      continue;
    }
    const typeOf = (name: string) =>
      own.find((c) => c.columnName.toLowerCase() === name.toLowerCase())?.dataType.toLowerCase() ??
      "";
    schemas.set(t.name, {
      name: t.name,
      keyColumn: keyType.column,
      keyFunction: getKeyFunction(t.keyFunction),
      keyType,
      columns: own.filter((c) => !/GENERATED/i.test(c.extra)).map((c) => c.columnName),
      primaryKey,
      primaryKeyKinds: primaryKey.map((k) => {
        const type = typeOf(k);
        if (INTEGER_TYPES.has(type)) return "integer";
        if (BINARY_TYPES.has(type)) return "binary";
        return "other";
      }),
    });
  }
  return { schemas, problems };
}

/** `SHOW CREATE TABLE` of a table, or null when the shard has no such table. */
export async function showCreateTable(conn: SqlConnection, table: string): Promise<string | null> {
  const exists = await conn.query(
    "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
    [table],
  );
  if (exists.length === 0) return null;
  const rows = await conn.query<Record<string, string>>(
    `SHOW CREATE TABLE ${quoteIdentifier(table)}`,
  );
  return String(rows[0]?.["Create Table"] ?? "");
}

/** A table definition without what differs between two copies of one table (the next AUTO_INCREMENT). */
export function normaliseDefinition(createTable: string): string {
  return createTable.replace(/\s+AUTO_INCREMENT=\d+/i, "").trim();
}
