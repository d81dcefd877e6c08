// HAVING after the merge: conditions on the merged groups, compared with the merge's own exact
// comparison (numbers exactly, text by the column's collation), or a predicate over each row.
import { RouterError } from "../router-errors.js";
import { type ColumnOrder, timeMicros } from "./column-kinds.js";
import { compareDecimal, toDecimal } from "./exact-decimal.js";
import { compareWeights } from "./text-weights.js";

/** Comparison operators of a having condition. */
export const HAVING_OPERATORS = ["=", "!=", "<>", "<", "<=", ">", ">="] as const;
/** One of {@link HAVING_OPERATORS}. */
export type HavingOperator = (typeof HAVING_OPERATORS)[number];

/** Keeps the merged groups whose `column` (a group or an aggregate) compares with `value` by `op`. */
export interface HavingCondition {
  readonly column: string;
  readonly op: HavingOperator;
  /** A number, bigint or decimal text for numbers; a string for text; a Date for dates; a Buffer for bytes. */
  readonly value: unknown;
}

/** Keeps the merged rows for which it returns true. */
export type HavingPredicate = (row: Readonly<Record<string, unknown>>) => boolean;

/** Name of the helper column holding the weight of having condition `k`'s value in its column's collation. */
export function havingWeight(k: number): string {
  return `__shardkit_h${k}`;
}

/**
 * Whether a merged cell satisfies `op value`. A NULL cell satisfies nothing (as in SQL);
 * `valueWeight` is the weight MySQL gave the value in the column's collation (text only).
 */
export function satisfies(
  order: ColumnOrder,
  label: string,
  cell: unknown,
  cellWeight: unknown,
  op: HavingOperator,
  value: unknown,
  valueWeight: unknown,
): boolean {
  if (cell === null || cell === undefined) return false;
  const c = compareWith(order, label, cell, cellWeight, value, valueWeight);
  switch (op) {
    case "=":
      return c === 0;
    case "!=":
    case "<>":
      return c !== 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
  }
}

function compareWith(
  order: ColumnOrder,
  label: string,
  cell: unknown,
  cellWeight: unknown,
  value: unknown,
  valueWeight: unknown,
): number {
  const wrongType = (what: string) =>
    new RouterError(
      "BAD_ARGUMENT",
      `having on ${label} compares with ${describeValue(value)}, but ${label} holds ${what}; give ${what === "text" ? "a string" : what === "dates" ? "a Date" : "a number"}`,
      { details: { column: label } },
    );
  switch (order.kind) {
    case "integer":
    case "decimal": {
      const a = toDecimal(cell);
      const b = toDecimal(value);
      if (!a || !b) throw wrongType("numbers");
      return compareDecimal(a, b);
    }
    case "float": {
      const b =
        typeof value === "bigint"
          ? Number(value)
          : typeof value === "string"
            ? Number(value)
            : value;
      if (typeof b !== "number" || Number.isNaN(b)) throw wrongType("numbers");
      const a = cell as number;
      return a < b ? -1 : a > b ? 1 : 0;
    }
    case "temporal":
      if (!(value instanceof Date)) throw wrongType("dates");
      return Math.sign((cell as Date).getTime() - value.getTime());
    case "time":
      return Math.sign(timeMicros(String(cell)) - timeMicros(String(value)));
    case "binary": {
      const b = Buffer.isBuffer(value)
        ? value
        : typeof value === "string"
          ? Buffer.from(value)
          : undefined;
      if (!b) throw wrongType("bytes");
      return Buffer.compare(cell as Buffer, b);
    }
    case "text":
    case "enum":
    case "set":
      if (typeof value !== "string") throw wrongType("text");
      return compareWeights(cellWeight as Buffer, valueWeight as Buffer, order.collation?.pad);
    default:
      throw new RouterError(
        "BAD_ARGUMENT",
        `having cannot compare ${label}: its type has no comparison the router can reproduce; filter the rows with a having function instead`,
        { details: { column: label } },
      );
  }
}

function describeValue(v: unknown): string {
  if (v instanceof Date) return "a Date";
  if (Buffer.isBuffer(v)) return "a Buffer";
  return `${typeof v} ${JSON.stringify(typeof v === "bigint" ? String(v) : v)}`;
}
