// What a result column is, from the metadata MySQL sends with it (mysql2's field definition),
// and how two of its values compare and group exactly as the server compares and groups them.
import { compareDecimal, parseDecimal } from "./exact-decimal.js";
import { type CollationWeights, compareWeights, weightKey } from "./text-weights.js";

/** The part of mysql2's column definition the merge reads. */
export interface FieldInfo {
  readonly name: string;
  readonly columnType: number;
  readonly flags: number;
  readonly characterSet: number;
  readonly decimals: number;
}

/** How the merge treats a column's values. */
export const COLUMN_KINDS = [
  "null",
  "integer",
  "decimal",
  "float",
  "temporal",
  "time",
  "text",
  "binary",
  "enum",
  "set",
  "unsupported",
] as const;
/** One of {@link COLUMN_KINDS}. */
export type ColumnKind = (typeof COLUMN_KINDS)[number];

// MySQL protocol column types and flags (include/mysql_com.h).
const T = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  JSON: 245,
  NEWDECIMAL: 246,
  GEOMETRY: 255,
} as const;
const ENUM_FLAG = 256;
const SET_FLAG = 2048;
const BINARY_CHARSET = 63;

/** The kind of a result column, from its type, flags and character set. */
export function columnKind(field: FieldInfo): ColumnKind {
  switch (field.columnType) {
    case T.TINY:
    case T.SHORT:
    case T.LONG:
    case T.INT24:
    case T.LONGLONG:
    case T.YEAR:
      return "integer";
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return "decimal";
    case T.FLOAT:
    case T.DOUBLE:
      return "float";
    case T.NULL:
      return "null";
    case T.DATE:
    case T.NEWDATE:
    case T.DATETIME:
    case T.DATETIME2:
    case T.TIMESTAMP:
    case T.TIMESTAMP2:
      return "temporal";
    case T.TIME:
    case T.TIME2:
      return "time";
    case T.BIT:
      return "binary";
    case T.JSON:
    case T.GEOMETRY:
      return "unsupported";
  }
  if (field.columnType < 15 || field.columnType > 254) return "unsupported";
  if (field.flags & ENUM_FLAG) return "enum";
  if (field.flags & SET_FLAG) return "set";
  return field.characterSet === BINARY_CHARSET ? "binary" : "text";
}

/** Why a kind has no order the merge can reproduce, or undefined when it has one. */
export function unorderable(kind: ColumnKind): string | undefined {
  switch (kind) {
    case "enum":
    case "set":
      return `it is an ${kind.toUpperCase()}, which MySQL sorts by member index`;
    case "unsupported":
      return "its type has no order the router can reproduce";
    default:
      return undefined;
  }
}

/** One merge column: its kind and, for text, its collation's weights. */
export interface ColumnOrder {
  readonly kind: ColumnKind;
  readonly collation?: CollationWeights | undefined;
}

/** Compares two integer values (numbers, or decimal text beyond 2^53) exactly. */
export function compareIntegers(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  const x = BigInt(a as string | number | bigint);
  const y = BigInt(b as string | number | bigint);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Compares two DECIMAL texts exactly. */
export function compareDecimalText(a: unknown, b: unknown): number {
  return compareDecimal(
    parseDecimal(String(a)) ?? { units: 0n, scale: 0 },
    parseDecimal(String(b)) ?? { units: 0n, scale: 0 },
  );
}

/** A TIME value ('-838:59:59.000000' to '838:59:59.000000') in microseconds. */
export function timeMicros(value: string): number {
  const m = /^(-?)(\d+):(\d+):(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) return Number.NaN;
  const [, sign, h, min, s, frac = ""] = m;
  const micros =
    ((Number(h) * 60 + Number(min)) * 60 + Number(s)) * 1e6 +
    Number(frac.padEnd(6, "0").slice(0, 6));
  return sign === "-" ? -micros : micros;
}

/**
 * Compares two values of one column as MySQL orders them, NULL first. `wa`/`wb` are their
 * WEIGHT_STRING (text: collation weights; dates: their text, which orders to the microsecond).
 */
export function compareCells(
  order: ColumnOrder,
  a: unknown,
  wa: unknown,
  b: unknown,
  wb: unknown,
): number {
  const aNull = a === null || a === undefined;
  const bNull = b === null || b === undefined;
  if (aNull || bNull) return aNull && bNull ? 0 : aNull ? -1 : 1;
  switch (order.kind) {
    case "integer":
      return compareIntegers(a, b);
    case "decimal":
      return compareDecimalText(a, b);
    case "float": {
      const x = a as number;
      const y = b as number;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case "temporal":
      if (Buffer.isBuffer(wa) && Buffer.isBuffer(wb)) return Buffer.compare(wa, wb);
      return Math.sign((a as Date).getTime() - (b as Date).getTime());
    case "time":
      return Math.sign(timeMicros(String(a)) - timeMicros(String(b)));
    case "text":
      return compareWeights(wa as Buffer, wb as Buffer, order.collation?.pad);
    case "binary":
      return Buffer.compare(a as Buffer, b as Buffer);
    case "null":
      return 0;
    default:
      throw new Error(`no order for ${order.kind} values`);
  }
}

/** A string equal for two values of one column exactly when GROUP BY puts them in one group. */
export function groupKey(order: ColumnOrder, value: unknown, weight: unknown): string {
  if (value === null || value === undefined) return "";
  switch (order.kind) {
    case "integer":
      return `i${BigInt(value as string | number).toString()}`;
    case "decimal": {
      const d = parseDecimal(String(value));
      if (!d) return `s${String(value)}`;
      // 1.50 and 1.5 are one value: drop trailing zeros.
      let { units, scale } = d;
      while (scale > 0 && units % 10n === 0n) {
        units /= 10n;
        scale--;
      }
      return `d${units}e${scale}`;
    }
    case "float":
      return `f${(value as number) === 0 ? 0 : value}`;
    case "temporal":
      return Buffer.isBuffer(weight)
        ? `t${weight.toString("hex")}`
        : `t${(value as Date).getTime()}`;
    case "time":
      return `h${timeMicros(String(value))}`;
    case "text":
      return `w${weightKey(weight as Buffer, order.collation?.pad)}`;
    case "binary":
      return `b${(value as Buffer).toString("hex")}`;
    default:
      // ENUM and SET members are distinct strings; anything else by its text.
      return `s${typeof value === "object" ? JSON.stringify(value) : String(value)}`;
  }
}
