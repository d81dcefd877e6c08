import { MysqlError } from "@shardkit/directory";
import { quoteIdentifier, type SqlConnection } from "@shardkit/directory/internal";
import { escape as escapeValue } from "mysql2";
import type { Row } from "../binlog/binlog-source.js";
import type { ServerFlavour } from "../flavour/server-flavour.js";
import { MoveError } from "../move-error.js";
import {
  type PrimaryKey,
  primaryKeyIn,
  primaryKeyOf,
  primaryKeyText,
} from "../rows/primary-key.js";
import type { RowSelector } from "../rows/row-selector.js";
import type { TableSchema } from "../rows/table-schema.js";

/** Bytes of values per INSERT, well under the 16 MiB max_allowed_packet of a default server. */
const STATEMENT_BYTES = 4 * 1024 * 1024;
const ER_DUP_ENTRY = 1062;

/**
 * Writes a move's rows on the target, idempotently, inside the caller's transaction. A row is
 * only ever overwritten or deleted when the target's row with that primary key is a copy of
 * one the move moves: a row of another range with the same primary key is KEY_COLLISION,
 * never lost.
 */
export class RowWriter {
  readonly #conn: SqlConnection;
  readonly #flavour: ServerFlavour;
  readonly #selector: RowSelector;
  readonly #target: string;

  constructor(conn: SqlConnection, flavour: ServerFlavour, selector: RowSelector, target: string) {
    this.#conn = conn;
    this.#flavour = flavour;
    this.#selector = selector;
    this.#target = target;
  }

  /** Inserts rows the target should not have yet (a copy chunk); falls back to {@link upsert} when some exist. */
  async insert(table: TableSchema, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      for (const part of byStatementSize(table, rows)) {
        await this.#conn.execute(...insertSql(table, part, ""));
      }
    } catch (error) {
      if (!(error instanceof MysqlError) || error.errno !== ER_DUP_ENTRY) throw error;
      // A failed statement is undone alone; the transaction goes on with the checked upsert.
      await this.upsert(table, rows);
    }
  }

  /** Inserts or overwrites rows, after checking every existing row with their keys is the move's. */
  async upsert(table: TableSchema, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#checkExisting(
      table,
      rows.map((r) => primaryKeyOf(table, r)),
    );
    const clause = this.#flavour.upsertClause(table.columns.map(quoteIdentifier));
    for (const part of byStatementSize(table, rows)) {
      await this.#conn.execute(...insertSql(table, part, clause));
    }
  }

  /** Deletes the target's copies of rows (as their before images give them), matching key column too. */
  async delete(table: TableSchema, rows: readonly Row[]): Promise<number> {
    if (rows.length === 0) return 0;
    const columns = [...table.primaryKey];
    if (!columns.some((c) => c.toLowerCase() === table.keyColumn.toLowerCase())) {
      columns.push(table.keyColumn);
    }
    const one = `(${columns.map(() => "?").join(", ")})`;
    return this.#conn.execute(
      `DELETE FROM ${quoteIdentifier(table.name)} WHERE (${columns.map(quoteIdentifier).join(", ")}) IN (${rows.map(() => one).join(", ")})`,
      rows.flatMap((r) => columns.map((c) => r[c])),
    );
  }

  async #checkExisting(table: TableSchema, keys: readonly PrimaryKey[]): Promise<void> {
    const where = primaryKeyIn(table, keys);
    const columns = [...new Set([...table.primaryKey, table.keyColumn])];
    const existing = await this.#conn.query<Row>(
      `SELECT ${columns.map(quoteIdentifier).join(", ")} FROM ${quoteIdentifier(table.name)} WHERE ${where.sql} FOR UPDATE`,
      where.params,
    );
    const foreign = existing.find((row) => !this.#selector.contains(table, row));
    if (foreign) {
      const key = primaryKeyText(primaryKeyOf(table, foreign));
      throw new MoveError(
        "KEY_COLLISION",
        `table ${table.name} on target ${this.#target} already has a row with primary key ${key} that belongs to another range (its ${table.keyColumn} is ${JSON.stringify(foreign[table.keyColumn])}); give rows primary keys unique across shards (e.g. the router's nextId), then abort the move and start it again`,
        { details: { table: table.name, shard: this.#target, primaryKey: key } },
      );
    }
  }
}

function insertSql(table: TableSchema, rows: readonly Row[], clause: string): [string, unknown[]] {
  // Values are escaped here, as mysql2 would for placeholders, without it scanning the text for them.
  let sql = `INSERT INTO ${quoteIdentifier(table.name)} (${table.columns.map(quoteIdentifier).join(", ")}) VALUES `;
  const columns = table.columns;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Row;
    sql += r === 0 ? "(" : ", (";
    for (let c = 0; c < columns.length; c++) {
      if (c > 0) sql += ", ";
      sql += escapeValue(row[columns[c] as string] as Parameters<typeof escapeValue>[0]);
    }
    sql += ")";
  }
  return [clause ? `${sql} ${clause}` : sql, []];
}

function valueBytes(value: unknown): number {
  if (typeof value === "string") return value.length * 3 + 2;
  if (Buffer.isBuffer(value)) return value.length * 2 + 3;
  return 24;
}

/** Splits rows so that no statement's values pass {@link STATEMENT_BYTES}. */
function* byStatementSize(table: TableSchema, rows: readonly Row[]): Generator<readonly Row[]> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Row;
    let size = 0;
    for (const c of table.columns) size += valueBytes(row[c]);
    if (i > start && bytes + size > STATEMENT_BYTES) {
      yield rows.slice(start, i);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < rows.length) yield rows.slice(start);
}
