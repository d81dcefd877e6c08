import type { SqlConnection } from "../mysql/sql-connection.js";
import { FENCE_TABLE, type FenceKind, type FenceRow } from "./ownership-fence.js";

/** A fence row's identity (its primary key): kind, range start and key bytes. */
export interface FenceRowKey {
  readonly kind: FenceKind;
  /** The range's start; for pins the key's keyspace id. */
  readonly start: number;
  /** Canonical key bytes for pins; empty for ranges. */
  readonly keyBytes: Uint8Array;
}

/** Options of {@link replaceFenceRows}. */
export interface ReplaceFenceRowsOptions {
  /** Seconds to wait for the rows' locks (writes in flight hold them). Default: the server's. */
  readonly lockWaitSeconds?: number;
}

/** The key of a fence row. */
export function fenceRowKey(row: FenceRow): FenceRowKey {
  return { kind: row.kind, start: row.range.start, keyBytes: row.keyBytes };
}

/**
 * Makes the fence rows at `keys` on the shard of `conn` what `rows` says (a key with no row in
 * `rows` is deleted) and leaves every other row alone, in one transaction: the rows are read
 * with an exclusive lock first, so this waits for writes in flight that hold them shared (a
 * freeze's drain) while writes to other ranges go on. Returns the rows found at `keys`, to put
 * them back with another call.
 */
export async function replaceFenceRows(
  conn: SqlConnection,
  keys: readonly FenceRowKey[],
  rows: readonly FenceRow[],
  version: number,
  options: ReplaceFenceRowsOptions = {},
): Promise<FenceRow[]> {
  if (options.lockWaitSeconds !== undefined) {
    await conn.query("SET SESSION innodb_lock_wait_timeout = ?", [options.lockWaitSeconds]);
  }
  // READ COMMITTED: lock the rows named, not the gaps beside them, so inserts of other keys
  // and writers of neighbouring ranges are not held up.
  await conn.query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
  await conn.query("START TRANSACTION");
  try {
    const prior: FenceRow[] = [];
    for (const key of keys) {
      const found = await conn.query<{
        range_end: number | string;
        state: FenceRow["state"];
        pinned_keys: number;
      }>(
        `SELECT range_end, state, pinned_keys FROM ${FENCE_TABLE} WHERE kind = ? AND range_start = ? AND key_bytes = ? FOR UPDATE`,
        [key.kind, key.start, Buffer.from(key.keyBytes)],
      );
      const have = found[0];
      if (have) {
        prior.push({
          kind: key.kind,
          range: { start: key.start, end: Number(have.range_end) },
          keyBytes: key.keyBytes,
          state: have.state,
          pinnedKeys: Number(have.pinned_keys),
        });
      }
    }
    for (const key of keys) {
      const want = rows.find((r) => sameKey(fenceRowKey(r), key));
      const have = prior.find((r) => sameKey(fenceRowKey(r), key));
      const where = [key.kind, key.start, Buffer.from(key.keyBytes)];
      if (want && have) {
        await conn.query(
          `UPDATE ${FENCE_TABLE} SET range_end = ?, state = ?, pinned_keys = ?, directory_version = ? WHERE kind = ? AND range_start = ? AND key_bytes = ?`,
          [want.range.end, want.state, want.pinnedKeys, version, ...where],
        );
      } else if (have) {
        await conn.query(
          `DELETE FROM ${FENCE_TABLE} WHERE kind = ? AND range_start = ? AND key_bytes = ?`,
          where,
        );
      } else if (want) {
        await conn.query(
          `INSERT INTO ${FENCE_TABLE} (kind, range_start, range_end, key_bytes, state, directory_version, pinned_keys) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [
            want.kind,
            want.range.start,
            want.range.end,
            Buffer.from(want.keyBytes),
            want.state,
            version,
            want.pinnedKeys,
          ],
        );
      }
    }
    await conn.query("COMMIT");
    return prior;
  } catch (error) {
    await conn.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Whether two keys name the same fence row. */
export function sameKey(a: FenceRowKey, b: FenceRowKey): boolean {
  return (
    a.kind === b.kind &&
    a.start === b.start &&
    Buffer.from(a.keyBytes).equals(Buffer.from(b.keyBytes))
  );
}
