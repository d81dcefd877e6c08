import { KeyRangeError } from "./errors/shardkit-error.js";

/** The exclusive end of the keyspace: keyspace ids are uint32, so `[0, 2^32)`. */
export const KEYSPACE_SIZE = 0x1_0000_0000;

/** A half-open interval `[start, end)` of keyspace ids, `0 <= start < end <= 2^32`. */
export interface KeyRange {
  readonly start: number;
  readonly end: number;
}

/** The whole keyspace, written `-`. */
export const FULL_RANGE: KeyRange = Object.freeze({ start: 0, end: KEYSPACE_SIZE });

const HEX_DIGITS = /^[0-9a-fA-F]*$/;
const EXAMPLES = "e.g. -40, 40-80, 80- or - for the whole keyspace";

/**
 * Parses Vitess range notation: `-40` is [0, 0x40000000), `40-80`, `80-` runs to 2^32, `-` is
 * everything. Each bound has up to 8 hex digits, left-aligned (`4` = `40` = 0x40000000).
 * Throws {@link KeyRangeError} naming the input and what is wrong with it.
 */
export function parseKeyRange(text: string): KeyRange {
  if (text === "") {
    throw new KeyRangeError(
      "BAD_KEY_RANGE",
      `invalid key range "": it is empty; write a range (${EXAMPLES})`,
      {
        details: { input: text },
      },
    );
  }
  const parts = text.split("-");
  if (parts.length !== 2) {
    const dashes = parts.length - 1;
    throw new KeyRangeError(
      "BAD_KEY_RANGE",
      `invalid key range ${quote(text)}: it has ${dashes} dashes but needs exactly one between start and end (${EXAMPLES})`,
      { details: { input: text } },
    );
  }
  const [left = "", right = ""] = parts;
  const start = left === "" ? 0 : parseBound("key range", text, left);
  const end = right === "" ? KEYSPACE_SIZE : parseBound("key range", text, right);
  if (start >= end) {
    throw new KeyRangeError(
      "BAD_KEY_RANGE",
      `invalid key range ${quote(text)}: its start is not below its end; write the lower bound first and leave the end empty to run to the end of the keyspace (${EXAMPLES})`,
      { details: { input: text } },
    );
  }
  return { start, end };
}

/**
 * Formats a range in the notation {@link parseKeyRange} reads, lowercase, both bounds with the
 * same number of digits (`4000-4001`); parsing the result gives the range back.
 */
export function formatKeyRange(range: KeyRange): string {
  const hasStart = range.start > 0;
  const hasEnd = range.end < KEYSPACE_SIZE;
  const width = Math.max(
    hasStart ? significantDigits(range.start) : 0,
    hasEnd ? significantDigits(range.end) : 0,
  );
  const start = hasStart ? hex8(range.start).slice(0, width) : "";
  const end = hasEnd ? hex8(range.end).slice(0, width) : "";
  return `${start}-${end}`;
}

/**
 * Parses one bound of range notation: 1 to 8 hex digits, left-aligned to 8 (`40` is
 * 0x40000000, `4001` is 0x40010000). Throws {@link KeyRangeError}.
 */
export function parseKsid(hex: string): number {
  if (hex === "") {
    throw new KeyRangeError(
      "BAD_KEY_RANGE",
      'invalid keyspace id "": it is empty; give 1 to 8 hex digits, e.g. 40 for 0x40000000',
      { details: { input: hex } },
    );
  }
  return parseBound("keyspace id", hex, hex);
}

/**
 * Formats a keyspace id as one bound of range notation: lowercase hex with trailing zero bytes
 * trimmed, at least one byte. 0x40000000 is `40`, 0x40010000 `4001`, 0 is `00`.
 */
export function formatKsid(ksid: number): string {
  return hex8(ksid).slice(0, significantDigits(ksid));
}

/** A range `[start, end)` from numbers; throws {@link KeyRangeError} unless 0 <= start < end <= 2^32 are integers. */
export function keyRange(start: number, end: number): KeyRange {
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(end) ||
    start < 0 ||
    end > KEYSPACE_SIZE ||
    start >= end
  ) {
    throw new KeyRangeError(
      "BAD_KEY_RANGE",
      `invalid key range [${start}, ${end}): give integers with 0 <= start < end <= 2^32`,
      { details: { start, end } },
    );
  }
  return { start, end };
}

/** True when `ksid` lies in the range (`start` included, `end` excluded). */
export function rangeContains(range: KeyRange, ksid: number): boolean {
  return ksid >= range.start && ksid < range.end;
}

/** True when the two ranges share at least one keyspace id. */
export function rangesOverlap(a: KeyRange, b: KeyRange): boolean {
  return a.start < b.end && b.start < a.end;
}

/** True when one range ends exactly where the other starts. */
export function rangesAdjacent(a: KeyRange, b: KeyRange): boolean {
  return a.end === b.start || b.end === a.start;
}

