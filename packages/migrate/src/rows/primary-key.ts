import { quoteIdentifier } from "@shardkit/directory/internal";
import type { Row } from "../binlog/binlog-source.js";
import type { PrimaryKeyKind, TableSchema } from "./table-schema.js";

/** A row's primary-key values, in key order. */
export type PrimaryKey = readonly unknown[];

/** The primary key of `row`. */
export function primaryKeyOf(table: TableSchema, row: Row): PrimaryKey {
  return table.primaryKey.map((c) => row[c]);
}

/** A string that identifies a primary key, to index rows by (and to print). */
export function primaryKeyText(key: PrimaryKey): string {
  return JSON.stringify(
    key.map((v) => (Buffer.isBuffer(v) ? `0x${v.toString("hex")}` : v)),
    (_k, v) => (typeof v === "bigint" ? v.toString() : v),
  );
}

function compareValue(kind: PrimaryKeyKind, a: unknown, b: unknown): number | null {
  if (kind === "integer") {
    if (typeof a === "number" && typeof b === "number") return a - b;
    const x = BigInt(a as string | number);
    const y = BigInt(b as string | number);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (kind === "binary" && Buffer.isBuffer(a) && Buffer.isBuffer(b)) return Buffer.compare(a, b);
  return null;
}

/**
 * Orders two primary keys as MySQL does, or null when JavaScript cannot tell exactly (a column
 * compared by collation, a date, a decimal): callers must then act as if `a` may come first.
 */
export function comparePrimaryKeys(
  table: TableSchema,
  a: PrimaryKey,
  b: PrimaryKey,
): number | null {
  for (let i = 0; i < table.primaryKey.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === null || y === null || x === undefined || y === undefined) return null;
    const order = compareValue(table.primaryKeyKinds[i] ?? "other", x, y);
    if (order === null) return null;
    if (order !== 0) return order;
  }
  return 0;
}

/** The primary-key columns, quoted and comma separated: the ORDER BY of every chunk. */
export function orderByPrimaryKey(table: TableSchema): string {
  return table.primaryKey.map(quoteIdentifier).join(", ");
}

/**
 * `(a > ?) OR (a = ? AND b > ?) ...`: rows after `key` in primary-key order (or at or before
 * it with `op` `<=`), with its parameters. Written out rather than as a row comparison, which
 * not every server turns into an index range.
 */
export function primaryKeyBound(
  table: TableSchema,
  key: PrimaryKey,
  op: ">" | "<=",
): { sql: string; params: unknown[] } {
  const cols = table.primaryKey.map(quoteIdentifier);
  const strict = op === ">" ? ">" : "<";
  const terms: string[] = [];
  const params: unknown[] = [];
  for (let i = 0; i < cols.length; i++) {
    const parts: string[] = [];
    for (let j = 0; j < i; j++) {
      parts.push(`${cols[j]} = ?`);
      params.push(key[j]);
    }
    parts.push(`${cols[i]} ${strict} ?`);
    params.push(key[i]);
    terms.push(`(${parts.join(" AND ")})`);
  }
  if (op === "<=") {
    terms.push(`(${cols.map((c) => `${c} = ?`).join(" AND ")})`);
    params.push(...key);
  }
  return { sql: `(${terms.join(" OR ")})`, params };
}

/** `(a, b) IN ((?, ?), ...)` (or `a IN (?, ...)` for one column) over `keys`, with its parameters. */
export function primaryKeyIn(
  table: TableSchema,
  keys: readonly PrimaryKey[],
): { sql: string; params: unknown[] } {
  const cols = table.primaryKey.map(quoteIdentifier);
  if (cols.length === 1) {
    return {
      sql: `${cols[0]} IN (${keys.map(() => "?").join(", ")})`,
      params: keys.map((k) => k[0]),
    };
  }
  const one = `(${cols.map(() => "?").join(", ")})`;
  return {
    sql: `(${cols.join(", ")}) IN (${keys.map(() => one).join(", ")})`,
    params: keys.flat(),
  };
}
