// One file: the canonical-key rule of every kind of key column, and the reading of column
// types and collations that feeds it, so the router, the CLI and other clients route alike.
import { ShardKeyError, ShardkitError } from "../errors/shardkit-error.js";
import type { ShardKey } from "../key-function.js";
import { describeKey } from "./canonical-key.js";

/** The kinds of key column shardkit routes exactly; any other column type refuses every key. */
export const KEY_COLUMN_KINDS = ["integer", "text", "binary"] as const;
/** One of {@link KEY_COLUMN_KINDS}. */
export type KeyColumnKind = (typeof KEY_COLUMN_KINDS)[number];

/** How a text column's collation compares keys, as probed on a shard (see {@link textComparisonOf}). */
export interface TextComparison {
  /** Trailing spaces are ignored when comparing (PAD SPACE collations). */
  readonly padSpace: boolean;
  /**
   * For each printable ASCII character (0x20 to 0x7e, in order) the character it is routed as:
   * one of the characters the collation holds equal to it. Null for collations that compare
   * code points (`binary`, `*_bin`), whose keys route as they are.
   */
  readonly asciiFold: string | null;
  /** Why keys of this collation cannot be routed exactly, when the probe found they cannot. */
  readonly refused?: string;
}

/** A sharded table's key column, as a shard's information_schema describes it. */
export interface KeyColumnType {
  readonly table: string;
  readonly column: string;
  /** `information_schema.COLUMNS.DATA_TYPE` in lower case: `bigint`, `varchar`, `binary`, ... */
  readonly dataType: string;
  /** True for an UNSIGNED integer column. */
  readonly unsigned: boolean;
  /** Most characters (char, varchar) or bytes (binary, varbinary) it holds; null when not checked. */
  readonly maxLength: number | null;
  /** The character set of a text column; null otherwise. */
  readonly charset: string | null;
  /** The collation of a text column; null otherwise. */
  readonly collation: string | null;
  /** How the collation compares; required for text columns (absent: every key is refused). */
  readonly comparison?: TextComparison;
}

/** Runs one SQL statement on a shard and returns its rows (e.g. `SqlConnection.query`). */
export type SqlRunner = (sql: string, params?: readonly unknown[]) => Promise<readonly object[]>;

const INTEGER_BITS: Readonly<Record<string, number>> = {
  tinyint: 8,
  smallint: 16,
  mediumint: 24,
  int: 32,
  integer: 32,
  bigint: 64,
};
const TEXT_TYPES = new Set(["char", "varchar", "tinytext", "text", "mediumtext", "longtext"]);
const BINARY_TYPES = new Set(["binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"]);
/** Leading and trailing characters MySQL skips when it stores text in an integer column (strict mode). */
const INTEGER_TEXT = /^[ \t\n\r]*([+-]?)([0-9]+)[ \t\n\r]*$/;
const FIRST_PRINTABLE = 0x20;
const LAST_PRINTABLE = 0x7e;

/** The kind of key column a `DATA_TYPE` is, or undefined when shardkit cannot route it exactly. */
export function keyColumnKind(dataType: string): KeyColumnKind | undefined {
  const type = dataType.toLowerCase();
  if (type in INTEGER_BITS) return "integer";
  if (TEXT_TYPES.has(type)) return "text";
  if (BINARY_TYPES.has(type)) return "binary";
  return undefined;
}

/**
 * The key as `column` stores it, which is what routes it (docs/keyspace.md, "Key columns"):
 * an integer column's key as a number (a bigint beyond 2^53), a text key as the collation
 * compares it, binary keys as they are; or the BAD_SHARD_KEY reason MySQL would store the
 * key as something else, or as a value equal to a differently routed key.
 */
export function columnKey(type: KeyColumnType, key: unknown): ShardKey | ShardKeyError {
  switch (keyColumnKind(type.dataType)) {
    case "integer":
      return integerKey(type, key);
    case "text":
      return textKey(type, key);
    case "binary":
      return binaryKey(type, key);
    default:
      return refuse(
        type,
        key,
        `${where(type)} is a ${type.dataType} column, which shardkit cannot route exactly; shard the table by an integer, text or binary column`,
      );
  }
}

