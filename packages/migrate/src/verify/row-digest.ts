import { createHash, type Hash } from "node:crypto";
import type { Row } from "../binlog/binlog-source.js";

/** Feeds one row's values (in `columns` order) into a hash, each tagged by its type so "1" is not 1. */
export function digestRow(hash: Hash, row: Row, columns: readonly string[]): void {
  for (const c of columns) {
    const v = row[c];
    if (v === null || v === undefined) hash.update("\u0000N");
    else if (Buffer.isBuffer(v)) hash.update("\u0000B").update(v);
    else if (typeof v === "string") hash.update(`\u0000S${v.length}:`).update(v);
    else hash.update(`\u0000${typeof v}:${String(v)}`);
  }
  hash.update("\u0001");
}

/** The digest of rows in order: equal digests mean equal rows (sha1, computed in JavaScript on both sides). */
export function digestRows(rows: readonly Row[], columns: readonly string[]): string {
  const hash = createHash("sha1");
  for (const row of rows) digestRow(hash, row, columns);
  return hash.digest("hex");
}
