import { DirectoryError } from "../../errors/directory-error.js";
import { ShardkitError } from "../../errors/shardkit-error.js";
import { isMoveActive, type MoveRecord } from "../../move-model.js";
import type { SqlConnection } from "../../mysql/sql-connection.js";
import type { MoveLease } from "../directory-admin.js";
import { requireMove } from "./move-records.js";

const MAX_TTL_MS = 86_400_000;
const MAX_OWNER = 128;

/**
 * Takes a move's lease for `ttlMs` when it is free, lapsed or already `owner`'s (the
 * directory server's clock decides); MOVE_LEASED naming the holder otherwise.
 */
export async function acquireMoveLease(
  conn: SqlConnection,
  id: string,
  owner: string,
  ttlMs: number,
): Promise<MoveRecord> {
  checkLeaseArguments(owner, ttlMs);
  return inTransaction(conn, async () => {
    const move = await requireMove(conn, id, true);
    if (!isMoveActive(move.state)) {
      throw new DirectoryError(
        "MOVE_STATE",
        `move ${id} is ${move.state}; there is nothing left to run (see shardkit move status ${id})`,
        { details: { move: id, state: move.state } },
      );
    }
    if (move.leaseOwner !== null && move.leaseOwner !== owner && !(await lapsed(conn, id))) {
      throw leased(move);
    }
    await extend(conn, id, owner, ttlMs);
    return requireMove(conn, id);
  });
}

/** Extends `owner`'s lease by `ttlMs` from now; MOVE_LEASED when another mover holds it. */
export async function renewMoveLease(
  conn: SqlConnection,
  id: string,
  owner: string,
  ttlMs: number,
): Promise<MoveLease> {
  checkLeaseArguments(owner, ttlMs);
  return inTransaction(conn, async () => {
    requireLease(await requireMove(conn, id, true), owner);
    await extend(conn, id, owner, ttlMs);
    const move = await requireMove(conn, id);
    return { owner, expiresAt: move.leaseExpiresAt as Date };
  });
}

/** Gives `owner`'s lease up; nothing happens when `owner` does not hold it. */
export async function releaseMoveLease(
  conn: SqlConnection,
  id: string,
  owner: string,
): Promise<void> {
  await requireMove(conn, id);
  await conn.execute(
    "UPDATE shardkit_moves SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?",
    [id, owner],
  );
}

/**
 * MOVE_LEASED unless `owner` holds the move's lease. A lapsed lease nobody else took is still
 * the owner's: taking a lease is atomic, so a second mover has to take it before acting.
 */
export function requireLease(move: MoveRecord, owner: string): void {
  if (move.leaseOwner !== owner) throw leased(move, owner);
}

/** Runs `work` in a transaction on `conn`, rolled back when it throws. */
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

function leased(move: MoveRecord, asker?: string): DirectoryError {
  const details = {
    move: move.id,
    owner: move.leaseOwner,
    expiresAt: move.leaseExpiresAt?.toISOString() ?? null,
  };
  if (move.leaseOwner === null) {
    return new DirectoryError(
      "MOVE_LEASED",
      `${asker ?? "this mover"} does not hold the lease of move ${move.id} (nobody does); resume the move to take it`,
      { details },
    );
  }
  return new DirectoryError(
    "MOVE_LEASED",
    `move ${move.id} is being run by ${move.leaseOwner} (lease until ${move.leaseExpiresAt?.toISOString()}); wait for that mover to finish or its lease to lapse, then resume it`,
    { details },
  );
}

async function lapsed(conn: SqlConnection, id: string): Promise<boolean> {
  const [row] = await conn.query<{ lapsed: number | null }>(
    "SELECT lease_expires_at < CURRENT_TIMESTAMP(3) AS lapsed FROM shardkit_moves WHERE id = ?",
    [id],
  );
  return Number(row?.lapsed ?? 1) === 1;
}

async function extend(conn: SqlConnection, id: string, owner: string, ttlMs: number) {
  await conn.execute(
    "UPDATE shardkit_moves SET lease_owner = ?, lease_expires_at = CURRENT_TIMESTAMP(3) + INTERVAL ? MICROSECOND WHERE id = ?",
    [owner, ttlMs * 1000, id],
  );
}

function checkLeaseArguments(owner: string, ttlMs: number): void {
  if (typeof owner !== "string" || owner.length === 0 || owner.length > MAX_OWNER) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `invalid lease owner ${JSON.stringify(String(owner).slice(0, 40))}: give 1 to ${MAX_OWNER} characters naming the mover (e.g. host:pid)`,
    );
  }
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `invalid lease duration ${ttlMs} ms: give a whole number of milliseconds from 1 to ${MAX_TTL_MS}`,
    );
  }
}
