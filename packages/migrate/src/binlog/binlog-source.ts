import type { BinlogPosition } from "./binlog-position.js";

/** A row as a binlog image or a SELECT gives it: values by column name. */
export type Row = Readonly<Record<string, unknown>>;

/** One row changed by a transaction: an insert has no `before`, a delete no `after`. */
export interface RowChange {
  readonly table: string;
  readonly before: Row | null;
  readonly after: Row | null;
}

/** A committed transaction's changes to the chosen tables, and the position after it. */
export interface BinlogTransaction {
  readonly kind: "transaction";
  readonly changes: readonly RowChange[];
  readonly position: BinlogPosition;
}

/** A transaction boundary (or a new file) with no change to the chosen tables. */
export interface BinlogProgress {
  readonly kind: "position";
  readonly position: BinlogPosition;
}

/** A statement that changes a chosen table's definition (ALTER, DROP, RENAME, TRUNCATE). */
export interface BinlogSchemaChange {
  readonly kind: "schema";
  readonly table: string;
  readonly statement: string;
  readonly position: BinlogPosition;
}

/** What a binlog source yields, in binlog order. */
export type BinlogItem = BinlogTransaction | BinlogProgress | BinlogSchemaChange;

/** Where and what to stream. */
export interface BinlogSourceOptions {
  /** Stream from this position (a transaction boundary). */
  readonly start: BinlogPosition;
  /** The database whose tables are streamed. */
  readonly database: string;
  /** The tables whose row changes are yielded; other tables' transactions yield positions only. */
  readonly tables: readonly string[];
}

/**
 * A source's row binlog from a position: committed transactions in order with before and after
 * images as plain objects by column name, and the position after each. Iterate once; `close()`
 * stops the stream (an iteration in progress ends).
 */
export interface BinlogSource extends AsyncIterable<BinlogItem> {
  close(): Promise<void>;
}
