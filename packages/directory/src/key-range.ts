import { KeyRangeError } from "./errors.js";

/** The exclusive end of the keyspace: keyspace ids are uint32. */
export const KEYSPACE_SIZE = 0x1_0000_0000;

/** A half-open interval `[start, end)` of keyspace ids, `0 <= start < end <= 2^32`. */
export interface KeyRange {
  readonly start: number;
  readonly end: number;
}

/** The whole keyspace, written `-`. */
export const FULL_RANGE: KeyRange = Object.freeze({ start: 0, end: KEYSPACE_SIZE });

const HEX = /^[0-9a-fA-F]*$/;

/**
 * Parses Vitess range notation: `-40` is [0, 0x40000000), `40-80`, `80-` runs to the end,
 * `-` is everything. Each bound is up to 8 hex digits, left-aligned (`4` = `40` = 0x40000000).
 */
export function parseKeyRange(text: string): KeyRange {
  const dashes = text.split("-").length - 1;
  if (dashes !== 1) {
    throw new KeyRangeError(
      `invalid key range "${text}": it must have exactly one dash (e.g. -40, 40-80, 80- or -), not ${dashes}`,
      { input: text },
    );
  }
  const [left = "", right = ""] = text.split("-");
  const start = left === "" ? 0 : parseBound(text, left);
  const end = right === "" ? KEYSPACE_SIZE : parseBound(text, right);
  if (start >= end) {
    throw new KeyRangeError(
      `invalid key range "${text}": its start must be below its end (write the smaller bound first, e.g. 40-80)`,
      { input: text },
    );
  }
  return { start, end };
}

/** Formats a range in the notation {@link parseKeyRange} reads (both bounds equally wide); the two round-trip. */
export function formatKeyRange(range: KeyRange): string {
  const left = range.start === 0 ? "" : formatKsid(range.start);
  const right = range.end >= KEYSPACE_SIZE ? "" : formatKsid(range.end);
  // Both bounds get the same number of digits, so `4000-4001` does not print as `40-4001`.
  const width = Math.max(left.length, right.length);
  const pad = (text: string, ksid: number) =>
    text === "" ? "" : ksid.toString(16).padStart(8, "0").slice(0, width);
  return `${pad(left, range.start)}-${pad(right, range.end)}`;
}

/** Parses one bound in range notation: `40` is 0x40000000, `4001` is 0x40010000. */
export function parseKsid(hex: string): number {
  if (hex === "") {
    throw new KeyRangeError(
      'invalid keyspace id "": give 1 to 8 hex digits, e.g. 40 for 0x40000000',
      {
        input: hex,
      },
    );
  }
  return parseBound(hex, hex);
}

/** Formats a keyspace id as range notation: lowercase hex, trailing zero bytes trimmed; 0 is `00`. */
export function formatKsid(ksid: number): string {
  const full = ksid.toString(16).padStart(8, "0");
  let out = full;
  while (out.length > 2 && out.endsWith("00")) out = out.slice(0, -2);
  return out;
}

/** A validated range `[start, end)`. */
export function keyRange(start: number, end: number): KeyRange {
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(end) ||
    start < 0 ||
    end > KEYSPACE_SIZE ||
    start >= end
  ) {
    throw new KeyRangeError(
      `invalid key range [${start}, ${end}): bounds must be integers with 0 <= start < end <= 2^32`,
      { start, end },
    );
  }
  return { start, end };
}

/** True when `ksid` lies in the range. */
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

