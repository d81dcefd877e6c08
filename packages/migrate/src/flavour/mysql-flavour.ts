import { quoteIdentifier, type SqlConnection } from "@shardkit/directory/internal";
import type { BinlogPosition } from "../binlog/binlog-position.js";
import { MoveError } from "../move-error.js";
import {
  commonBinlogRefusal,
  readVariables,
  type ServerFlavour,
  type SnapshotSessions,
} from "./server-flavour.js";

/** `SHOW BINARY LOG STATUS` (8.2 and later) or `SHOW MASTER STATUS` (before), with the executed GTID set. */
async function binaryLogStatus(conn: SqlConnection, shard: string): Promise<BinlogPosition> {
  let rows: { File: string; Position: number | string; Executed_Gtid_Set?: string }[];
  try {
    rows = await conn.query("SHOW BINARY LOG STATUS");
  } catch {
    rows = await conn.query("SHOW MASTER STATUS");
  }
  const row = rows[0];
  if (!row) {
    throw new MoveError(
      "BINLOG_UNSUITABLE",
      `shard ${shard} reports no binary log position; start it with --log-bin and retry`,
    );
  }
  const gtid = row.Executed_Gtid_Set ? String(row.Executed_Gtid_Set).replace(/\s/g, "") : null;
  return { file: row.File, pos: Number(row.Position), gtid: gtid || null };
}

/**
 * MySQL 8 (written from the MySQL reference manual; no MySQL server was available to test it):
 * MySQL reports no snapshot position, so, as Vitess does, the table is locked for reading in a
 * second session while the snapshot starts and the position is read, then unlocked. Writes to
 * that one table wait for those few statements.
 */
export const mysqlFlavour: ServerFlavour = {
  name: "mysql",
  shareLock: "FOR SHARE",
  async beginSnapshot(sessions: SnapshotSessions, table: string): Promise<BinlogPosition> {
    const lock = await sessions.helper();
    await lock.query(`LOCK TABLES ${quoteIdentifier(table)} READ`);
    try {
      await sessions.reader.query("START TRANSACTION WITH CONSISTENT SNAPSHOT");
      return await binaryLogStatus(lock, sessions.shard);
    } finally {
      await lock.query("UNLOCK TABLES");
    }
  },
  currentPosition(conn: SqlConnection, shard: string): Promise<BinlogPosition> {
    return binaryLogStatus(conn, shard);
  },
  async binlogRefusal(conn: SqlConnection, shard: string): Promise<string | null> {
    const vars = await readVariables(conn, [
      "log_bin",
      "binlog_format",
      "binlog_row_image",
      "server_id",
      "binlog_transaction_compression",
      "binlog_row_value_options",
    ]);
    const common = commonBinlogRefusal(vars, shard);
    if (common) return common;
    if ((vars.get("binlog_transaction_compression") ?? "OFF").toUpperCase() === "ON") {
      return `shard ${shard} compresses binlog transactions, which the binlog reader cannot decode; SET GLOBAL binlog_transaction_compression = OFF and retry`;
    }
    if ((vars.get("binlog_row_value_options") ?? "").toUpperCase().includes("PARTIAL_JSON")) {
      return `shard ${shard} logs partial JSON updates, which the binlog reader cannot decode; SET GLOBAL binlog_row_value_options = '' and retry`;
    }
    return null;
  },
  upsertClause(quotedColumns: readonly string[]): string {
    // VALUES() is deprecated from 8.0.20 in favour of a row alias, which 8.0.19 and older lack.
    return `AS shardkit_new ON DUPLICATE KEY UPDATE ${quotedColumns.map((c) => `${c} = shardkit_new.${c}`).join(", ")}`;
  },
};