/** The union of two adjacent ranges, in either order; throws {@link KeyRangeError} when they are not adjacent. */
export function mergeRanges(a: KeyRange, b: KeyRange): KeyRange {
  if (!rangesAdjacent(a, b)) {
    const why = rangesOverlap(a, b) ? "they overlap" : "there is a gap between them";
    throw new KeyRangeError(
      "BAD_KEY_RANGE",
      `cannot merge ${formatKeyRange(a)} and ${formatKeyRange(b)}: ${why}; only ranges where one ends exactly where the other starts can be merged`,
      { details: { a: formatKeyRange(a), b: formatKeyRange(b) } },
    );
  }
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

/**
 * Splits a range into `[start, at)` and `[at, end)`; `at` defaults to the midpoint
 * `floor((start + end) / 2)` and must lie strictly inside. Throws {@link KeyRangeError}.
 */
export function splitRange(range: KeyRange, at?: number): [KeyRange, KeyRange] {
  const name = formatKeyRange(range);
  if (range.end - range.start < 2) {
    throw new KeyRangeError(
      "BAD_KEY_RANGE",
      `cannot split ${name}: it holds a single keyspace id; split a wider range instead`,
      { details: { range: name } },
    );
  }
  const point = at ?? Math.floor((range.start + range.end) / 2);
  if (!Number.isInteger(point) || point <= range.start || point >= range.end) {
    const shown = Number.isInteger(point) && point >= 0 && point < KEYSPACE_SIZE;
    throw new KeyRangeError(
      "BAD_KEY_RANGE",
      `cannot split ${name} at ${shown ? formatKsid(point) : point}: the split point must lie strictly inside the range, above its start and below its end`,
      { details: { range: name, at: point } },
    );
  }
  return [
    { start: range.start, end: point },
    { start: point, end: range.end },
  ];
}

/**
 * Divides the keyspace into `n` ranges (any integer n >= 1), in order: range i is
 * `[floor(i * 2^32 / n), floor((i + 1) * 2^32 / n))`, so widths differ by at most 1.
 */
export function evenSplit(n: number): KeyRange[] {
  if (!Number.isInteger(n) || n < 1 || n > KEYSPACE_SIZE) {
    throw new KeyRangeError(
      "BAD_KEY_RANGE",
      `cannot split the keyspace into ${n} ranges: give a whole number from 1 to 2^32`,
      { details: { n } },
    );
  }
  // Bigints keep i * 2^32 exact for every n; doubles would lose it past n = 2^21.
  const count = BigInt(n);
  const ranges: KeyRange[] = [];
  let start = 0;
  for (let i = 1n; i <= count; i++) {
    const end = Number((i * BigInt(KEYSPACE_SIZE)) / count);
    ranges.push({ start, end });
    start = end;
  }
  return ranges;
}

/** Whether a set of ranges covers the keyspace exactly once; otherwise the first gap or overlap. */
export type CoverageResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly problem: "gap" | "overlap";
      /** The first keyspace id that no range owns, or that two ranges own. */
      readonly at: number;
      readonly message: string;
    };

/** Checks that `ranges`, in any order, cover [0, 2^32) exactly once; names the first gap or overlap. */
export function checkCoverage(ranges: readonly KeyRange[]): CoverageResult {
  const sorted = [...ranges].sort(compareRanges);
  let next = 0;
  let previous: KeyRange | undefined;
  for (const range of sorted) {
    if (range.start > next) return gap(next, range.start);
    if (previous !== undefined && range.start < next) {
      return {
        ok: false,
        problem: "overlap",
        at: range.start,
        message: `overlap: ranges ${formatKeyRange(previous)} and ${formatKeyRange(range)} both own ${formatKeyRange({ start: range.start, end: Math.min(next, range.end) })}`,
      };
    }
    next = range.end;
    previous = range;
  }
  return next < KEYSPACE_SIZE ? gap(next, KEYSPACE_SIZE) : { ok: true };
}

/** Orders ranges by start, then by end (for `Array.prototype.sort`). */
export function compareRanges(a: KeyRange, b: KeyRange): number {
  return a.start - b.start || a.end - b.end;
}

/** True when both ranges have the same bounds. */
export function rangeEquals(a: KeyRange, b: KeyRange): boolean {
  return a.start === b.start && a.end === b.end;
}

function gap(start: number, end: number): CoverageResult {
  return {
    ok: false,
    problem: "gap",
    at: start,
    message: `gap: no range owns ${formatKeyRange({ start, end })}`,
  };
}

function parseBound(what: string, input: string, bound: string): number {
  if (!HEX_DIGITS.test(bound)) {
    throw new KeyRangeError(
      "BAD_KEY_RANGE",
      `invalid ${what} ${quote(input)}: ${quote(bound)} is not hexadecimal; use only the digits 0-9 and a-f`,
      { details: { input } },
    );
  }
  if (bound.length > 8) {
    throw new KeyRangeError(
      "BAD_KEY_RANGE",
      `invalid ${what} ${quote(input)}: ${quote(bound)} has ${bound.length} digits; give at most 8 hex digits per bound`,
      { details: { input } },
    );
  }
  return Number.parseInt(bound.padEnd(8, "0"), 16);
}

function hex8(ksid: number): string {
  return ksid.toString(16).padStart(8, "0");
}

/** Hex digits left after trimming trailing zero bytes, at least 2. */
function significantDigits(ksid: number): number {
  if (ksid % 0x100_0000 === 0) return 2;
  if (ksid % 0x1_0000 === 0) return 4;
  if (ksid % 0x100 === 0) return 6;
  return 8;
}

// JSON quoting keeps a message on one line whatever the input holds; long inputs are cut.
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}
