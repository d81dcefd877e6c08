import { createHash } from "node:crypto";
import type { SqlConnection } from "@shardkit/directory/internal";

/** The table on each shard recording the schema changes `shardkit schema apply` ran there. */
export const SCHEMA_CHANGES_TABLE = "shardkit_schema_changes";

const CREATE_SCHEMA_CHANGES_TABLE = `CREATE TABLE IF NOT EXISTS ${SCHEMA_CHANGES_TABLE} (
  name VARCHAR(255) NOT NULL PRIMARY KEY,
  hash CHAR(64) NOT NULL,
  statements INT UNSIGNED NOT NULL,
  statements_done INT UNSIGNED NOT NULL,
  done_hash CHAR(64) NOT NULL,
  state VARCHAR(16) NOT NULL,
  error TEXT NULL,
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB`;

/** A change as one shard recorded it. */
export interface SchemaChangeRecord {
  readonly name: string;
  /** The SHA-256 of the change's statements (see {@link statementsHash}). */
  readonly hash: string;
  readonly statements: number;
  /** How many statements ran to completion, in order. */
  readonly statementsDone: number;
  /** The hash of the statements done, so a resumed run knows they are the ones it would run. */
  readonly doneHash: string;
  /** `applying` while running (or when its process died), `failed`, or `applied`. */
  readonly state: "applying" | "failed" | "applied";
  readonly error: string | null;
}

/** The SHA-256 (hex) of a list of statements, each trimmed; the content hash of a change. */
export function statementsHash(statements: readonly string[]): string {
  return createHash("sha256").update(statements.join("\n;\n")).digest("hex");
}

/** Reads the record of change `name` on a shard, or null; reads nothing when the table is missing. */
export async function readChangeRecord(
  conn: SqlConnection,
  name: string,
): Promise<SchemaChangeRecord | null> {
  const exists = await conn.query(
    "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
    [SCHEMA_CHANGES_TABLE],
  );
  if (exists.length === 0) return null;
  const rows = await conn.query<{
    name: string;
    hash: string;
    statements: number;
    statements_done: number;
    done_hash: string;
    state: SchemaChangeRecord["state"];
    error: string | null;
  }>(
    `SELECT name, hash, statements, statements_done, done_hash, state, error FROM ${SCHEMA_CHANGES_TABLE} WHERE name = ?`,
    [name],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    name: r.name,
    hash: r.hash,
    statements: Number(r.statements),
    statementsDone: Number(r.statements_done),
    doneHash: r.done_hash,
    state: r.state,
    error: r.error,
  };
}

/** Writes (creates or replaces) a shard's record of a change. */
export async function writeChangeRecord(
  conn: SqlConnection,
  record: SchemaChangeRecord,
): Promise<void> {
  await conn.execute(CREATE_SCHEMA_CHANGES_TABLE);
  await conn.execute(
    `INSERT INTO ${SCHEMA_CHANGES_TABLE} (name, hash, statements, statements_done, done_hash, state, error)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE hash = VALUES(hash), statements = VALUES(statements),
       statements_done = VALUES(statements_done), done_hash = VALUES(done_hash),
       state = VALUES(state), error = VALUES(error)`,
    [
      record.name,
      record.hash,
      record.statements,
      record.statementsDone,
      record.doneHash,
      record.state,
      record.error,
    ],
  );
}
