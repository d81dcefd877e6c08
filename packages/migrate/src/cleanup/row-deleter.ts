import { quoteIdentifier, type SqlConnection } from "@shardkit/directory/internal";
import { readChunk } from "../copy/chunk-reader.js";
import { type FailpointName, failpoint } from "../failpoints.js";
import { type PrimaryKey, primaryKeyOf } from "../rows/primary-key.js";
import type { RowSelector } from "../rows/row-selector.js";
import type { TableSchema } from "../rows/table-schema.js";

/** Options of {@link deleteMovedRows}. */
export interface DeleteOptions {
  /** Rows read per chunk (the moved ones among them are deleted in one statement). */
  readonly chunkSize: number;
  /** Pause between chunks, so the server keeps serving. Default 0. */
  readonly pauseMs?: number;
  /** Waits before each chunk while the servers are too busy (replica lag). */
  readonly throttle?: () => Promise<void>;
  /** The failpoint reached after each chunk. */
  readonly failpoint?: FailpointName;
  readonly signal?: AbortSignal;
  /** After each chunk: rows deleted from the table so far. */
  readonly onChunk?: (rowsDeleted: number) => void;
}

/**
 * Deletes one table's rows that `selector` picks from a shard, in primary-key order, a small
 * chunk per transaction: the source's rows after the switch (cleanup), or the target's copies
 * after an abort. Safe to run again: rows already gone are simply not found.
 */
export async function deleteMovedRows(
  conn: SqlConnection,
  table: TableSchema,
  selector: RowSelector,
  o: DeleteOptions,
): Promise<number> {
  const columns = [...new Set([...table.primaryKey, table.keyColumn])];
  let after: PrimaryKey | null = null;
  let deleted = 0;
  for (;;) {
    o.signal?.throwIfAborted();
    await o.throttle?.();
    const rows = await readChunk(
      conn,
      table,
      after,
      o.chunkSize,
      columns,
      selector.sqlFilter(table),
    );
    const last = rows.at(-1);
    if (!last) break;
    const moved = selector.filter(table, rows);
    if (moved.length > 0) {
      // By primary key AND the key column as read: a row inserted since under the same primary
      // key with another key (re-keyed onto this shard over the copy) is not the copy read.
      const keyed = [...table.primaryKey];
      if (!keyed.some((c) => c.toLowerCase() === table.keyColumn.toLowerCase())) {
        keyed.push(table.keyColumn);
      }
      const one = `(${keyed.map(() => "?").join(", ")})`;
      deleted += await conn.execute(
        `DELETE FROM ${quoteIdentifier(table.name)} WHERE (${keyed.map(quoteIdentifier).join(", ")}) IN (${moved.map(() => one).join(", ")})`,
        moved.flatMap((r) => keyed.map((c) => r[c])),
      );
    }
    o.onChunk?.(deleted);
    if (o.failpoint) failpoint(o.failpoint);
    if (rows.length < o.chunkSize) break;
    after = primaryKeyOf(table, last);
    if (o.pauseMs) await new Promise((resolve) => setTimeout(resolve, o.pauseMs));
  }
  return deleted;
}

/** How many of a table's rows `selector` picks on a shard (read in chunks of `chunkSize`). */
export async function countMovedRows(
  conn: SqlConnection,
  table: TableSchema,
  selector: RowSelector,
  chunkSize: number,
  stopAtFirst = false,
): Promise<number> {
  const columns = [...new Set([...table.primaryKey, table.keyColumn])];
  let after: PrimaryKey | null = null;
  let count = 0;
  for (;;) {
    const rows = await readChunk(conn, table, after, chunkSize, columns, selector.sqlFilter(table));
    const last = rows.at(-1);
    if (!last) return count;
    count += selector.filter(table, rows).length;
    if (stopAtFirst && count > 0) return count;
    if (rows.length < chunkSize) return count;
    after = primaryKeyOf(table, last);
  }
}
