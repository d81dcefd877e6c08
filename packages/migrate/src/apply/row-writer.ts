import { MysqlError } from "@shardkit/directory";
import { quoteIdentifier, type SqlConnection } from "@shardkit/directory/internal";
import { escape as escapeValue } from "mysql2";
import type { Row } from "../binlog/binlog-source.js";
import type { ServerFlavour } from "../flavour/server-flavour.js";
import { MoveError } from "../move-error.js";
import { primaryKeyIn, primaryKeyOf, primaryKeyText } from "../rows/primary-key.js";
import type { RowSelector } from "../rows/row-selector.js";
import type { TableSchema } from "../rows/table-schema.js";

/**
 * Characters per INSERT before its last row (768 KiB of UTF-8 at most), well under the 16 MiB
 * max_allowed_packet of a default server, and small enough that the next is built while the
 * server runs one.
 */
const STATEMENT_CHARS = 256 * 1024;
const ER_DUP_ENTRY = 1062;

/**
 * Writes a move's rows on the target, idempotently, inside the caller's transaction. A row is
 * only ever overwritten or deleted when the target's row with that primary key is a copy of
 * one the move moves. A row of another range with the same primary key is never lost: when
 * the source no longer has that primary key in the range, the row being written is stale (the
 * binlog carries its deletion) and is skipped; else the key is on two shards: KEY_COLLISION.
 */
export class RowWriter {
  readonly #conn: SqlConnection;
  readonly #source: SqlConnection;
  readonly #flavour: ServerFlavour;
  readonly #selector: RowSelector;
  readonly #target: string;

  /**
   * `conn` is the target session (the caller's transaction); `source` a source session that
   * reads committed rows, never inside a snapshot.
   */
  constructor(
    conn: SqlConnection,
    source: SqlConnection,
    flavour: ServerFlavour,
    selector: RowSelector,
    target: string,
  ) {
    this.#conn = conn;
    this.#source = source;
    this.#flavour = flavour;
    this.#selector = selector;
    this.#target = target;
  }

  /**
   * Inserts rows the target should not have yet (a copy chunk); falls back to {@link upsert}
   * when some exist. Returns the rows skipped as stale.
   */
  async insert(table: TableSchema, rows: readonly Row[]): Promise<number> {
    if (rows.length === 0) return 0;
    try {
      await this.#send(insertStatements(table, rows, ""));
      return 0;
    } catch (error) {
      if (!(error instanceof MysqlError) || error.errno !== ER_DUP_ENTRY) throw error;
      // A failed statement is undone alone; the transaction goes on with the checked upsert.
      return this.upsert(table, rows);
    }
  }

