import { formatKeyRange, type KeyRange } from "../key-range.js";
import type { DirectorySnapshot } from "../model.js";
import type { SqlConnection } from "../mysql/sql-connection.js";

/** The table on every shard that records what that shard owns: the ownership fence. */
export const FENCE_TABLE = "shardkit_ownership";

/** Kinds of fence rows: an owned range, a pinned key owned here, a key pinned elsewhere (refused here). */
export const FENCE_KINDS = ["range", "pin", "pin_away"] as const;
/** One of {@link FENCE_KINDS}. */
export type FenceKind = (typeof FENCE_KINDS)[number];

/** Fence states: `serving` accepts writes, `frozen` refuses them while a cutover runs. */
export const FENCE_STATES = ["serving", "frozen"] as const;
/** One of {@link FENCE_STATES}. */
export type FenceState = (typeof FENCE_STATES)[number];

/** One difference between the directory and a shard's ownership table. */
export interface FenceDifference {
  readonly shard: string;
  /** `missing`: the directory grants it, the shard does not know; `extra`: the shard holds a grant the directory does not; `state`: both know it with different states. */
  readonly kind: "missing" | "extra" | "state";
  /** The range or pinned key, in CLI notation. */
  readonly what: string;
  readonly expected?: string;
  readonly actual?: string;
}

/** One row of a shard's ownership table. */
export interface FenceRow {
  readonly kind: FenceKind;
  /** For ranges the range; for pins `[ksid, ksid + 1)`. */
  readonly range: KeyRange;
  /** Canonical key bytes for pins; empty for ranges. */
  readonly keyBytes: Uint8Array;
  readonly state: FenceState;
  /**
   * For ranges: how many pinned keys (of any shard) have their keyspace id in the range; the
   * one-statement insert fence ({@link fencedInsertSql}) accepts only ranges where this is 0.
   * Always 0 for pins.
   */
  readonly pinnedKeys: number;
}

// A row written without the count (by an older shardkit) says 1: "may hold pinned keys",
// which sends writes to the full check until doctor rewrites the fence.
const PINNED_KEYS_COLUMN = "pinned_keys INT UNSIGNED NOT NULL DEFAULT 1";

/** DDL of the fence table; idempotent. */
export const CREATE_FENCE_TABLE = `CREATE TABLE IF NOT EXISTS ${FENCE_TABLE} (
  kind ENUM('range','pin','pin_away') NOT NULL,
  range_start BIGINT UNSIGNED NOT NULL,
  range_end BIGINT UNSIGNED NOT NULL,
  key_bytes VARBINARY(255) NOT NULL DEFAULT '',
  state ENUM('serving','frozen') NOT NULL DEFAULT 'serving',
  directory_version BIGINT UNSIGNED NOT NULL,
  ${PINNED_KEYS_COLUMN},
  PRIMARY KEY (kind, range_start, key_bytes)
) ENGINE=InnoDB`;

/** Recorded as the procedures' comment, so `ensureFence` replaces them only when they change. */
export const FENCE_PROCEDURES_VERSION = "shardkit fence v2";

/** MySQL error number raised by the fence procedures when a shard refuses a key. */
export const FENCE_ERRNO = 45001;
/** SQLSTATE raised with {@link FENCE_ERRNO}. */
export const FENCE_SQLSTATE = "45000";

/**
 * `shardkit_fence(ksid, key_bytes)` checks, inside the caller's transaction, that this shard
 * may take a write for the key: pinned here, or in a serving range here and not pinned
 * elsewhere. It reads the deciding row with a shared lock, so a cutover that freezes the
 * range waits for writes in flight and every later write sees the freeze. On refusal it rolls
 * the transaction back and raises {@link FENCE_ERRNO}.
 * `shardkit_begin_fenced(ksid, key_bytes)` starts a transaction and runs the same check:
 * BEGIN and the fence in one round trip.
 */
export const FENCE_PROCEDURES: readonly string[] = [
  "DROP PROCEDURE IF EXISTS shardkit_fence",
  fenceProcedure("shardkit_fence", ""),
  "DROP PROCEDURE IF EXISTS shardkit_begin_fenced",
  // The check is inlined rather than a nested CALL: this runs before every write.
  fenceProcedure("shardkit_begin_fenced", "START TRANSACTION;"),
];