interface IntegerRange {
  readonly min: bigint;
  readonly max: bigint;
  /** The bounds as numbers, to check number keys without a bigint (exact for safe integers). */
  readonly minNumber: number;
  readonly maxNumber: number;
  /** What to pass instead, for messages. */
  readonly expect: string;
}

const INTEGER_RANGES = new Map<string, IntegerRange>();

function integerRange(dataType: string, unsigned: boolean): IntegerRange {
  const id = `${dataType} ${unsigned}`;
  let range = INTEGER_RANGES.get(id);
  if (!range) {
    const bits = BigInt(INTEGER_BITS[dataType] as number);
    const min = unsigned ? 0n : -(1n << (bits - 1n));
    const max = unsigned ? (1n << bits) - 1n : (1n << (bits - 1n)) - 1n;
    range = {
      min,
      max,
      minNumber: Number(min),
      maxNumber: Number(max),
      expect: `pass an integer from ${min} to ${max} (a number, a bigint or a decimal string)`,
    };
    INTEGER_RANGES.set(id, range);
  }
  return range;
}

function integerKey(type: KeyColumnType, key: unknown): ShardKey | ShardKeyError {
  const range = integerRange(type.dataType.toLowerCase(), type.unsigned);
  if (typeof key === "number") {
    // MySQL rounds 1.5 to 2: a key that is not exactly an integer would be stored as another.
    if (!Number.isInteger(key)) return refuse(type, key, `${is(type, key)}; ${range.expect}`);
    if (!Number.isSafeInteger(key)) {
      return refuse(
        type,
        key,
        `${is(type, key)}, beyond 2^53 - 1 where a JavaScript number loses digits; pass it as a bigint or a string`,
      );
    }
    if (key < range.minNumber || key > range.maxNumber) {
      return refuse(type, key, `${outOfRange(type, key)}; ${range.expect}`);
    }
    return key + 0;
  }
  let value: bigint;
  if (typeof key === "bigint") value = key;
  else if (typeof key === "string") {
    // Fractions and exponents ("42.0", "1e3") are refused although MySQL would store some of
    // them as integers: one plain rule, and no key is ever rounded.
    const match = INTEGER_TEXT.exec(key);
    if (!match) return refuse(type, key, `${is(type, key)}; ${range.expect}`);
    const digits = stripZeros(match[2] as string);
    if (digits.length > 20) return refuse(type, key, `${outOfRange(type, key)}; ${range.expect}`);
    if (digits.length <= 15) {
      const n = match[1] === "-" ? -Number(digits) : Number(digits);
      if (n < range.minNumber || n > range.maxNumber) {
        return refuse(type, key, `${outOfRange(type, key)}; ${range.expect}`);
      }
      return n + 0;
    }
    value = BigInt(match[1] === "-" ? `-${digits}` : digits);
  } else {
    return refuse(type, key, `${is(type, key)}; ${range.expect}`);
  }
  if (value < range.min || value > range.max) {
    return refuse(type, key, `${outOfRange(type, key)}; ${range.expect}`);
  }
  return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value;
}

