import { ShardkitError } from "../../errors/shardkit-error.js";
import type { SqlConnection } from "../../mysql/sql-connection.js";
import type { StatsSnapshotInput, StatsSnapshotRecord } from "../directory-admin.js";

/** Stores one measurement of the shards (`shardkit stats`); returns its id. */
export async function recordStats(conn: SqlConnection, input: StatsSnapshotInput): Promise<number> {
  for (const [name, v] of [
    ["rows", input.totalRows],
    ["bytes", input.totalBytes],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new ShardkitError(
        "BAD_ARGUMENT",
        `cannot record stats with ${v} ${name}: give a whole number >= 0`,
      );
    }
  }
  const [ok] = await conn.query<{ insertId: number }>(
    `INSERT INTO shardkit_stats_snapshots (taken_at, directory_version, sample_fraction, total_rows, total_bytes, report)
     VALUES (?, ?, ?, ?, ?, ?)`,
    [
      input.takenAt,
      input.directoryVersion,
      input.sample,
      input.totalRows,
      input.totalBytes,
      JSON.stringify(input.report),
    ],
  );
  return Number(ok?.insertId);
}

/** Stored measurements, oldest first; the newest `limit` of them when given. */
export async function listStats(
  conn: SqlConnection,
  limit?: number,
): Promise<StatsSnapshotRecord[]> {
  const n = limit === undefined ? null : Math.max(0, Math.floor(limit));
  const rows = await conn.query<{
    id: number;
    taken_at: Date;
    directory_version: number;
    sample_fraction: number | null;
    total_rows: number;
    total_bytes: number;
    report: string;
  }>(
    `SELECT id, taken_at, directory_version, sample_fraction, total_rows, total_bytes, report
     FROM shardkit_stats_snapshots ORDER BY taken_at DESC, id DESC${n === null ? "" : ` LIMIT ${n}`}`,
  );
  return rows.reverse().map((r) => ({
    id: Number(r.id),
    takenAt: r.taken_at,
    directoryVersion: Number(r.directory_version),
    sample: r.sample_fraction === null ? null : Number(r.sample_fraction),
    totalRows: Number(r.total_rows),
    totalBytes: Number(r.total_bytes),
    report: JSON.parse(r.report) as Record<string, unknown>,
  }));
}