function fenceProcedure(name: string, prologue: string): string {
  const refuse = (why: string) => `ROLLBACK;
        SIGNAL SQLSTATE '${FENCE_SQLSTATE}' SET MYSQL_ERRNO = ${FENCE_ERRNO},
          MESSAGE_TEXT = 'shardkit fence: ${why}';`;
  return `CREATE PROCEDURE ${name}(IN p_ksid BIGINT UNSIGNED, IN p_key VARBINARY(255))
  SQL SECURITY INVOKER COMMENT '${FENCE_PROCEDURES_VERSION}'
  BEGIN
    DECLARE v_kind VARCHAR(16) DEFAULT NULL;
    DECLARE v_state VARCHAR(16) DEFAULT NULL;
    DECLARE v_end BIGINT UNSIGNED DEFAULT NULL;
    DECLARE CONTINUE HANDLER FOR NOT FOUND BEGIN END;
    ${prologue}
    SELECT kind, state INTO v_kind, v_state FROM ${FENCE_TABLE}
      WHERE kind IN ('pin', 'pin_away') AND key_bytes = p_key LIMIT 1 LOCK IN SHARE MODE;
    IF v_kind IS NULL THEN
      SELECT state, range_end INTO v_state, v_end FROM ${FENCE_TABLE}
        WHERE kind = 'range' AND range_start <= p_ksid
        ORDER BY range_start DESC LIMIT 1 LOCK IN SHARE MODE;
      IF v_state IS NULL OR v_end <= p_ksid THEN
        ${refuse("this shard does not own the key range")}
      ELSEIF v_state <> 'serving' THEN
        ${refuse("the key range is frozen for a cutover")}
      END IF;
    ELSEIF v_kind <> 'pin' THEN
      ${refuse("the key is pinned to another shard")}
    ELSEIF v_state <> 'serving' THEN
      ${refuse("the pinned key is frozen for a cutover")}
    END IF;
  END`;
}

/**
 * An INSERT of one row that carries its own fence, for keys in a range with no pinned key:
 * `INSERT INTO <table> (<columns>) SELECT <values> FROM shardkit_ownership WHERE <the range
 * starting at start is serving here, covers ksid and holds no pinned key> LOCK IN SHARE MODE`.
 * It inserts the row when the shard owns the key and nothing when it does not (affected rows
 * 0); it reads the range's row with a shared lock held to commit, like the fence procedures,
 * so a cutover's freeze waits for it. Bind the row's values, then the range start, then the
 * key's ksid twice. `quote` quotes an identifier.
 */
export function fencedInsertSql(
  table: string,
  columns: readonly string[],
  quote: (identifier: string) => string,
): string {
  return `INSERT INTO ${quote(table)} (${columns.map(quote).join(", ")}) SELECT ${columns.map(() => "?").join(", ")} FROM ${FENCE_TABLE} WHERE kind = 'range' AND range_start = ? AND key_bytes = '' AND range_start <= ? AND range_end > ? AND state = 'serving' AND pinned_keys = 0 LOCK IN SHARE MODE`;
}

/** Creates (or upgrades) the fence table and procedures on a shard connection; idempotent. */
export async function ensureFence(conn: SqlConnection): Promise<void> {
  await conn.execute(CREATE_FENCE_TABLE);
  const column = await conn.query<{ n: number }>(
    "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'pinned_keys'",
    [FENCE_TABLE],
  );
  if (Number(column[0]?.n ?? 0) === 0)
    await conn.execute(`ALTER TABLE ${FENCE_TABLE} ADD COLUMN ${PINNED_KEYS_COLUMN}`);
  const have = await conn.query<{ n: number }>(
    "SELECT COUNT(*) AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME IN ('shardkit_fence', 'shardkit_begin_fenced') AND ROUTINE_COMMENT = ?",
    [FENCE_PROCEDURES_VERSION],
  );
  if (Number(have[0]?.n ?? 0) === 2) return;
  for (const sql of FENCE_PROCEDURES) await conn.execute(sql);
}

