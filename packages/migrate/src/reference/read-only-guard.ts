import { createHash } from "node:crypto";
import { quoteIdentifier, type SqlConnection } from "@shardkit/directory/internal";

/**
 * The session variable that lets a write reach a reference copy: only the reference applier
 * sets it. Every other session's INSERT, UPDATE or DELETE on the copy fails in the trigger.
 */
export const APPLIER_VARIABLE = "@shardkit_reference_applier";

/** The SQLSTATE of a write refused on a reference copy (as SIGNAL raises it; errno 1644). */
export const READ_ONLY_SQLSTATE = "45000";

const EVENTS = ["INSERT", "UPDATE", "DELETE"] as const;

function triggerName(table: string, event: (typeof EVENTS)[number]): string {
  const h = createHash("sha256").update(table).digest("hex").slice(0, 16);
  return `shardkit_ro_${h}_${event.toLowerCase()}`;
}

/** The message of a refused write, naming the table and where to write it instead. */
export function readOnlyMessage(table: string): string {
  return `shardkit: ${table} is a reference copy, read-only here; write it on its source (router.reference('${table}'))`.slice(
    0,
    128,
  );
}

/**
 * Installs (or replaces) the triggers that make a reference copy read-only for every session
 * but the applier's. Runs on the shard; needs the TRIGGER privilege (and, with binary logging
 * on, SUPER or log_bin_trust_function_creators, as for any trigger).
 */
export async function installReadOnlyGuard(conn: SqlConnection, table: string): Promise<void> {
  const message = readOnlyMessage(table).replace(/'/g, "''");
  for (const event of EVENTS) {
    const name = quoteIdentifier(triggerName(table, event));
    await conn.execute(`DROP TRIGGER IF EXISTS ${name}`);
    await conn.execute(
      `CREATE TRIGGER ${name} BEFORE ${event} ON ${quoteIdentifier(table)} FOR EACH ROW
       IF ${APPLIER_VARIABLE} IS NULL THEN
         SIGNAL SQLSTATE '${READ_ONLY_SQLSTATE}' SET MESSAGE_TEXT = '${message}';
       END IF`,
    );
  }
}

/** Removes the read-only triggers (the copy becomes an ordinary table). */
export async function removeReadOnlyGuard(conn: SqlConnection, table: string): Promise<void> {
  for (const event of EVENTS) {
    await conn.execute(`DROP TRIGGER IF EXISTS ${quoteIdentifier(triggerName(table, event))}`);
  }
}

/** Whether the copy's three triggers are all there. */
export async function hasReadOnlyGuard(conn: SqlConnection, table: string): Promise<boolean> {
  const rows = await conn.query<{ n: number }>(
    "SELECT COUNT(*) AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME IN (?, ?, ?)",
    EVENTS.map((e) => triggerName(table, e)),
  );
  return Number(rows[0]?.n) === EVENTS.length;
}
