import { FENCE_TABLE } from "./ownership-fence.js";

/** What a fenced UPDATE or DELETE by key touches; every column name is quoted by the builder. */
export interface FencedKeyWriteShape {
  readonly kind: "update" | "delete";
  readonly table: string;
  /** The table's shard key column, matched with `IN (...)` against the keys. */
  readonly keyColumn: string;
  /** Columns an UPDATE sets, in binding order; empty for a DELETE. */
  readonly set: readonly string[];
  /** Further `column = ?` conditions, in binding order. */
  readonly where: readonly string[];
  /** Further `column IS NULL` conditions (no binding). */
  readonly whereNull: readonly string[];
  /** How many keys the `IN (...)` lists. */
  readonly keys: number;
  /** How many distinct ranges the keys fall in: one fence row joined for each. */
  readonly ranges: number;
}

/**
 * One autocommit UPDATE or DELETE of a sharded table's rows by key that carries its own fence,
 * for keys in ranges without pinned keys: the statement joins the shard's fence row of every
 * range the keys fall in and changes rows only when each of them is serving here, covers its
 * keys and counts no pinned key. InnoDB reads joined rows of a multi-table UPDATE or DELETE with
 * a shared lock held to commit (at READ COMMITTED too), so a cutover's freeze waits for the
 * statement and every later statement sees the freeze. When the shard does not serve a range the
 * join is empty and nothing changes (affected rows 0).
 *
 * Bind, in order: each range's start, the UPDATE's values, the keys, the `where` values, then
 * for each range the largest keyspace id among its keys.
 */
export function fencedKeyWriteSql(
  shape: FencedKeyWriteShape,
  quote: (identifier: string) => string,
): string {
  const t = quote(shape.table);
  const col = (c: string) => `${t}.${quote(c)}`;
  const alias = (i: number) => `shardkit_fence_${i}`;
  const joins: string[] = [];
  const fenceConditions: string[] = [];
  for (let i = 0; i < shape.ranges; i++) {
    const f = alias(i);
    joins.push(
      `JOIN ${FENCE_TABLE} AS ${f} ON ${f}.kind = 'range' AND ${f}.range_start = ? AND ${f}.key_bytes = ''`,
    );
    fenceConditions.push(`${f}.range_end > ? AND ${f}.state = 'serving' AND ${f}.pinned_keys = 0`);
  }
  const conditions = [
    `${col(shape.keyColumn)} IN (${Array.from({ length: shape.keys }, () => "?").join(", ")})`,
    ...shape.where.map((c) => `${col(c)} = ?`),
    ...shape.whereNull.map((c) => `${col(c)} IS NULL`),
    ...fenceConditions,
  ].join(" AND ");
  if (shape.kind === "delete") {
    return `DELETE ${t} FROM ${t} ${joins.join(" ")} WHERE ${conditions}`;
  }
  const set = shape.set.map((c) => `${col(c)} = ?`).join(", ");
  return `UPDATE ${t} ${joins.join(" ")} SET ${set} WHERE ${conditions}`;
}