  /**
   * Runs the statements in order, each built while the one before runs on the server (the
   * session queues them), so the target is not kept waiting for the mover to escape values.
   * Every statement sent has ended, in success or failure, when this returns or throws.
   */
  async #send(statements: Iterable<string>): Promise<void> {
    let running: Promise<unknown> = Promise.resolve();
    let failure: unknown = null;
    for (const sql of statements) {
      const next = this.#conn.execute(sql);
      next.catch(() => undefined);
      await running.catch((error: unknown) => {
        failure ??= error;
      });
      running = next;
      if (failure !== null) break;
    }
    await running.catch((error: unknown) => {
      failure ??= error;
    });
    if (failure !== null) throw failure;
  }

  /**
   * Inserts or overwrites rows, after checking every existing row with their keys is the
   * move's; rows meeting another range's row are skipped when stale, else KEY_COLLISION.
   * Returns the rows skipped.
   */
  async upsert(table: TableSchema, rows: readonly Row[]): Promise<number> {
    if (rows.length === 0) return 0;
    let write = rows;
    const foreign = await this.#foreignRows(table, write);
    if (foreign.length > 0) {
      await this.#requireGone(table, foreign);
      // The rows written at a primary key that is no longer the range's on the source are
      // stale. A key JavaScript does not match exactly (collation) is met again just below.
      const gone = new Set(foreign.map((f) => primaryKeyText(primaryKeyOf(table, f))));
      write = rows.filter((r) => !gone.has(primaryKeyText(primaryKeyOf(table, r))));
      const still = await this.#foreignRows(table, write);
      if (still[0]) throw this.#collision(table, still[0]);
    }
    if (write.length > 0) {
      const clause = this.#flavour.upsertClause(table.columns.map(quoteIdentifier));
      await this.#send(insertStatements(table, write, clause));
    }
    return rows.length - write.length;
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

  /** The target's rows with the primary keys of `rows` that the move does not move, locked. */
  async #foreignRows(table: TableSchema, rows: readonly Row[]): Promise<Row[]> {
    if (rows.length === 0) return [];
    const where = primaryKeyIn(
      table,
      rows.map((r) => primaryKeyOf(table, r)),
    );
    const columns = [...new Set([...table.primaryKey, table.keyColumn])];
    const existing = await this.#conn.query<Row>(
      `SELECT ${columns.map(quoteIdentifier).join(", ")} FROM ${quoteIdentifier(table.name)} WHERE ${where.sql} FOR UPDATE`,
      where.params,
    );
    return existing.filter((row) => !this.#selector.contains(table, row));
  }

  /**
   * KEY_COLLISION unless the source no longer has any of `foreign`'s primary keys in the
   * range: read as committed now, so whatever took them out of the range is in the binlog
   * after the row being written, and the applier meets it.
   */
  async #requireGone(table: TableSchema, foreign: readonly Row[]): Promise<void> {
    const where = primaryKeyIn(
      table,
      foreign.map((r) => primaryKeyOf(table, r)),
    );
    const columns = [...new Set([...table.primaryKey, table.keyColumn])];
    const current = await this.#source.query<Row>(
      `SELECT ${columns.map(quoteIdentifier).join(", ")} FROM ${quoteIdentifier(table.name)} WHERE ${where.sql}`,
      where.params,
    );
    const twice = current.find((row) => this.#selector.contains(table, row));
    if (!twice) return;
    const key = primaryKeyText(primaryKeyOf(table, twice));
    throw this.#collision(
      table,
      foreign.find((f) => primaryKeyText(primaryKeyOf(table, f)) === key) ?? (foreign[0] as Row),
    );
  }

  #collision(table: TableSchema, foreign: Row): MoveError {
    const key = primaryKeyText(primaryKeyOf(table, foreign));
    return new MoveError(
      "KEY_COLLISION",
      `table ${table.name} on target ${this.#target} already has a row with primary key ${key} that belongs to another range (its ${table.keyColumn} is ${JSON.stringify(foreign[table.keyColumn])}), while the source still has that key in the range; give rows primary keys unique across shards (e.g. the router's nextId), then abort the move and start it again`,
      { details: { table: table.name, shard: this.#target, primaryKey: key } },
    );
  }
}

/**
 * Multi-row INSERTs of `rows` (with `clause` after each), each about {@link STATEMENT_CHARS}
 * long at most. Values are escaped here, as mysql2 escapes parameters.
 */
function* insertStatements(
  table: TableSchema,
  rows: readonly Row[],
  clause: string,
): Generator<string> {
  const head = `INSERT INTO ${quoteIdentifier(table.name)} (${table.columns.map(quoteIdentifier).join(", ")}) VALUES `;
  const tail = clause ? ` ${clause}` : "";
  const columns = table.columns;
  // Each row's text, then one join per statement: the text is built flat, in one allocation.
  // No spaces between values: the server parses every byte (as mariadb-dump writes them).
  let texts: string[] = [];
  let chars = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Row;
    let text = "(";
    for (let c = 0; c < columns.length; c++) {
      if (c > 0) text += ",";
      text += sqlValue(row[columns[c] as string]);
    }
    text += ")";
    texts.push(text);
    chars += text.length + 1;
    if (chars >= STATEMENT_CHARS) {
      yield head + texts.join(",") + tail;
      texts = [];
      chars = 0;
    }
  }
  if (texts.length > 0) yield head + texts.join(",") + tail;
}

/** The characters an SQL string literal escapes (mysql2's set): NUL, \b, \t, \n, \r, ^Z, ", ' and \. */
const ESCAPED = new Set([0, 8, 9, 10, 13, 26, 34, 39, 92]);

function needsEscape(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c <= 39 || c === 92) && ESCAPED.has(c)) return true;
  }
  return false;
}

/** One value as an SQL literal: mysql2's escaping, with its common cases inline. */
function sqlValue(value: unknown): string {
  if (typeof value === "number") return `${value}`;
  if (typeof value === "string" && !needsEscape(value)) return `'${value}'`;
  return escapeValue(value as Parameters<typeof escapeValue>[0]);
}
