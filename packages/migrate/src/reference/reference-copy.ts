import type { ReferenceTable, ShardRecord } from "@shardkit/directory";
import type { Row } from "../binlog/binlog-source.js";
import { openShardConnection, type ShardLoginResolver } from "../connection/shard-connection.js";
import { readChunk, readSpan } from "../copy/chunk-reader.js";
import { dropProgress, inTransaction } from "../copy/target-progress.js";
import { compareTargetTables, createTargetTables } from "../copy/target-tables.js";
import { MoveError, messageOf } from "../move-error.js";
import { type PrimaryKey, primaryKeyOf, primaryKeyText } from "../rows/primary-key.js";
import type { RowSelector } from "../rows/row-selector.js";
import { type BinlogOpener, MoveSession } from "../workflow/move-session.js";
import { APPLIER_VARIABLE, hasReadOnlyGuard, installReadOnlyGuard } from "./read-only-guard.js";
import { referenceCopyId, referenceLockName, writeCopyRecord } from "./reference-state.js";

/** What a reference copy works on. */
export interface ReferenceCopyOptions {
  readonly table: ReferenceTable;
  readonly shard: ShardRecord;
  readonly login: ShardLoginResolver;
  /** Source rows per copy chunk. Default 1000. */
  readonly chunkSize?: number;
  readonly openBinlog?: BinlogOpener;
}

/** Every row of a reference table is the copy's. */
const EVERY_ROW: RowSelector = {
  contains: () => true,
  filter: (_table, rows: readonly Row[]) => [...rows],
  sqlFilter: () => null,
};

/** How often a following applier writes a marker on the source (its lag measure and heartbeat). */
const MARKER_EVERY_MS = 250;
/** How often a following applier records its lag on the shard. */
const RECORD_EVERY_MS = 1000;

/**
 * One shard's read copy of one reference table, kept by the move engine's copy and applier
 * (a {@link MoveSession} whose rows are all the table's): copy in primary-key order at
 * consistent snapshots, then the source's row binlog, the applied position committed with the
 * changes on the shard, so a stopped copy resumes where it stood. One process at a time works
 * on a copy (a lock on the shard); the applier's session alone may write the copy (triggers).
 */
export class ReferenceCopy {
  readonly #session: MoveSession;
  readonly #o: ReferenceCopyOptions;

  private constructor(session: MoveSession, options: ReferenceCopyOptions) {
    this.#session = session;
    this.#o = options;
  }

  /**
   * Connects to the source and the shard, takes the copy's lock (SHARD_BUSY when another
   * process holds it), creates the table on the shard from the source's definition when it is
   * missing (SCHEMA_MISMATCH when it differs) and installs the read-only triggers.
   */
  static async open(options: ReferenceCopyOptions): Promise<ReferenceCopy> {
    const { table, shard } = options;
    const primaryKey = await sourcePrimaryKey(options);
    const session = await MoveSession.open({
      moveId: referenceCopyId(table.name, shard.name),
      source: table.source,
      target: shard,
      login: options.login,
      tables: [{ name: table.name, keyColumn: primaryKey, keyFunction: "hash" }],
      selector: EVERY_ROW,
      chunkSize: options.chunkSize ?? 1000,
      ...(options.openBinlog ? { openBinlog: options.openBinlog } : {}),
    });
    try {
      const lock = referenceLockName(table.name, shard.database);
      const [got] = await session.target.query<{ ok: number | null }>(
        "SELECT GET_LOCK(?, 0) AS ok",
        [lock],
      );
      if (Number(got?.ok) !== 1) {
        throw new MoveError(
          "SHARD_BUSY",
          `the copy of reference table ${table.name} on shard ${shard.name} is being worked on by another process (shardkit reference follow, add or resync); stop it first, or let it do the work`,
          { details: { table: table.name, shard: shard.name } },
        );
      }
      await session.target.execute(`SET ${APPLIER_VARIABLE} = 1`);
      const tables = await compareTargetTables(session.source, session.target, [table.name]);
      const different = tables.different[0];
      if (different) {
        throw new MoveError(
          "SCHEMA_MISMATCH",
          `reference table ${table.name} on shard ${shard.name} is not defined as on its source ${table.source.name} (${different.difference.replace("target", shard.name)}); make the definitions equal (shardkit schema diff names them) and retry`,
          { details: { table: table.name, shard: shard.name } },
        );
      }
      await createTargetTables(session.target, tables.missing);
      // Replaced only when missing: replacing drops them for a moment.
      if (!(await hasReadOnlyGuard(session.target, table.name))) {
        await installReadOnlyGuard(session.target, table.name);
      }
      return new ReferenceCopy(session, options);
    } catch (error) {
      await session.close();
      throw error;
    }
  }

