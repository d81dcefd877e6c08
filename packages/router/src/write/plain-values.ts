import type { Row } from "../router-options.js";

/**
 * True when the driver binds every value of `row` as it is (null, strings, numbers, bigints,
 * booleans, Dates, bytes); anything else (knex.raw, objects) must go through knex.
 */
export function hasPlainValues(row: Row): boolean {
  for (const c in row) {
    const v = row[c];
    if (
      v === null ||
      v === undefined ||
      typeof v === "string" ||
      typeof v === "number" ||
      typeof v === "bigint" ||
      typeof v === "boolean" ||
      v instanceof Date ||
      v instanceof Uint8Array
    )
      continue;
    return false;
  }
  return true;
}
