import type { SqlConnection } from "@shardkit/directory/internal";
import type { BinlogPosition } from "../binlog/binlog-position.js";
import { MoveError } from "../move-error.js";
import {
  commonBinlogRefusal,
  readVariables,
  type ServerFlavour,
  type SnapshotSessions,
} from "./server-flavour.js";

/** The GTID position of a binlog file and offset, or null when the server cannot tell. */
async function gtidAt(conn: SqlConnection, file: string, pos: number): Promise<string | null> {
  const rows = await conn.query<{ gtid: string | null }>("SELECT BINLOG_GTID_POS(?, ?) AS gtid", [
    file,
    pos,
  ]);
  const gtid = rows[0]?.gtid;
  return gtid === null || gtid === undefined ? null : String(gtid);
}

/**
 * MariaDB (tested on 10.11): `START TRANSACTION WITH CONSISTENT SNAPSHOT` reports the binlog
 * position it is consistent with in the session's `binlog_snapshot_file` and
 * `binlog_snapshot_position` status, for every table at once, without any lock.
 */
export const mariadbFlavour: ServerFlavour = {
  name: "mariadb",
  shareLock: "LOCK IN SHARE MODE",
  async beginSnapshot(sessions: SnapshotSessions): Promise<BinlogPosition> {
    const conn = sessions.reader;
    await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT");
    const rows = await conn.query<{ Variable_name: string; Value: string }>(
      "SHOW SESSION STATUS LIKE 'binlog_snapshot_%'",
    );
    const value = (name: string) => rows.find((r) => r.Variable_name.toLowerCase() === name)?.Value;
    const file = value("binlog_snapshot_file");
    const pos = Number(value("binlog_snapshot_position"));
    if (!file || !Number.isInteger(pos)) {
      throw new MoveError(
        "BINLOG_UNSUITABLE",
        `shard ${sessions.shard} did not report a binlog snapshot position; check that its binary log is on (log_bin) and retry`,
      );
    }
    // BINLOG_GTID_POS reads the binlog file up to the position: too slow for every chunk.
    return { file, pos, gtid: null };
  },
  async currentPosition(conn: SqlConnection, shard: string): Promise<BinlogPosition> {
    const rows = await conn.query<{ File: string; Position: number | string }>(
      "SHOW MASTER STATUS",
    );
    const row = rows[0];
    if (!row) {
      throw new MoveError(
        "BINLOG_UNSUITABLE",
        `shard ${shard} reports no binary log position (SHOW MASTER STATUS is empty); start it with --log-bin and retry`,
      );
    }
    const pos = Number(row.Position);
    return { file: row.File, pos, gtid: await gtidAt(conn, row.File, pos) };
  },
  async binlogRefusal(conn: SqlConnection, shard: string): Promise<string | null> {
    const vars = await readVariables(conn, [
      "log_bin",
      "binlog_format",
      "binlog_row_image",
      "server_id",
    ]);
    return commonBinlogRefusal(vars, shard);
  },
  upsertClause(quotedColumns: readonly string[]): string {
    return `ON DUPLICATE KEY UPDATE ${quotedColumns.map((c) => `${c} = VALUES(${c})`).join(", ")}`;
  },
};