function textKey(type: KeyColumnType, key: unknown): ShardKey | ShardKeyError {
  let text: string;
  if (typeof key === "string") text = key;
  else if (typeof key === "number" && Number.isSafeInteger(key)) text = String(key + 0);
  else if (typeof key === "bigint") text = key.toString();
  else return refuse(type, key, `${is(type, key)}; pass a string`);
  const comparison = type.comparison;
  if (!comparison) {
    return refuse(
      type,
      key,
      `the collation of ${where(type)} has not been read from a shard; retry once a shard answers`,
    );
  }
  if (comparison.refused !== undefined) {
    return refuse(type, key, `${where(type)}: ${comparison.refused}`);
  }
  // CHAR drops trailing spaces when it stores a value; PAD SPACE ignores them when comparing.
  if (text.endsWith(" ") && (comparison.padSpace || type.dataType.toLowerCase() === "char")) {
    return refuse(
      type,
      key,
      `${where(type)} (${type.collation}) ignores trailing spaces, so ${describeKey(key)} equals the key without them; pass the key without trailing spaces`,
    );
  }
  const limited = type.dataType.toLowerCase().endsWith("char") && type.maxLength !== null;
  if (limited && codePoints(text) > (type.maxLength as number)) {
    return refuse(
      type,
      key,
      `${describeKey(key)} is longer than the ${type.maxLength} characters ${where(type)} holds; pass a shorter key`,
    );
  }
  const fold = comparison.asciiFold;
  if (fold === null) return codePointKey(type, key, text);
  let out = "";
  let changed = false;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < FIRST_PRINTABLE || unit > LAST_PRINTABLE) {
      return refuse(
        type,
        key,
        `${where(type)} compares text by collation ${type.collation}, under which other characters than printable ASCII can equal different text; pass a printable ASCII key, or give the column a binary collation (e.g. utf8mb4_bin)`,
      );
    }
    const routed = fold[unit - FIRST_PRINTABLE] as string;
    if (routed.charCodeAt(0) !== unit) changed = true;
    out += routed;
  }
  return changed ? out : text;
}

/** A key of a code-point collation: routed as it is, once the column's character set holds it. */
function codePointKey(type: KeyColumnType, key: unknown, text: string): ShardKey | ShardKeyError {
  const charset = (type.charset ?? "").toLowerCase();
  if (charset === "utf8mb4") return text;
  const bmpOnly = charset === "utf8mb3" || charset === "utf8";
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // Outside its repertoire a character is refused in strict mode and stored as "?" without it.
    if (bmpOnly ? unit >= 0xd800 && unit <= 0xdfff : unit > 0x7f) {
      return refuse(
        type,
        key,
        `${describeKey(key)} has characters the ${charset} column ${where(type)} cannot hold as they are; pass ${bmpOnly ? "characters of the Basic Multilingual Plane" : "an ASCII key"}, or convert the column to utf8mb4`,
      );
    }
  }
  return text;
}

function binaryKey(type: KeyColumnType, key: unknown): ShardKey | ShardKeyError {
  let length: number;
  let value: ShardKey;
  if (key instanceof Uint8Array) {
    value = key;
    length = key.length;
  } else if (typeof key === "string") {
    value = key;
    length = Buffer.byteLength(key, "utf8");
  } else if ((typeof key === "number" && Number.isSafeInteger(key)) || typeof key === "bigint") {
    value = String(typeof key === "number" ? key + 0 : key);
    length = value.length;
  } else {
    return refuse(type, key, `${is(type, key)}; pass bytes (a Buffer or Uint8Array) or a string`);
  }
  const max = type.maxLength;
  if (max !== null && length > max) {
    return refuse(
      type,
      key,
      `${describeKey(key)} is ${length} bytes, longer than the ${max} bytes ${where(type)} holds; pass a shorter key`,
    );
  }
  if (type.dataType.toLowerCase() === "binary" && max !== null && length !== max) {
    return refuse(
      type,
      key,
      `${where(type)} is BINARY(${max}): MySQL pads the ${length}-byte key ${describeKey(key)} with zero bytes, after which the key no longer finds its row; pass exactly ${max} bytes`,
    );
  }
  return value;
}

/**
 * The SQL that reads the key columns of `tableCount` tables on a shard: bind the table names.
 * Each row feeds {@link keyColumnTypeOf}; columns other than the key columns are ignored.
 */
export function keyColumnTypesSql(tableCount: number): string {
  return `SELECT TABLE_NAME AS tableName, COLUMN_NAME AS columnName, DATA_TYPE AS dataType,
  COLUMN_TYPE AS columnType, CHARACTER_MAXIMUM_LENGTH AS maxLength,
  CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${new Array(Math.max(tableCount, 1)).fill("?").join(", ")})`;
}