/** The union of two adjacent ranges; throws when they are not adjacent. */
export function mergeRanges(a: KeyRange, b: KeyRange): KeyRange {
  if (!rangesAdjacent(a, b)) {
    throw new KeyRangeError(
      `cannot merge ${formatKeyRange(a)} and ${formatKeyRange(b)}: they are not adjacent (one must end where the other starts)`,
    );
  }
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

/** Splits a range at `at` (default: the midpoint) into `[start, at)` and `[at, end)`. */
export function splitRange(range: KeyRange, at?: number): [KeyRange, KeyRange] {
  if (range.end - range.start < 2) {
    throw new KeyRangeError(`cannot split ${formatKeyRange(range)}: it holds a single keyspace id`);
  }
  const point = at ?? Math.floor((range.start + range.end) / 2);
  if (!Number.isInteger(point) || point <= range.start || point >= range.end) {
    throw new KeyRangeError(
      `cannot split ${formatKeyRange(range)} at ${Number.isInteger(point) ? formatKsid(point) : point}: the split point must lie strictly inside the range`,
    );
  }
  return [
    { start: range.start, end: point },
    { start: point, end: range.end },
  ];
}

/** `n` ranges covering the keyspace in order, widths differing by at most 1; any integer n >= 1. */
export function evenSplit(n: number): KeyRange[] {
  if (!Number.isInteger(n) || n < 1 || n > KEYSPACE_SIZE) {
    throw new KeyRangeError(
      `cannot split the keyspace into ${n} ranges: give a whole number from 1 to 2^32`,
    );
  }
  const ranges: KeyRange[] = [];
  // Boundaries at floor(i * 2^32 / n): exact in doubles for n <= 2^21 because i * 2^32 < 2^53;
  // beyond that, compute with bigints.
  const exact = n <= 2 ** 21;
  let start = 0;
  for (let i = 1; i <= n; i++) {
    const end = exact
      ? Math.floor((i * KEYSPACE_SIZE) / n)
      : Number((BigInt(i) * 0x1_0000_0000n) / BigInt(n));
    ranges.push({ start, end });
    start = end;
  }
  return ranges;
}

/** Whether a set of ranges covers the keyspace exactly; names the first gap or overlap. */
export type CoverageResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly problem: "gap" | "overlap";
      readonly at: number;
      readonly message: string;
    };

/** Checks that `ranges` (in any order) cover [0, 2^32) exactly once. */
export function checkCoverage(ranges: readonly KeyRange[]): CoverageResult {
  const sorted = [...ranges].sort(compareRanges);
  let next = 0;
  let previous: KeyRange | undefined;
  for (const r of sorted) {
    if (r.start > next) {
      const gap = { start: next, end: r.start };
      return {
        ok: false,
        problem: "gap",
        at: next,
        message: `gap ${formatKeyRange(gap)} is owned by no range`,
      };
    }
    if (r.start < next) {
      return {
        ok: false,
        problem: "overlap",
        at: r.start,
        message: `ranges ${formatKeyRange(previous ?? r)} and ${formatKeyRange(r)} overlap`,
      };
    }
    next = r.end;
    previous = r;
  }
  if (next < KEYSPACE_SIZE) {
    const gap = { start: next, end: KEYSPACE_SIZE };
    return {
      ok: false,
      problem: "gap",
      at: next,
      message: `gap ${formatKeyRange(gap)} is owned by no range`,
    };
  }
  return { ok: true };
}

/** Orders ranges by start, then by end. */
export function compareRanges(a: KeyRange, b: KeyRange): number {
  return a.start - b.start || a.end - b.end;
}

/** True when both ranges have the same bounds. */
export function rangeEquals(a: KeyRange, b: KeyRange): boolean {
  return a.start === b.start && a.end === b.end;
}

function parseBound(input: string, bound: string): number {
  if (!HEX.test(bound)) {
    throw new KeyRangeError(
      `invalid key range "${input}": "${bound}" is not hexadecimal (use the digits 0-9 and a-f)`,
      { input },
    );
  }
  if (bound.length > 8) {
    throw new KeyRangeError(
      `invalid key range "${input}": "${bound}" has ${bound.length} digits; a bound has at most 8 hex digits`,
      { input },
    );
  }
  return Number.parseInt(bound.padEnd(8, "0"), 16);
}
