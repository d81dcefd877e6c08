import { DirectoryError } from "../../errors/directory-error.js";
import {
  type ActiveMove,
  ENDED_MOVE_STATES,
  isMoveKind,
  isMoveState,
  type MoveEventRecord,
  type MoveKind,
  type MoveRecord,
  type MoveState,
} from "../../move-model.js";
import type { SqlConnection } from "../../mysql/sql-connection.js";

/** A row of `shardkit_moves` as mysql2 returns it. */
interface MoveRow {
  id: string;
  kind: string;
  range_start: number | string;
  range_end: number | string;
  key_bytes: Buffer | null;
  key_text: string | null;
  source: string;
  target: string;
  state: string;
  failed_in: string | null;
  options: string;
  progress: string;
  error: string | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  switched_version: number | string | null;
  created_at: Date;
  updated_at: Date;
}

const MOVE_COLUMNS =
  "id, kind, range_start, range_end, key_bytes, key_text, source, target, state, failed_in, options, progress, error, lease_owner, lease_expires_at, switched_version, created_at, updated_at";

const ENDED = ENDED_MOVE_STATES.map((s) => `'${s}'`).join(", ");

/** Every move that has not ended, oldest first: what routers see in the snapshot. */
export async function readActiveMoves(conn: SqlConnection): Promise<ActiveMove[]> {
  const rows = await conn.query<MoveRow>(
    `SELECT id, kind, range_start, range_end, key_bytes, source, target, state FROM shardkit_moves
     WHERE state NOT IN (${ENDED}) ORDER BY created_at, id`,
  );
  return rows.map((r) => ({
    id: r.id,
    kind: knownKind(r),
    range: { start: Number(r.range_start), end: Number(r.range_end) },
    keyBytes: r.key_bytes ? new Uint8Array(r.key_bytes) : null,
    source: r.source,
    target: r.target,
    state: knownState(r.id, r.state),
  }));
}

/** One move, or undefined; `lock` reads it FOR UPDATE inside the caller's transaction. */
export async function findMove(
  conn: SqlConnection,
  id: string,
  lock = false,
): Promise<MoveRecord | undefined> {
  const rows = await conn.query<MoveRow>(
    `SELECT ${MOVE_COLUMNS} FROM shardkit_moves WHERE id = ?${lock ? " FOR UPDATE" : ""}`,
    [id],
  );
  return rows[0] && moveFromRow(rows[0]);
}

/** One move; UNKNOWN_MOVE when there is none. */
export async function requireMove(
  conn: SqlConnection,
  id: string,
  lock = false,
): Promise<MoveRecord> {
  const move = await findMove(conn, id, lock);
  if (!move) throw unknownMove(id);
  return move;
}

/** Every move, newest first. */
export async function listMoves(conn: SqlConnection): Promise<MoveRecord[]> {
  const rows = await conn.query<MoveRow>(
    `SELECT ${MOVE_COLUMNS} FROM shardkit_moves ORDER BY created_at DESC, id DESC`,
  );
  return rows.map(moveFromRow);
}

/** A move's history, oldest first; UNKNOWN_MOVE when the move does not exist. */
export async function listMoveEvents(conn: SqlConnection, id: string): Promise<MoveEventRecord[]> {
  await requireMove(conn, id);
  const rows = await conn.query<{
    move_id: string;
    seq: number;
    at: Date;
    state: string;
    message: string;
    details: string;
  }>(
    "SELECT move_id, seq, at, state, message, details FROM shardkit_move_events WHERE move_id = ? ORDER BY seq",
    [id],
  );
  return rows.map((r) => ({
    moveId: r.move_id,
    seq: Number(r.seq),
    at: r.at,
    state: knownState(id, r.state),
    message: r.message,
    details: parseObject(r.details),
  }));
}

/** Appends one entry to a move's history, numbered after the last (run with the move row locked). */
export async function appendMoveEvent(
  conn: SqlConnection,
  id: string,
  state: MoveState,
  message: string,
  details: Readonly<Record<string, unknown>> = {},
): Promise<void> {
  await conn.execute(
    `INSERT INTO shardkit_move_events (move_id, seq, state, message, details)
     SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ? FROM shardkit_move_events WHERE move_id = ?`,
    [id, state, message, JSON.stringify(details), id],
  );
}

/** The error for a move id the directory does not know. */
export function unknownMove(id: string): DirectoryError {
  return new DirectoryError(
    "UNKNOWN_MOVE",
    `no move ${JSON.stringify(id.slice(0, 64))} in the directory; see shardkit moves for the moves it knows`,
    { details: { move: id } },
  );
}

function moveFromRow(r: MoveRow): MoveRecord {
  return {
    id: r.id,
    kind: knownKind(r),
    range: { start: Number(r.range_start), end: Number(r.range_end) },
    keyBytes: r.key_bytes ? new Uint8Array(r.key_bytes) : null,
    keyText: r.key_text,
    source: r.source,
    target: r.target,
    state: knownState(r.id, r.state),
    failedIn: r.failed_in === null ? null : knownState(r.id, r.failed_in),
    options: parseObject(r.options),
    progress: parseObject(r.progress),
    error: r.error,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    switchedVersion: r.switched_version === null ? null : Number(r.switched_version),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function knownKind(r: Pick<MoveRow, "id" | "kind">): MoveKind {
  if (isMoveKind(r.kind)) return r.kind;
  throw newerShardkit(r.id, "kind", r.kind);
}

function knownState(id: string, state: string): MoveState {
  if (isMoveState(state)) return state;
  throw newerShardkit(id, "state", state);
}

// A value this code does not know was written by a newer shardkit: acting on it could undo
// what that release did.
function newerShardkit(id: string, what: string, value: string): DirectoryError {
  return new DirectoryError(
    "SCHEMA_TOO_NEW",
    `move ${id} has ${what} "${value.slice(0, 32)}", which this shardkit does not know; upgrade shardkit to read this directory`,
    { details: { move: id, [what]: value } },
  );
}

function parseObject(text: string | null): Record<string, unknown> {
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : { value };
  } catch {
    return { text };
  }
}
