import type { CatchUp } from "../apply/catch-up.js";
import type { RowWriter } from "../apply/row-writer.js";
import type { BinlogPosition } from "../binlog/binlog-position.js";
import type { Row } from "../binlog/binlog-source.js";
import type { ShardConnection } from "../connection/shard-connection.js";
import { failpoint } from "../failpoints.js";
import type { ServerFlavour } from "../flavour/server-flavour.js";
import { type PrimaryKey, primaryKeyOf } from "../rows/primary-key.js";
import type { RowSelector } from "../rows/row-selector.js";
import type { TableSchema } from "../rows/table-schema.js";
import { estimateRows, readChunk } from "./chunk-reader.js";
import {
  inTransaction,
  saveChunkProgress,
  saveTableProgress,
  type TableProgress,
  type TargetProgress,
} from "./target-progress.js";

/** Progress of one table's copy, after each chunk. */
export interface CopyProgress {
  readonly table: string;
  readonly rowsCopied: number;
  readonly rowsRead: number;
  readonly totalEstimate: number;
  readonly rowsPerSecond: number;
}

/** What the copy of one table needs. */
export interface TableCopyOptions {
  readonly moveId: string;
  readonly shard: string;
  readonly source: ShardConnection;
  /** A second source session, for flavours that lock the table while a snapshot starts. */
  readonly sourceHelper: () => Promise<ShardConnection>;
  readonly target: ShardConnection;
  readonly flavour: ServerFlavour;
  readonly selector: RowSelector;
  readonly writer: RowWriter;
  readonly catchUp: CatchUp;
  readonly progress: TargetProgress;
  /** Source rows read by the first chunk. */
  readonly chunkSize: number;
  /**
   * Chunk sizes then follow the time chunks take, aiming at this many ms each (as
   * pt-online-schema-change's --chunk-time), between a tenth and 20 times `chunkSize`; 0 keeps
   * every chunk at `chunkSize`. Default 0.
   */
  readonly chunkTimeMs?: number;
  readonly signal?: AbortSignal;
  /** Waits before each chunk while the servers are too busy (replica lag). */
  readonly throttle?: () => Promise<void>;
  readonly onProgress?: (progress: CopyProgress) => void;
}

/**
 * Copies one table's moved rows to the target in primary-key order, a chunk at a time. Each
 * chunk is read in a consistent snapshot of the source; the applier first brings the target
 * exactly to the snapshot's binlog position; then the chunk's rows, the table's last key and
 * that position are committed in one target transaction.
 */
export async function copyTable(o: TableCopyOptions, table: TableSchema): Promise<void> {
  const state: TableProgress = o.progress.tables.get(table.name) ?? {
    table: table.name,
    lastPk: null,
    copied: false,
    rowsCopied: 0,
    rowsRead: 0,
    createdTable: false,
  };
  o.progress.tables.set(table.name, state);
  await inTransaction(o.target, () => saveTableProgress(o.target, o.moveId, state));
  const totalEstimate = await estimateRows(o.source, table.name);
  const started = performance.now();
  const rowsAtStart = state.rowsCopied;
  // The next chunk is read while this one is written: the applier only has to stand at a
  // chunk's position when that chunk is written, and reads run on the source's own session.
  const sizer = chunkSizer(o.chunkSize, o.chunkTimeMs ?? 0);
  let reading: Promise<Chunk> | null = state.copied
    ? null
    : readAt(o, table, state.lastPk, sizer.size);
  try {
    while (reading) {
      const { rows, at, limit } = await reading;
      reading = null;
      o.signal?.throwIfAborted();
      await o.catchUp.advanceTo(at, o.signal);
      const moved = o.selector.filter(table, rows);
      const last = rows.at(-1);
      const next: TableProgress = {
        ...state,
        lastPk: last ? primaryKeyOf(table, last) : state.lastPk,
        copied: rows.length < limit,
        rowsCopied: state.rowsCopied + moved.length,
        rowsRead: state.rowsRead + rows.length,
      };
      if (!next.copied) reading = readAt(o, table, next.lastPk, sizer.size);
      await inTransaction(o.target, async () => {
        // Rows skipped as stale (deleted on the source since the snapshot) were not copied.
        next.rowsCopied -= await o.writer.insert(table, moved);
        await saveChunkProgress(o.target, o.moveId, next, at, o.progress.eventsApplied);
      });
      // The applier's filter moves on only once the chunk is committed.
      Object.assign(state, next);
      sizer.done(rows.length);
      const seconds = (performance.now() - started) / 1000;
      o.onProgress?.({
        table: table.name,
        rowsCopied: state.rowsCopied,
        rowsRead: state.rowsRead,
        totalEstimate,
        rowsPerSecond: seconds > 0 ? Math.round((state.rowsCopied - rowsAtStart) / seconds) : 0,
      });
      failpoint("after-copy-chunk");
    }
  } finally {
    // A read still in flight ends before the session is used for anything else.
    await reading?.catch(() => undefined);
  }
}

interface Chunk {
  readonly rows: Row[];
  readonly at: BinlogPosition;
  /** The rows asked for: fewer means the table's end. */
  readonly limit: number;
}

/**
 * The size of the next chunk, towards what the last chunk's rate would copy in `targetMs`:
 * growing, straight there (at most four times the last size); shrinking, halfway. A fixed
 * `initial` when `targetMs` is 0.
 */
export function chunkSizer(
  initial: number,
  targetMs: number,
): { readonly size: number; done(rows: number): void } {
  let size = initial;
  let last = performance.now();
  const min = Math.max(1, Math.floor(initial / 10));
  const max = initial * 20;
  return {
    get size() {
      return size;
    },
    done(rows: number) {
      const now = performance.now();
      const ms = now - last;
      last = now;
      if (targetMs <= 0 || rows === 0 || ms <= 0) return;
      const ideal = (rows / ms) * targetMs;
      // A table's first chunks are small, and each pays a snapshot and a commit: grow fast.
      const next = ideal > size ? Math.min(ideal, size * 4) : (size + ideal) / 2;
      size = Math.min(max, Math.max(min, Math.round(next)));
    },
  };
}

/** Reads the chunk after `lastPk` in a consistent snapshot, with the snapshot's binlog position. */
async function readAt(
  o: TableCopyOptions,
  table: TableSchema,
  lastPk: PrimaryKey | null,
  limit: number,
): Promise<Chunk> {
  await o.throttle?.();
  try {
    const at = await o.flavour.beginSnapshot(
      { shard: o.shard, reader: o.source, helper: o.sourceHelper },
      table.name,
    );
    const rows = await readChunk(
      o.source,
      table,
      lastPk,
      limit,
      table.columns,
      o.selector.sqlFilter(table),
    );
    return { rows, at, limit };
  } finally {
    await o.source.query("COMMIT").catch(() => undefined);
  }
}
