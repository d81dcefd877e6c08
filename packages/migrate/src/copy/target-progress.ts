import type { SqlConnection } from "@shardkit/directory/internal";
import type { BinlogPosition } from "../binlog/binlog-position.js";
import type { PrimaryKey } from "../rows/primary-key.js";

/** Per move and table on the target: how far the copy got, committed with each chunk. */
export const PROGRESS_TABLE = "shardkit_move_progress";
/** Per move on the target: the source binlog position applied, committed with each batch. */
export const POSITION_TABLE = "shardkit_move_position";

const CREATE_PROGRESS_TABLE = `CREATE TABLE IF NOT EXISTS ${PROGRESS_TABLE} (
  move_id VARCHAR(36) NOT NULL,
  table_name VARCHAR(64) NOT NULL,
  last_pk TEXT NULL,
  copied TINYINT(1) NOT NULL DEFAULT 0,
  rows_copied BIGINT UNSIGNED NOT NULL DEFAULT 0,
  rows_read BIGINT UNSIGNED NOT NULL DEFAULT 0,
  created_table TINYINT(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (move_id, table_name)
) ENGINE=InnoDB`;

const CREATE_POSITION_TABLE = `CREATE TABLE IF NOT EXISTS ${POSITION_TABLE} (
  move_id VARCHAR(36) NOT NULL PRIMARY KEY,
  gtid TEXT NULL,
  binlog_file VARCHAR(255) NOT NULL,
  binlog_pos BIGINT UNSIGNED NOT NULL,
  events_applied BIGINT UNSIGNED NOT NULL DEFAULT 0
) ENGINE=InnoDB`;

/** One table's copy, as committed on the target. */
export interface TableProgress {
  readonly table: string;
  /** The primary key of the last source row read (copied or not); null before the first chunk. */
  lastPk: PrimaryKey | null;
  /** True once every row of the table has been read. */
  copied: boolean;
  rowsCopied: number;
  rowsRead: number;
  /** True when the move created the table on the target (abort drops it again when empty). */
  createdTable: boolean;
}

/** A move's state on the target: each table's copy and the applied binlog position. */
export interface TargetProgress {
  readonly tables: Map<string, TableProgress>;
  position: BinlogPosition | null;
  eventsApplied: number;
}

/** Creates the progress tables on the target; idempotent. */
export async function ensureProgressTables(conn: SqlConnection): Promise<void> {
  await conn.execute(CREATE_PROGRESS_TABLE);
  await conn.execute(CREATE_POSITION_TABLE);
}

// Primary-key values are JSON; bytes become {"$hex": "..."} so that they come back as Buffers.
function encodeKey(key: PrimaryKey | null): string | null {
  if (key === null) return null;
  return JSON.stringify(
    key.map((v) => (Buffer.isBuffer(v) ? { $hex: v.toString("hex") } : v)),
    (_k, v) => (typeof v === "bigint" ? v.toString() : v),
  );
}

function decodeKey(text: string | null): PrimaryKey | null {
  if (text === null) return null;
  return (JSON.parse(text) as unknown[]).map((v) =>
    v !== null && typeof v === "object" && "$hex" in v
      ? Buffer.from(String((v as { $hex: string }).$hex), "hex")
      : v,
  );
}

/** Reads a move's progress from the target (empty when nothing was committed yet). */
export async function loadProgress(conn: SqlConnection, moveId: string): Promise<TargetProgress> {
  const tables = new Map<string, TableProgress>();
  const rows = await conn.query<{
    table_name: string;
    last_pk: string | null;
    copied: number;
    rows_copied: number | string;
    rows_read: number | string;
    created_table: number;
  }>(
    `SELECT table_name, last_pk, copied, rows_copied, rows_read, created_table FROM ${PROGRESS_TABLE} WHERE move_id = ?`,
    [moveId],
  );
  for (const r of rows) {
    tables.set(r.table_name, {
      table: r.table_name,
      lastPk: decodeKey(r.last_pk),
      copied: Number(r.copied) === 1,
      rowsCopied: Number(r.rows_copied),
      rowsRead: Number(r.rows_read),
      createdTable: Number(r.created_table) === 1,
    });
  }
  const positions = await conn.query<{
    gtid: string | null;
    binlog_file: string;
    binlog_pos: number | string;
    events_applied: number | string;
  }>(
    `SELECT gtid, binlog_file, binlog_pos, events_applied FROM ${POSITION_TABLE} WHERE move_id = ?`,
    [moveId],
  );
  const p = positions[0];
  return {
    tables,
    position: p ? { file: p.binlog_file, pos: Number(p.binlog_pos), gtid: p.gtid } : null,
    eventsApplied: p ? Number(p.events_applied) : 0,
  };
}