/** One row of {@link keyColumnTypesSql} as a {@link KeyColumnType} (without its collation probe). */
export function keyColumnTypeOf(row: Readonly<Record<string, unknown>>): KeyColumnType {
  const kind = keyColumnKind(String(row.dataType));
  const length =
    row.maxLength === null || row.maxLength === undefined ? null : Number(row.maxLength);
  return {
    table: String(row.tableName),
    column: String(row.columnName),
    dataType: String(row.dataType).toLowerCase(),
    unsigned: /\bunsigned\b/i.test(String(row.columnType)),
    // TEXT and BLOB lengths are bytes whatever the character set: not checked.
    maxLength: kind === "integer" || !/char|binary/.test(String(row.dataType)) ? null : length,
    charset: kind === "text" ? String(row.charset) : null,
    collation: kind === "text" ? String(row.collation) : null,
  };
}

/** True for collations that compare code points (`binary`, `*_bin`): keys route as they are. */
export function comparesCodePoints(collation: string): boolean {
  return collation === "binary" || collation.toLowerCase().endsWith("_bin");
}

/**
 * The statements that probe how `collation` compares: whether it ignores trailing spaces,
 * and (unless it compares code points) which printable ASCII strings of one and two
 * characters it holds equal. Their rows feed {@link textComparisonOf}.
 */
export function collationProbeSql(charset: string, collation: string): string[] {
  for (const name of [charset, collation]) {
    if (!/^[A-Za-z0-9_]+$/.test(name)) {
      throw new ShardkitError(
        "BAD_ARGUMENT",
        `${JSON.stringify(name)} is not a character set or collation name; pass the names information_schema gives`,
      );
    }
  }
  const text = (literal: string) => `CONVERT(${literal} USING ${charset}) COLLATE ${collation}`;
  const pad = `SELECT ${text("'a'")} = ${text("'a '")} AS padSpace`;
  if (comparesCodePoints(collation)) return [pad];
  // Every printable ASCII string of one or two characters (no trailing space: PAD SPACE makes
  // "a " equal "a", and such keys are refused anyway), grouped as the collation groups them.
  const groups = `WITH RECURSIVE n(i) AS (SELECT ${FIRST_PRINTABLE} UNION ALL SELECT i + 1 FROM n WHERE i < ${LAST_PRINTABLE}),
c AS (SELECT i, ${text("CHAR(i USING ascii)")} AS ch FROM n),
s AS (SELECT CAST(i AS CHAR) AS codes, ch AS t FROM c
  UNION ALL SELECT CONCAT(a.i, '.', b.i), CONCAT(a.ch, b.ch) FROM c a CROSS JOIN c b WHERE b.i <> 32)
SELECT GROUP_CONCAT(codes SEPARATOR ' ') AS members FROM s GROUP BY t HAVING COUNT(*) > 1`;
  return [pad, groups];
}

/**
 * How `collation` compares, from the rows of {@link collationProbeSql}: each printable ASCII
 * character is routed as the least of its equals (lower case first), and the probe proves
 * that strings the collation holds equal route alike; where it does not (contractions,
 * ignorable characters), the collation is refused with the reason.
 */
