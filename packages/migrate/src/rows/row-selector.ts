import {
  canonicalKeyString,
  columnKey,
  type KeyRange,
  type PinnedKey,
  ShardKeyError,
} from "@shardkit/directory";
import { keyColumnKind, quoteIdentifier } from "@shardkit/directory/internal";
import type { Row } from "../binlog/binlog-source.js";
import type { TableSchema } from "./table-schema.js";

/**
 * Which rows a move moves: for a range, rows whose key column's column key (the router's rule)
 * maps into the range and whose key is not pinned; for a key, the rows of that key. Rows whose
 * key cannot be routed at all belong to no range and are never moved.
 */
export interface RowSelector {
  /** True when `row` (with at least the key column) is one the move moves. */
  contains(table: TableSchema, row: Row): boolean;
  /** The rows of `rows` the move moves, in their order. */
  filter(table: TableSchema, rows: readonly Row[]): Row[];
  /**
   * A condition on the key column that lets MySQL read only candidate rows (through the key
   * column's index), or null when every row must be read; the JavaScript check still decides.
   */
  sqlFilter(table: TableSchema): SqlFilter | null;
}

/** A SQL condition with its parameters. */
export interface SqlFilter {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** The identity of a pinned key's canonical bytes, as {@link canonicalKeyString} gives it. */
function pinIdentity(pin: Pick<PinnedKey, "keyBytes">): string {
  return Buffer.from(pin.keyBytes).toString("latin1");
}

/** Rows of `range` on their shard, except those of pinned keys (which stay where their pin says). */
export function rangeSelector(range: KeyRange, pins: readonly PinnedKey[]): RowSelector {
  const pinned = new Set(pins.map(pinIdentity));
  const isPinned = (key: unknown) => pinned.size > 0 && pinned.has(canonicalKeyString(key));
  const contains = (table: TableSchema, row: Row): boolean => {
    const key = columnKey(table.keyType, row[table.keyColumn]);
    if (key instanceof ShardKeyError) return false;
    const ksid = table.keyFunction.map([key])[0];
    if (typeof ksid !== "number" || ksid < range.start || ksid >= range.end) return false;
    return !isPinned(key);
  };
  return {
    contains,
    sqlFilter: () => null,
    filter(table, rows) {
      const keys = rows.map((r) => columnKey(table.keyType, r[table.keyColumn]));
      const ksids = table.keyFunction.map(keys.map((k) => (k instanceof ShardKeyError ? null : k)));
      const out: Row[] = [];
      for (let i = 0; i < rows.length; i++) {
        const ksid = ksids[i];
        const key = keys[i];
        if (typeof ksid !== "number" || ksid < range.start || ksid >= range.end) continue;
        if (key instanceof ShardKeyError || isPinned(key)) continue;
        out.push(rows[i] as Row);
      }
      return out;
    },
  };
}

/** Rows of one key: those whose key column's column key has the key's canonical bytes. */
export function keySelector(keyBytes: Uint8Array): RowSelector {
  const identity = Buffer.from(keyBytes).toString("latin1");
  const contains = (table: TableSchema, row: Row): boolean => {
    const key = columnKey(table.keyType, row[table.keyColumn]);
    return !(key instanceof ShardKeyError) && canonicalKeyString(key) === identity;
  };
  return {
    contains,
    filter: (table, rows) => rows.filter((r) => contains(table, r)),
    sqlFilter(table) {
      const bytes = Buffer.from(keyBytes);
      const kind = keyColumnKind(table.keyType.dataType);
      // The canonical bytes are the column key: an integer's digits, text as the collation folds it.
      const value =
        kind === "binary"
          ? bytes
          : kind === "integer"
            ? BigInt(bytes.toString("latin1"))
            : bytes.toString("utf8");
      return { sql: `${quoteIdentifier(table.keyColumn)} = ?`, params: [value] };
    },
  };
}
