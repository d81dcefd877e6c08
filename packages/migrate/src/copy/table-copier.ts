import type { CatchUp } from "../apply/catch-up.js";
import type { RowWriter } from "../apply/row-writer.js";
import type { BinlogPosition } from "../binlog/binlog-position.js";
import type { ShardConnection } from "../connection/shard-connection.js";
import { failpoint } from "../failpoints.js";
import type { ServerFlavour } from "../flavour/server-flavour.js";
import { primaryKeyOf } from "../rows/primary-key.js";
import type { RowSelector } from "../rows/row-selector.js";
import type { TableSchema } from "../rows/table-schema.js";
import { estimateRows, readChunk } from "./chunk-reader.js";
import {
  inTransaction,
  savePosition,
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
  /** Source rows read per chunk. */
  readonly chunkSize: number;
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
  const totalEstimate = await estimateRows(o.source, table.name);
  const started = performance.now();
  const rowsAtStart = state.rowsCopied;
  while (!state.copied) {
    o.signal?.throwIfAborted();
    await o.throttle?.();
    let rows: Awaited<ReturnType<typeof readChunk>>;
    let at: BinlogPosition;
    try {
      at = await o.flavour.beginSnapshot(
        { shard: o.shard, reader: o.source, helper: o.sourceHelper },
        table.name,
      );
      rows = await readChunk(o.source, table, state.lastPk, o.chunkSize);
    } finally {
      await o.source.query("COMMIT").catch(() => undefined);
    }
    await o.catchUp.advanceTo(at, o.signal);
    const moved = o.selector.filter(table, rows);
    const last = rows.at(-1);
    const next: TableProgress = {
      ...state,
      lastPk: last ? primaryKeyOf(table, last) : state.lastPk,
      copied: rows.length < o.chunkSize,
      rowsCopied: state.rowsCopied + moved.length,
      rowsRead: state.rowsRead + rows.length,
    };
    await inTransaction(o.target, async () => {
      await o.writer.insert(table, moved);
      await saveTableProgress(o.target, o.moveId, next);
      await savePosition(o.target, o.moveId, at, o.progress.eventsApplied);
    });
    // The applier's filter moves on only once the chunk is committed.
    Object.assign(state, next);
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
}