export function textComparisonOf(
  collation: string,
  rows: readonly (readonly Readonly<Record<string, unknown>>[])[],
): TextComparison {
  const padSpace = Number(rows[0]?.[0]?.padSpace) === 1;
  if (comparesCodePoints(collation)) return { padSpace, asciiFold: null };
  const groups = (rows[1] ?? []).map((r) =>
    String(r.members)
      .split(" ")
      .map((m) =>
        m
          .split(".")
          .map((code) => String.fromCharCode(Number(code)))
          .join(""),
      ),
  );
  const fold: string[] = [];
  for (let c = FIRST_PRINTABLE; c <= LAST_PRINTABLE; c++) fold.push(String.fromCharCode(c));
  for (const members of groups) {
    const singles = members.filter((m) => m.length === 1);
    if (singles.length < 2) continue;
    const routedAs = singles.reduce((best, m) => (rank(m) < rank(best) ? m : best));
    for (const m of singles) fold[m.charCodeAt(0) - FIRST_PRINTABLE] = routedAs;
  }
  const asciiFold = fold.join("");
  const foldOf = (s: string) =>
    [...s].map((ch) => asciiFold[ch.charCodeAt(0) - FIRST_PRINTABLE]).join("");
  for (const members of groups) {
    const first = foldOf(members[0] as string);
    const odd = members.find((m) => foldOf(m) !== first);
    if (odd !== undefined) {
      return {
        padSpace,
        asciiFold,
        refused: `collation ${collation} holds ${JSON.stringify(members[0])} and ${JSON.stringify(odd)} equal although they differ character by character, so shardkit cannot route its keys exactly; give the key column a binary collation (e.g. utf8mb4_bin) or a common one (utf8mb4_general_ci)`,
      };
    }
  }
  return { padSpace, asciiFold };
}

/**
 * Reads the key column of each table on one shard through `run`: the column's type, and for
 * text columns how its collation compares (probed once per collation; pass `probes` to share
 * the probes between calls). Tables or columns the shard lacks are absent from the result.
 */
export async function readKeyColumnTypes(
  run: SqlRunner,
  tables: readonly { readonly name: string; readonly keyColumn: string }[],
  probes: Map<string, Promise<TextComparison>> = new Map(),
): Promise<Map<string, KeyColumnType>> {
  const out = new Map<string, KeyColumnType>();
  if (tables.length === 0) return out;
  const rows = (await run(
    keyColumnTypesSql(tables.length),
    tables.map((t) => t.name),
  )) as readonly Readonly<Record<string, unknown>>[];
  for (const t of tables) {
    // Column names never depend on case in MySQL.
    const row = rows.find(
      (r) =>
        String(r.tableName) === t.name &&
        String(r.columnName).toLowerCase() === t.keyColumn.toLowerCase(),
    );
    if (!row) continue;
    const type = keyColumnTypeOf(row);
    if (type.charset === null || type.collation === null) {
      out.set(t.name, type);
      continue;
    }
    const probeKey = `${type.charset} ${type.collation}`;
    let probe = probes.get(probeKey);
    if (!probe) {
      const { charset, collation } = type;
      probe = (async () => {
        const results: (readonly Readonly<Record<string, unknown>>[])[] = [];
        for (const sql of collationProbeSql(charset, collation)) {
          results.push((await run(sql)) as readonly Readonly<Record<string, unknown>>[]);
        }
        return textComparisonOf(collation, results);
      })();
      probes.set(probeKey, probe);
      probe.catch(() => probes.delete(probeKey));
    }
    out.set(t.name, { ...type, comparison: await probe });
  }
  return out;
}

/** The order in which equal characters are preferred as the one routed: lower case, then by code. */
function rank(ch: string): number {
  const code = ch.charCodeAt(0);
  return (code >= 0x41 && code <= 0x5a ? 0x100 : 0) + code;
}

function stripZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 0x30) i++;
  return digits.slice(i);
}

function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function where(type: KeyColumnType): string {
  return `${type.table}.${type.column}`;
}

function columnTypeText(type: KeyColumnType): string {
  const base = type.dataType.toUpperCase();
  return type.unsigned ? `${base} UNSIGNED` : base;
}

function is(type: KeyColumnType, key: unknown): string {
  return `${where(type)} is ${columnTypeText(type)} and the key ${describeKey(key)} is not a value it stores as given`;
}

function outOfRange(type: KeyColumnType, key: unknown): string {
  return `the key ${describeKey(key)} is out of the range of ${where(type)} (${columnTypeText(type)})`;
}

function refuse(type: KeyColumnType, key: unknown, message: string): ShardKeyError {
  return new ShardKeyError("BAD_SHARD_KEY", message, {
    details: {
      table: type.table,
      column: type.column,
      columnType: columnTypeText(type),
      keyType: key === null ? "null" : typeof key,
    },
  });
}