/** The fence rows a shard must hold for the directory at `snapshot`. */
export function expectedFence(snapshot: DirectorySnapshot, shard: string): FenceRow[] {
  const rows: FenceRow[] = [];
  for (const a of snapshot.ranges) {
    if (a.shard !== shard) continue;
    rows.push({
      kind: "range",
      range: a.range,
      keyBytes: new Uint8Array(0),
      state: a.state === "frozen" ? "frozen" : "serving",
      pinnedKeys: snapshot.pins.filter((p) => a.range.start <= p.ksid && p.ksid < a.range.end)
        .length,
    });
  }
  // A pinned key is owned by its shard and refused by every other shard, whatever range
  // its keyspace id falls in, so the fence holds for any key function.
  for (const p of snapshot.pins) {
    rows.push({
      kind: p.shard === shard ? "pin" : "pin_away",
      range: { start: p.ksid, end: p.ksid + 1 },
      keyBytes: p.keyBytes,
      // The owner refuses a pinned key its move froze; other shards refuse it anyway.
      state: p.shard === shard && p.state === "frozen" ? "frozen" : "serving",
      pinnedKeys: 0,
    });
  }
  return rows;
}

/** Reads a shard's fence rows. */
export async function readFence(conn: SqlConnection): Promise<FenceRow[]> {
  const rows = await conn.query<{
    kind: FenceKind;
    range_start: number | string;
    range_end: number | string;
    key_bytes: Buffer;
    state: FenceState;
    pinned_keys: number;
  }>(`SELECT kind, range_start, range_end, key_bytes, state, pinned_keys FROM ${FENCE_TABLE}`);
  return rows.map((r) => ({
    kind: r.kind,
    range: { start: Number(r.range_start), end: Number(r.range_end) },
    keyBytes: new Uint8Array(r.key_bytes),
    state: r.state,
    pinnedKeys: Number(r.pinned_keys),
  }));
}

/** Replaces a shard's fence rows with `rows` in one transaction on that shard. */
export async function writeFence(
  conn: SqlConnection,
  rows: readonly FenceRow[],
  version: number,
): Promise<void> {
  await conn.query("START TRANSACTION");
  try {
    await conn.query(`DELETE FROM ${FENCE_TABLE}`);
    if (rows.length > 0) {
      await conn.query(
        `INSERT INTO ${FENCE_TABLE} (kind, range_start, range_end, key_bytes, state, directory_version, pinned_keys) VALUES ?`,
        [
          rows.map((r) => [
            r.kind,
            r.range.start,
            r.range.end,
            Buffer.from(r.keyBytes),
            r.state,
            version,
            r.pinnedKeys,
          ]),
        ],
      );
    }
    await conn.query("COMMIT");
  } catch (error) {
    await conn.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Names each row that differs between what a shard should hold and what it holds. */
export function diffFence(
  shard: string,
  expected: readonly FenceRow[],
  actual: readonly FenceRow[],
): FenceDifference[] {
  const key = (r: FenceRow) =>
    `${r.kind}:${r.range.start}:${Buffer.from(r.keyBytes).toString("hex")}`;
  const have = new Map(actual.map((r) => [key(r), r]));
  const want = new Map(expected.map((r) => [key(r), r]));
  const out: FenceDifference[] = [];
  for (const [k, e] of want) {
    const a = have.get(k);
    if (!a) {
      out.push({ shard, kind: "missing", what: describeRow(e), expected: e.state });
    } else if (
      a.state !== e.state ||
      a.range.end !== e.range.end ||
      a.pinnedKeys !== e.pinnedKeys
    ) {
      out.push({
        shard,
        kind: "state",
        what: describeRow(e),
        expected: describeState(e),
        actual: describeState(a),
      });
    }
  }
  for (const [k, a] of have) {
    if (!want.has(k)) out.push({ shard, kind: "extra", what: describeRow(a), actual: a.state });
  }
  return out;
}

function describeState(row: FenceRow): string {
  const pins = row.kind === "range" ? `, ${row.pinnedKeys} pinned key(s)` : "";
  return `${formatKeyRange(row.range)} ${row.state}${pins}`;
}

/** A fence row in words, as differences name it: `range 40-80`, `pinned key 0x...`. */
export function describeRow(row: FenceRow): string {
  if (row.kind === "range") return `range ${formatKeyRange(row.range)}`;
  const hex = Buffer.from(row.keyBytes).toString("hex");
  return `${row.kind === "pin" ? "pinned key" : "key pinned elsewhere"} 0x${hex}`;
}
