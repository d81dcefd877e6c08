import { ShardkitError } from "../../errors/shardkit-error.js";
import { isValidIdentifier, type RouterHeartbeat } from "../../model.js";
import type { SqlConnection } from "../../mysql/sql-connection.js";
import type { IdBlock } from "../directory-source.js";
import { badName } from "./directory-invariants.js";

/** Reserves `count` consecutive ids of `sequence` with one statement. */
export async function reserveIds(
  conn: SqlConnection,
  sequence: string,
  count: number,
): Promise<IdBlock> {
  // One statement: LAST_INSERT_ID(expr) makes the new high-water mark the OK packet's insertId.
  const [ok] = await conn.query<{ insertId: number }>(
    `INSERT INTO shardkit_sequences (name, next_id) VALUES (?, LAST_INSERT_ID(1 + ?))
     ON DUPLICATE KEY UPDATE next_id = LAST_INSERT_ID(next_id + ?)`,
    [sequence, count, count],
  );
  const end = Number(ok?.insertId);
  if (!Number.isSafeInteger(end)) {
    throw new ShardkitError(
      "SEQUENCE_EXHAUSTED",
      `sequence ${sequence} has passed 2^53; its ids no longer fit a JavaScript number, so start a new sequence`,
      { details: { sequence } },
    );
  }
  return { start: end - count, end };
}

/** Refuses a sequence name or count `reserveIds` cannot take. */
export function checkReservation(sequence: string, count: number): void {
  if (!isValidIdentifier(sequence)) throw badName("sequence", sequence);
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `cannot reserve ${count} ids: give a whole number >= 1`,
    );
  }
}

/** Records (upserts) a router's heartbeat. */
export async function recordHeartbeat(
  conn: SqlConnection,
  hb: Omit<RouterHeartbeat, "lastSeen">,
): Promise<void> {
  await conn.execute(
    `INSERT INTO shardkit_heartbeats (id, host, pid, version, last_seen) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP(3))
     ON DUPLICATE KEY UPDATE host = VALUES(host), pid = VALUES(pid), version = VALUES(version), last_seen = VALUES(last_seen)`,
    [hb.id, hb.host, hb.pid, hb.version],
  );
}

/** Router heartbeats, newest first. */
export async function listHeartbeats(conn: SqlConnection): Promise<RouterHeartbeat[]> {
  const rows = await conn.query<{
    id: string;
    host: string;
    pid: number;
    version: number;
    last_seen: Date;
  }>("SELECT id, host, pid, version, last_seen FROM shardkit_heartbeats ORDER BY last_seen DESC");
  return rows.map((r) => ({
    id: r.id,
    host: r.host,
    pid: Number(r.pid),
    version: Number(r.version),
    lastSeen: r.last_seen,
  }));
}
