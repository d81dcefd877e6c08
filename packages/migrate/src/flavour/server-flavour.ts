import type { SqlConnection } from "@shardkit/directory/internal";
import type { BinlogPosition } from "../binlog/binlog-position.js";

/** The flavours of MySQL the mover knows. */
export const SERVER_FLAVOURS = ["mariadb", "mysql"] as const;
/** One of {@link SERVER_FLAVOURS}. */
export type ServerFlavourName = (typeof SERVER_FLAVOURS)[number];

/** How a consistent snapshot is opened: the session that reads, and a second one where a flavour needs it. */
export interface SnapshotSessions {
  /** The shard's name, for messages. */
  readonly shard: string;
  /** The session that will read in the snapshot. */
  readonly reader: SqlConnection;
  /** Another session on the same server (MySQL locks the table there while the snapshot starts). */
  helper(): Promise<SqlConnection>;
}

/**
 * What differs between MariaDB and MySQL for a move: the GTID form, how a consistent
 * snapshot's binlog position is read, the binlog settings a move needs, the share-lock clause.
 */
export interface ServerFlavour {
  readonly name: ServerFlavourName;
  /** The clause that reads rows with a shared lock. */
  readonly shareLock: string;
  /**
   * Starts `START TRANSACTION WITH CONSISTENT SNAPSHOT` on the reader and returns the binlog
   * position it is consistent with for `table` (every transaction on `table` committed before
   * the position is in the snapshot, none after it).
   */
  beginSnapshot(sessions: SnapshotSessions, table: string): Promise<BinlogPosition>;
  /** The position after the last transaction written to the binlog now. */
  currentPosition(conn: SqlConnection, shard: string): Promise<BinlogPosition>;
  /** Why this server's binlog cannot feed a move (a one-line fix), or null when it can. */
  binlogRefusal(conn: SqlConnection, shard: string): Promise<string | null>;
  /** `ON DUPLICATE KEY UPDATE` that sets each column to the row's new value. */
  upsertClause(quotedColumns: readonly string[]): string;
}

/** Server variables read by both flavours' binlog checks. */
export async function readVariables(
  conn: SqlConnection,
  names: readonly string[],
): Promise<Map<string, string>> {
  const rows = await conn.query<{ Variable_name: string; Value: string }>(
    `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${names.map(() => "?").join(", ")})`,
    names,
  );
  return new Map(rows.map((r) => [r.Variable_name.toLowerCase(), String(r.Value)]));
}

/** The refusals common to both flavours: binary log on, row format, full row images, a server id. */
export function commonBinlogRefusal(vars: Map<string, string>, shard: string): string | null {
  const logBin = (vars.get("log_bin") ?? "OFF").toUpperCase();
  if (logBin !== "ON" && logBin !== "1") {
    return `shard ${shard} has no binary log (log_bin is OFF), which a move streams; start its server with --log-bin --binlog-format=ROW --binlog-row-image=FULL`;
  }
  const format = (vars.get("binlog_format") ?? "").toUpperCase();
  if (format !== "ROW") {
    return `shard ${shard} logs ${format || "no"} binlog format, and a move needs row events; SET GLOBAL binlog_format = 'ROW' (and in the server's configuration) and retry`;
  }
  const image = (vars.get("binlog_row_image") ?? "FULL").toUpperCase();
  if (image !== "FULL") {
    return `shard ${shard} logs binlog_row_image = ${image}, and a move needs whole rows before and after each change; SET GLOBAL binlog_row_image = 'FULL' (and in the server's configuration) and retry`;
  }
  if (Number(vars.get("server_id") ?? "0") === 0) {
    return `shard ${shard} has server_id 0, which cannot serve a binlog stream; give it a server id (--server-id) and retry`;
  }
  return null;
}
