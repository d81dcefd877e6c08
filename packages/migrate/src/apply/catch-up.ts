import type { SqlConnection } from "@shardkit/directory/internal";
import { type BinlogPosition, comparePositions } from "../binlog/binlog-position.js";
import type { BinlogItem, Row, RowChange } from "../binlog/binlog-source.js";
import { inTransaction, savePosition, type TargetProgress } from "../copy/target-progress.js";
import { failpoint } from "../failpoints.js";
import { MoveError } from "../move-error.js";
import { comparePrimaryKeys, primaryKeyOf, primaryKeyText } from "../rows/primary-key.js";
import type { RowSelector } from "../rows/row-selector.js";
import type { TableSchema } from "../rows/table-schema.js";
import type { BinlogReader } from "./binlog-reader.js";
import { MARKER_TABLE, type MarkerClock } from "./marker-clock.js";
import type { RowWriter } from "./row-writer.js";

/** What the applier needs: where to read, where to write, what to keep. */
export interface CatchUpOptions {
  readonly moveId: string;
  readonly target: SqlConnection;
  readonly writer: RowWriter;
  readonly selector: RowSelector;
  readonly schemas: ReadonlyMap<string, TableSchema>;
  /** Shared with the copy: each table's last copied key decides which events apply. */
  readonly progress: TargetProgress;
  readonly reader: BinlogReader;
  readonly markers: MarkerClock;
  /** Row changes per target transaction at most (whole source transactions). Default 1000. */
  readonly batchRows?: number;
  /** Called after each committed batch. */
  readonly onBatch?: (eventsApplied: number) => void;
}

interface Operation {
  readonly kind: "upsert" | "delete";
  readonly table: TableSchema;
  readonly rows: Row[];
}

/** How long a position with no change to apply may stay uncommitted. */
const POSITION_COMMIT_MS = 1000;

/**
 * The applier: applies the source's row changes of the moved rows to the target, a batch of
 * source transactions per target transaction committed with the position after them. While a
 * table is being copied, only changes to rows at or below its last copied primary key apply
 * (rows above it are copied later with their newest state); tables not started get none.
 */
export class CatchUp {
  readonly #o: CatchUpOptions;
  #committedAt = 0;
  #dirty = false;

  constructor(options: CatchUpOptions) {
    this.#o = options;
  }

  /** The position applied so far (committed, or about to be with the next chunk or batch). */
  get position(): BinlogPosition | null {
    return this.#o.progress.position;
  }

