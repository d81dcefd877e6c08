import { quoteIdentifier, referenceCopyId, type SqlConnection } from "@shardkit/directory/internal";

export { referenceCopyId };

/** The table on each shard recording how each reference copy stands (written by its applier). */
export const REFERENCE_COPIES_TABLE = "shardkit_reference_copies";

const CREATE_REFERENCE_COPIES_TABLE = `CREATE TABLE IF NOT EXISTS ${REFERENCE_COPIES_TABLE} (
  table_name VARCHAR(64) NOT NULL PRIMARY KEY,
  state VARCHAR(16) NOT NULL,
  rows_copied BIGINT UNSIGNED NOT NULL DEFAULT 0,
  lag_ms BIGINT UNSIGNED NULL,
  checked_at TIMESTAMP(3) NULL,
  error TEXT NULL
) ENGINE=InnoDB`;

/** Where a copy stands: `copying`, `copied` (caught up once, no applier since), `following`, `failed`. */
export const REFERENCE_COPY_STATES = ["copying", "copied", "following", "failed"] as const;
/** One of {@link REFERENCE_COPY_STATES}. */
export type ReferenceCopyState = (typeof REFERENCE_COPY_STATES)[number];

/** One copy's record on its shard. */
export interface ReferenceCopyRecord {
  readonly table: string;
  readonly state: ReferenceCopyState;
  readonly rowsCopied: number;
  /** The lag its applier last measured (a marker written on the source until applied here). */
  readonly lagMs: number | null;
  /** How long ago (the shard's clock) the applier last measured it; null when never. */
  readonly checkedMsAgo: number | null;
  readonly error: string | null;
}

/** The name of the lock one process holds while it works on a copy (GET_LOCK on the shard). */
export function referenceLockName(table: string, database: string): string {
  return `shardkit:${referenceCopyId(table, database)}`;
}

/** Writes (creates or replaces) a copy's record. */
export async function writeCopyRecord(
  conn: SqlConnection,
  table: string,
  state: ReferenceCopyState,
  facts: { rowsCopied?: number; lagMs?: number | null; error?: string | null },
): Promise<void> {
  await conn.execute(CREATE_REFERENCE_COPIES_TABLE);
  await conn.execute(
    `INSERT INTO ${REFERENCE_COPIES_TABLE} (table_name, state, rows_copied, lag_ms, checked_at, error)
     VALUES (?, ?, ?, ?, IF(? IS NULL, NULL, NOW(3)), ?)
     ON DUPLICATE KEY UPDATE state = VALUES(state),
       rows_copied = IF(? IS NULL, rows_copied, VALUES(rows_copied)),
       lag_ms = IF(? IS NULL, lag_ms, VALUES(lag_ms)),
       checked_at = IF(? IS NULL, checked_at, VALUES(checked_at)),
       error = VALUES(error)`,
    [
      table,
      state,
      facts.rowsCopied ?? 0,
      facts.lagMs ?? null,
      facts.lagMs ?? null,
      facts.error ?? null,
      facts.rowsCopied ?? null,
      facts.lagMs ?? null,
      facts.lagMs ?? null,
    ],
  );
}

/** Reads a shard's records of its reference copies (none when the table is missing). */
export async function readCopyRecords(conn: SqlConnection): Promise<ReferenceCopyRecord[]> {
  const exists = await conn.query(
    "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
    [REFERENCE_COPIES_TABLE],
  );
  if (exists.length === 0) return [];
  const rows = await conn.query<{
    table_name: string;
    state: ReferenceCopyState;
    rows_copied: number | string;
    lag_ms: number | string | null;
    ago: number | string | null;
    error: string | null;
  }>(
    `SELECT table_name, state, rows_copied, lag_ms, TIMESTAMPDIFF(MICROSECOND, checked_at, NOW(3)) DIV 1000 AS ago, error FROM ${REFERENCE_COPIES_TABLE}`,
  );
  return rows.map((r) => ({
    table: r.table_name,
    state: r.state,
    rowsCopied: Number(r.rows_copied),
    lagMs: r.lag_ms === null ? null : Number(r.lag_ms),
    checkedMsAgo: r.ago === null ? null : Math.max(0, Number(r.ago)),
    error: r.error,
  }));
}

/** Forgets a copy's record. */
export async function dropCopyRecord(conn: SqlConnection, table: string): Promise<void> {
  const records = await readCopyRecords(conn);
  if (!records.some((r) => r.table === table)) return;
  await conn.execute(
    `DELETE FROM ${quoteIdentifier(REFERENCE_COPIES_TABLE)} WHERE table_name = ?`,
    [table],
  );
}
