// Runs the SQL a scatter built on one shard through mysql2 directly, so the answer comes with
// mysql2's column metadata (type, flags, collation, scale) for the merge.
import type { Pool, PoolConnection } from "mysql2";
import type { FieldInfo } from "./column-kinds.js";

/** SQL with `?` placeholders and their values, as knex's `toSQL().toNative()` gives it. */
export interface ShardSql {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/** Rows and their column metadata. */
export interface ReadResult {
  readonly rows: Record<string, unknown>[];
  readonly fields: FieldInfo[];
}

/** Runs `q` and calls `done` once with every row and the column metadata, or the error. */
export function sendQuery(
  pool: Pool,
  q: ShardSql,
  done: (error: unknown, result?: ReadResult) => void,
): void {
  pool.query({ sql: q.sql, values: [...q.values] }, (error, rows, fields) => {
    if (error) done(error);
    else
      done(null, {
        rows: rows as Record<string, unknown>[],
        fields: (fields ?? []) as unknown as FieldInfo[],
      });
  });
}

/** Runs `q` and returns every row with the column metadata. */
export function readAll(pool: Pool, q: ShardSql): Promise<ReadResult> {
  return new Promise((resolve, reject) =>
    sendQuery(pool, q, (error, result) => (error ? reject(error) : resolve(result as ReadResult))),
  );
}

/** An open stream of one shard's rows; the connection returns to its pool when it ends. */
export interface RowStream {
  readonly fields: readonly FieldInfo[];
  /** The first row, still to be returned by next(); undefined when there are none. */
  readonly first: Record<string, unknown> | undefined;
  next(): Promise<IteratorResult<Record<string, unknown>>>;
  /** Reads and drops the rest, so the connection goes back to its pool idle. */
  drain(): Promise<void>;
  /** Closes the connection without reading the rest (after a failure). */
  abort(): void;
}

/**
 * Starts `q` and resolves once the shard has answered with its column metadata and first row
 * (or end), so a query the shard rejects fails here, before any merging. One row is buffered
 * at a time, plus the stream's small read-ahead.
 */
export function openStream(pool: Pool, q: ShardSql): Promise<RowStream> {
  return new Promise((resolve, reject) => {
    pool.getConnection((connectError, conn: PoolConnection) => {
      if (connectError) {
        reject(connectError);
        return;
      }
      let fields: FieldInfo[] = [];
      const query = conn.query({ sql: q.sql, values: [...q.values] });
      query.on("fields", (f: unknown) => {
        fields = f as FieldInfo[];
      });
      const rows = query.stream({ highWaterMark: 16 })[Symbol.asyncIterator]() as AsyncIterator<
        Record<string, unknown>
      >;
      let released = false;
      const release = () => {
        if (!released) {
          released = true;
          conn.release();
        }
      };
      const next = async (): Promise<IteratorResult<Record<string, unknown>>> => {
        try {
          const r = await rows.next();
          if (r.done) release();
          return r;
        } catch (error) {
          release();
          throw error;
        }
      };
      next().then((first) => {
        let pending: IteratorResult<Record<string, unknown>> | undefined = first;
        const stream: RowStream = {
          fields,
          first: first.done ? undefined : first.value,
          next: () => {
            const p = pending;
            pending = undefined;
            return p ? Promise.resolve(p) : next();
          },
          abort: () => {
            if (released) return;
            released = true;
            conn.destroy();
          },
          drain: async () => {
            pending = undefined;
            for (let r = await next(); !r.done; r = await next()) {
              // dropped
            }
          },
        };
        resolve(stream);
      }, reject);
    });
  });
}
