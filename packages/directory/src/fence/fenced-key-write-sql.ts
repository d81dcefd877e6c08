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
 * Bind, in order: for each range its start and the largest keyspace id among its keys, then the
 * UPDATE's values, the keys and the `where` values.
 */
export function fencedKeyWriteSql(
  shape: FencedKeyWriteShape,
  quote: (identifier: string) => string,
): string {
  const t = quote(shape.table);
  const col = (c: string) => `${t}.${quote(c)}`;
  const joins = Array.from({ length: shape.ranges }, (_, i) => fenceJoinSql(`shardkit_fence_${i}`));
  const conditions = [
    `${col(shape.keyColumn)} IN (${Array.from({ length: shape.keys }, () => "?").join(", ")})`,
    ...shape.where.map((c) => `${col(c)} = ?`),
    ...shape.whereNull.map((c) => `${col(c)} IS NULL`),
  ].join(" AND ");
  if (shape.kind === "delete") {
    return `DELETE ${t} FROM ${t} ${joins.join(" ")} WHERE ${conditions}`;
  }
  const set = shape.set.map((c) => `${col(c)} = ?`).join(", ");
  return `UPDATE ${t} ${joins.join(" ")} SET ${set} WHERE ${conditions}`;
}

/**
 * `JOIN shardkit_ownership AS <alias> ON <the range row starting at ? is serving here, covers
 * keyspace ids up to ? and counts no pinned key>`: joined into an UPDATE or DELETE, it lets the
 * statement change rows only while the shard serves the range, and reads the row with a shared
 * lock held to commit. Bind the range's start, then the largest keyspace id written. Every
 * condition is in the ON clause, so none depends on the precedence of the statement's WHERE.
 */
export function fenceJoinSql(alias: string): string {
  return `JOIN ${FENCE_TABLE} AS ${alias} ON ${alias}.kind = 'range' AND ${alias}.range_start = ? AND ${alias}.key_bytes = '' AND ${alias}.range_end > ? AND ${alias}.state = 'serving' AND ${alias}.pinned_keys = 0`;
}
