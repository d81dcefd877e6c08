import { FENCE_TABLE } from "./ownership-fence.js";

/**
 * A locking read of the fence row of the range starting at `?` (bind the range's start): the
 * check a fenced transaction sends with its BEGIN when the key's range holds no pinned key. Its
 * shared lock, held to commit, makes a cutover's freeze wait for the transaction; judge the row
 * with {@link rangeFenceRefusal}.
 */
export const RANGE_FENCE_SELECT = `SELECT state, range_end, pinned_keys FROM ${FENCE_TABLE} WHERE kind = 'range' AND range_start = ? AND key_bytes = '' LOCK IN SHARE MODE`;

/** One row of {@link RANGE_FENCE_SELECT}. */
export interface RangeFenceRow {
  readonly state: string;
  readonly range_end: number | string;
  readonly pinned_keys: number | string;
}

/**
 * Why the shard must refuse a write of keyspace id `ksid` given what {@link RANGE_FENCE_SELECT}
 * read (the words the fence procedures use), or undefined when it serves the key: the range row
 * exists, covers `ksid`, is serving and counts no pinned key (a pinned key needs the full check).
 */
export function rangeFenceRefusal(
  rows: readonly RangeFenceRow[],
  ksid: number,
): string | undefined {
  const row = rows[0];
  if (!row || Number(row.range_end) <= ksid) return "this shard does not own the key range";
  if (row.state !== "serving") return "the key range is frozen for a cutover";
  if (Number(row.pinned_keys) !== 0) return "the key range holds a pinned key; take the full check";
  return undefined;
}