/** Writes one table's progress (in the caller's transaction). */
export async function saveTableProgress(
  conn: SqlConnection,
  moveId: string,
  t: TableProgress,
): Promise<void> {
  await conn.execute(
    `INSERT INTO ${PROGRESS_TABLE} (move_id, table_name, last_pk, copied, rows_copied, rows_read, created_table)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE last_pk = VALUES(last_pk), copied = VALUES(copied),
     rows_copied = VALUES(rows_copied), rows_read = VALUES(rows_read), created_table = VALUES(created_table)`,
    [
      moveId,
      t.table,
      encodeKey(t.lastPk),
      t.copied ? 1 : 0,
      t.rowsCopied,
      t.rowsRead,
      t.createdTable ? 1 : 0,
    ],
  );
}

/** Writes the applied position (in the caller's transaction). */
export async function savePosition(
  conn: SqlConnection,
  moveId: string,
  position: BinlogPosition,
  eventsApplied: number,
): Promise<void> {
  await conn.execute(
    `INSERT INTO ${POSITION_TABLE} (move_id, gtid, binlog_file, binlog_pos, events_applied) VALUES (?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE gtid = VALUES(gtid), binlog_file = VALUES(binlog_file), binlog_pos = VALUES(binlog_pos), events_applied = VALUES(events_applied)`,
    [moveId, position.gtid, position.file, position.pos, eventsApplied],
  );
}

/**
 * Writes a copy chunk's progress: the table's row and the applied position, in one statement
 * (in the caller's transaction). Both rows must exist (the table's is written when its copy
 * starts, the position's when the stream starts).
 */
export async function saveChunkProgress(
  conn: SqlConnection,
  moveId: string,
  t: TableProgress,
  position: BinlogPosition,
  eventsApplied: number,
): Promise<void> {
  const changed = await conn.execute(
    `UPDATE ${PROGRESS_TABLE} p JOIN ${POSITION_TABLE} q ON q.move_id = p.move_id
     SET p.last_pk = ?, p.copied = ?, p.rows_copied = ?, p.rows_read = ?,
       q.gtid = ?, q.binlog_file = ?, q.binlog_pos = ?, q.events_applied = ?
     WHERE p.move_id = ? AND p.table_name = ?`,
    [
      encodeKey(t.lastPk),
      t.copied ? 1 : 0,
      t.rowsCopied,
      t.rowsRead,
      position.gtid,
      position.file,
      position.pos,
      eventsApplied,
      moveId,
      t.table,
    ],
  );
  if (changed === 0) {
    await saveTableProgress(conn, moveId, t);
    await savePosition(conn, moveId, position, eventsApplied);
  }
}

/** Forgets a move's progress on the target (after an abort or once done). */
export async function dropProgress(conn: SqlConnection, moveId: string): Promise<void> {
  await conn.execute(`DELETE FROM ${PROGRESS_TABLE} WHERE move_id = ?`, [moveId]);
  await conn.execute(`DELETE FROM ${POSITION_TABLE} WHERE move_id = ?`, [moveId]);
}

/** Runs `work` in one target transaction: committed together or not at all. */
export async function inTransaction<T>(conn: SqlConnection, work: () => Promise<T>): Promise<T> {
  await conn.query("START TRANSACTION");
  try {
    const result = await work();
    await conn.query("COMMIT");
    return result;
  } catch (error) {
    await conn.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