  /**
   * Forgets the copy's progress: the next {@link sync} copies every row again over the rows
   * there (overwriting them) and deletes those the source lacks, so the copy keeps serving
   * reads meanwhile.
   */
  async reset(): Promise<void> {
    await dropProgress(
      this.#session.target,
      referenceCopyId(this.#o.table.name, this.#o.shard.name),
    );
    const progress = this.#session.progress;
    progress.tables.clear();
    progress.position = null;
    progress.eventsApplied = 0;
  }

  /**
   * Copies what is not copied yet, then catches up with the source: every change committed on
   * the source before the call is on the copy when it returns. Returns rows copied and the lag.
   */
  async sync(signal?: AbortSignal): Promise<{ rowsCopied: number; lagMs: number }> {
    await this.#record("copying", {});
    try {
      const fresh = !this.#session.progress.tables.get(this.#o.table.name)?.copied;
      await this.#session.copy(undefined, signal);
      if (fresh) await this.#deleteExtras(signal);
      const lagMs = await this.#session.catchUpNow(60_000, signal);
      const rowsCopied = this.rowsCopied;
      await this.#record("copied", { rowsCopied, lagMs });
      return { rowsCopied, lagMs };
    } catch (error) {
      await this.#record("failed", { error: messageOf(error) }).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Applies the source's changes until `signal` aborts, writing a marker on the source every
   * 250 ms to measure the lag, recorded on the shard every second. Returns when stopped; a
   * failure is recorded on the shard and thrown.
   */
  async follow(signal: AbortSignal, onLag?: (lagMs: number) => void): Promise<void> {
    const session = this.#session;
    await session.startStream();
    let markerAt = 0;
    let recordAt = 0;
    try {
      while (!signal.aborted) {
        const now = performance.now();
        if (!session.markers.waiting && now - markerAt >= MARKER_EVERY_MS) {
          markerAt = now;
          await session.markers.write();
        }
        await session.catchUp.step(50);
        if (now - recordAt >= RECORD_EVERY_MS) {
          recordAt = now;
          const lagMs = Math.round(session.markers.lagMs());
          onLag?.(lagMs);
          await this.#record("following", { lagMs, rowsCopied: this.rowsCopied });
        }
      }
      await this.#record("copied", { lagMs: Math.round(session.markers.lagMs()) });
    } catch (error) {
      await this.#record("failed", { error: messageOf(error) }).catch(() => undefined);
      throw error;
    }
  }

  /** Rows the copy phase wrote (0 once a copy is resumed past it). */
  get rowsCopied(): number {
    const t = this.#session.progress.tables.get(this.#o.table.name);
    return t?.rowsCopied ?? 0;
  }

  /** The lag measured last. */
  get lagMs(): number {
    return this.#session.markers.lagMs();
  }

  /** Releases the lock and closes the connections; the progress stays on the shard. */
  async close(): Promise<void> {
    await this.#session.markers.remove().catch(() => undefined);
    await this.#session.close();
  }

  /**
   * Deletes the copy's rows whose primary key the source does not have, at one point: the
   * source read in a consistent snapshot, the copy brought exactly to its binlog position (the
   * move verifier's way). Rows a copy held before it was copied (a resync, a table there
   * already) would otherwise stay.
   */
  async #deleteExtras(signal?: AbortSignal): Promise<void> {
    const session = this.#session;
    const table = session.schemas.get(this.#o.table.name);
    if (!table) return;
    const chunk = this.#o.chunkSize ?? 1000;
    const at = await session.flavour.beginSnapshot(
      { shard: table.name, reader: session.source, helper: () => session.sourceHelper() },
      table.name,
    );
    try {
      await session.catchUp.advanceTo(at, signal);
      let after: PrimaryKey | null = null;
      for (;;) {
        signal?.throwIfAborted();
        const theirs = await readChunk(session.source, table, after, chunk, table.primaryKey);
        const last = theirs.at(-1);
        const upTo = theirs.length < chunk || !last ? null : primaryKeyOf(table, last);
        const mine = await readSpan(session.target, table, after, upTo, table.primaryKey);
        const kept = new Set(theirs.map((r) => primaryKeyText(primaryKeyOf(table, r))));
        const extra = mine.filter((r) => !kept.has(primaryKeyText(primaryKeyOf(table, r))));
        if (extra.length > 0) {
          await inTransaction(session.target, () => session.writer.delete(table, extra));
        }
        if (upTo === null) break;
        after = upTo;
      }
    } finally {
      await session.source.query("COMMIT").catch(() => undefined);
    }
  }

  async #record(
    state: Parameters<typeof writeCopyRecord>[2],
    facts: Parameters<typeof writeCopyRecord>[3],
  ): Promise<void> {
    await writeCopyRecord(this.#session.target, this.#o.table.name, state, facts);
  }
}

/** The first primary-key column of the table on the source (the applier's key column). */
async function sourcePrimaryKey(options: ReferenceCopyOptions): Promise<string> {
  const { table } = options;
  const conn = await openShardConnection(table.source, options.login(table.source));
  try {
    const rows = await conn.query<{ c: string }>(
      `SELECT COLUMN_NAME AS c FROM information_schema.STATISTICS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`,
      [table.name],
    );
    const first = rows[0];
    if (first) return first.c;
    const exists = await conn.query(
      "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
      [table.name],
    );
    throw new MoveError(
      exists.length ? "NO_PRIMARY_KEY" : "TABLE_NOT_ON_SHARD",
      exists.length
        ? `reference table ${table.name} on source ${table.source.name} has no primary key, which its copies are kept in step by; add one and retry`
        : `source ${table.source.name} (${table.source.host}:${table.source.port}/${table.source.database}) has no table ${table.name}; create it there and retry`,
      { details: { table: table.name, source: table.source.name } },
    );
  } finally {
    await conn.close();
  }
}