  /**
   * Applies every transaction up to `until` and nothing after it, then stands exactly at
   * `until` (the copy then commits a chunk read at that position with it). When the stream
   * has nothing more to give, a marker written on the source moves it on.
   */
  async advanceTo(until: BinlogPosition, signal?: AbortSignal): Promise<void> {
    const batch: BinlogItem[] = [];
    let nudged = false;
    while (!this.#reached(until)) {
      signal?.throwIfAborted();
      const item = await this.#o.reader.peek(batch.length > 0 ? 0 : 200);
      if (item === null) {
        if (batch.length > 0) {
          await this.#apply(batch.splice(0));
          continue;
        }
        if (!nudged) {
          nudged = true;
          await this.#o.markers.write();
        }
        continue;
      }
      if (comparePositions(item.position, until) > 0) break;
      this.#o.reader.take();
      batch.push(item);
      if (this.#rows(batch) >= (this.#o.batchRows ?? 1000)) await this.#apply(batch.splice(0));
    }
    if (batch.length > 0) await this.#apply(batch.splice(0));
    // Nothing between the last transaction applied and `until`: the applier stands there.
    if (!this.#reached(until)) this.#o.progress.position = until;
  }

  /** Applies what the stream has now (waiting up to `waitMs` for the first item); returns row changes applied. */
  async step(waitMs: number): Promise<number> {
    const batch: BinlogItem[] = [];
    let wait = waitMs;
    for (;;) {
      const item = await this.#o.reader.peek(wait);
      if (item === null) break;
      this.#o.reader.take();
      batch.push(item);
      wait = 0;
      if (this.#rows(batch) >= (this.#o.batchRows ?? 1000)) break;
    }
    if (batch.length === 0) {
      if (this.#dirty && performance.now() - this.#committedAt > POSITION_COMMIT_MS) {
        await this.#commitPosition();
      }
      return 0;
    }
    return this.#apply(batch);
  }

  /** Commits the position reached when it is not committed yet. */
  async #commitPosition(): Promise<void> {
    const position = this.#o.progress.position;
    if (!position) return;
    await inTransaction(this.#o.target, () =>
      savePosition(this.#o.target, this.#o.moveId, position, this.#o.progress.eventsApplied),
    );
    this.#dirty = false;
    this.#committedAt = performance.now();
  }

  #reached(until: BinlogPosition): boolean {
    const at = this.#o.progress.position;
    return at !== null && comparePositions(at, until) >= 0;
  }

  #rows(batch: readonly BinlogItem[]): number {
    let n = 0;
    for (const item of batch) if (item.kind === "transaction") n += item.changes.length;
    return n;
  }

  async #apply(batch: readonly BinlogItem[]): Promise<number> {
    const operations: Operation[] = [];
    const markers: number[] = [];
    let applied = 0;
    for (const item of batch) {
      if (item.kind === "schema") {
        throw new MoveError(
          "TABLE_ALTERED",
          `table ${item.table} was altered on the source during the move (${item.statement.slice(0, 80)}); abort the move, make the same change on the target, and start the move again`,
          { details: { table: item.table, position: item.position } },
        );
      }
      if (item.kind !== "transaction") continue;
      for (const change of item.changes) {
        if (change.table === MARKER_TABLE) {
          if (change.after?.move_id === this.#o.moveId) markers.push(Number(change.after.seq));
          continue;
        }
        applied++;
        this.#plan(change, operations);
      }
    }
    const last = batch.at(-1)?.position as BinlogPosition;
    const eventsApplied = this.#o.progress.eventsApplied + applied;
    if (operations.length === 0 && markers.length === 0) {
      this.#o.progress.position = last;
      this.#o.progress.eventsApplied = eventsApplied;
      this.#dirty = true;
      if (performance.now() - this.#committedAt > POSITION_COMMIT_MS) await this.#commitPosition();
      return applied;
    }
    await inTransaction(this.#o.target, async () => {
      for (const op of operations) {
        if (op.kind === "upsert") await this.#o.writer.upsert(op.table, op.rows);
        else await this.#o.writer.delete(op.table, op.rows);
      }
      await savePosition(this.#o.target, this.#o.moveId, last, eventsApplied);
    });
    this.#o.progress.position = last;
    this.#o.progress.eventsApplied = eventsApplied;
    this.#dirty = false;
    this.#committedAt = performance.now();
    for (const seq of markers) this.#o.markers.applied(seq);
    this.#o.onBatch?.(eventsApplied);
    failpoint("after-apply-batch");
    return applied;
  }

  /** Adds what one row change does to the target, grouping consecutive writes of one kind and table. */
  #plan(change: RowChange, operations: Operation[]): void {
    const table = this.#o.schemas.get(change.table);
    if (!table) return;
    const before = change.before && this.#applies(table, change.before) ? change.before : null;
    const after = change.after && this.#applies(table, change.after) ? change.after : null;
    const add = (kind: Operation["kind"], row: Row) => {
      const last = operations.at(-1);
      if (last && last.kind === kind && last.table === table) last.rows.push(row);
      else operations.push({ kind, table, rows: [row] });
    };
    // A shard-key change moves a row into the range (upsert), out of it (delete), or within it.
    if (before && !(after && samePrimaryKey(table, before, after))) add("delete", before);
    if (after) add("upsert", after);
  }

  /** True when a change to `row` must reach the target: a moved row, in the part of its table copied so far. */
  #applies(table: TableSchema, row: Row): boolean {
    if (!this.#o.selector.contains(table, row)) return false;
    const copy = this.#o.progress.tables.get(table.name);
    if (!copy) return false;
    if (copy.copied) return true;
    if (copy.lastPk === null) return false;
    const order = comparePrimaryKeys(table, primaryKeyOf(table, row), copy.lastPk);
    // Where JavaScript cannot order the keys, applying is safe: a later chunk overwrites the row.
    return order === null || order <= 0;
  }
}

function samePrimaryKey(table: TableSchema, a: Row, b: Row): boolean {
  return primaryKeyText(primaryKeyOf(table, a)) === primaryKeyText(primaryKeyOf(table, b));
}
