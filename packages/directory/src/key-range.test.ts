import { describe, expect, it } from "vitest";
import { KeyRangeError } from "./errors/shardkit-error.js";
import {
  checkCoverage,
  compareRanges,
  evenSplit,
  FULL_RANGE,
  formatKeyRange,
  formatKsid,
  KEYSPACE_SIZE,
  type KeyRange,
  keyRange,
  mergeRanges,
  parseKeyRange,
  parseKsid,
  rangeContains,
  rangeEquals,
  rangesAdjacent,
  rangesOverlap,
  splitRange,
} from "./key-range.js";
import { seededRandom } from "./testing/random.js";
import { thrownBy } from "./testing/thrown.js";

const r = (text: string): KeyRange => parseKeyRange(text);

/** The KeyRangeError `fn` throws (fails the test when it throws nothing or something else). */
function keyRangeErrorOf(fn: () => unknown): KeyRangeError {
  return thrownBy(fn, KeyRangeError, "BAD_KEY_RANGE");
}

const random = seededRandom;

describe("parseKeyRange and formatKeyRange", () => {
  it.each([
    ["-", 0, KEYSPACE_SIZE, "-"],
    ["-40", 0, 0x40000000, "-40"],
    ["40-80", 0x40000000, 0x80000000, "40-80"],
    ["80-", 0x80000000, KEYSPACE_SIZE, "80-"],
    ["4000-4001", 0x40000000, 0x40010000, "4000-4001"],
    ["40000000-40000001", 0x40000000, 0x40000001, "40000000-40000001"],
    ["-00000001", 0, 1, "-00000001"],
    ["00000001-", 1, KEYSPACE_SIZE, "00000001-"],
    ["-ffffffff", 0, 0xffffffff, "-ffffffff"],
    ["ffffffff-", 0xffffffff, KEYSPACE_SIZE, "ffffffff-"],
    ["fffffffe-ffffffff", 0xfffffffe, 0xffffffff, "fffffffe-ffffffff"],
    ["C0-", 0xc0000000, KEYSPACE_SIZE, "c0-"],
    ["aB-Cd", 0xab000000, 0xcd000000, "ab-cd"],
    ["4-8", 0x40000000, 0x80000000, "40-80"],
    ["00-40", 0, 0x40000000, "-40"],
    ["40-4001", 0x40000000, 0x40010000, "4000-4001"],
    ["123-", 0x12300000, KEYSPACE_SIZE, "1230-"],
    ["-40000000", 0, 0x40000000, "-40"],
  ])("%s is [%d, %d) and prints as %s", (text, start, end, printed) => {
    expect(parseKeyRange(text)).toEqual({ start, end });
    expect(formatKeyRange({ start, end })).toBe(printed);
  });

  const EMPTY = /it is empty/;
  const DASHES = /needs exactly one between start and end/;
  const ORDER = /start is not below its end/;
  const NOT_HEX = /is not hexadecimal/;
  const TOO_LONG = /at most 8 hex digits/;
  it.each([
    ["", EMPTY],
    ["40", DASHES],
    ["4000000000", DASHES],
    ["40--80", DASHES],
    ["-40-80", DASHES],
    ["--", DASHES],
    ["40-80-", DASHES],
    ["40–80", DASHES], // an en dash is not a dash
    ["80-40", ORDER],
    ["40-40", ORDER],
    ["-00", ORDER],
    ["-0", ORDER],
    ["-00000000", ORDER],
    ["00000000-00000000", ORDER],
    ["ffffffff-ffffffff", ORDER],
    ["4001-4000", ORDER],
    ["g0-", NOT_HEX],
    ["-4x", NOT_HEX],
    [" 40-80", NOT_HEX],
    ["40-80 ", NOT_HEX],
    ["0x40-80", NOT_HEX],
    ["+40-80", NOT_HEX],
    ["40.5-80", NOT_HEX],
    ["40_00-80", NOT_HEX],
    ["40-8\n0", NOT_HEX],
    ["100000000-", TOO_LONG],
    ["-100000000", TOO_LONG],
    ["400000000-800000000", TOO_LONG],
    ["000000000-", TOO_LONG],
  ])("refuses %j", (text, why) => {
    const error = keyRangeErrorOf(() => parseKeyRange(text));
    expect(error.message).toMatch(why);
    expect(error.message).toContain(`invalid key range ${JSON.stringify(text)}`);
    expect(error.details).toEqual({ input: text });
  });

  it("round-trips random ranges, with bounds of every length", () => {
    const next = random(1);
    // A random bound with 2, 4, 6 or 8 significant hex digits, so short forms are common.
    const bound = () => {
      const keep = 2 ** (8 * (1 + Math.floor(next() * 4)));
      const step = KEYSPACE_SIZE / keep;
      return Math.floor(next() * keep) * step;
    };
    for (let i = 0; i < 5000; i++) {
      const a = next() < 0.1 ? 0 : bound();
      const b = next() < 0.1 ? KEYSPACE_SIZE : bound();
      if (a === b) continue;
      const range = { start: Math.min(a, b), end: Math.max(a, b) };
      const text = formatKeyRange(range);
      expect(text).toMatch(/^([0-9a-f]{2,8})?-([0-9a-f]{2,8})?$/);
      expect(parseKeyRange(text)).toEqual(range);
    }
  });

  it.each([
    ["00", 0, "00"],
    ["0", 0, "00"],
    ["4", 0x40000000, "40"],
    ["40", 0x40000000, "40"],
    ["4001", 0x40010000, "4001"],
    ["400001", 0x40000100, "400001"],
    ["40000001", 0x40000001, "40000001"],
    ["4000000", 0x40000000, "40"],
    ["FFFFFFFF", 0xffffffff, "ffffffff"],
  ])("keyspace id %s is %d and prints as %s", (hex, ksid, printed) => {
    expect(parseKsid(hex)).toBe(ksid);
    expect(formatKsid(ksid)).toBe(printed);
  });

  it.each([
    ["", /invalid keyspace id "": it is empty/],
    ["123456789", /invalid keyspace id "123456789": .*at most 8 hex digits/],
    ["4g", /invalid keyspace id "4g": .*not hexadecimal/],
    ["-40", /invalid keyspace id "-40": .*not hexadecimal/],
  ])("refuses keyspace id %j", (hex, why) => {
    expect(keyRangeErrorOf(() => parseKsid(hex)).message).toMatch(why);
  });

  it("quotes a long input shortened, on one line", () => {
    const text = `${"a".repeat(100)}\n`;
    const error = keyRangeErrorOf(() => parseKeyRange(text));
    expect(error.message).toContain(`"${"a".repeat(40)}..."`);
  });
});

describe("keyRange", () => {
  it.each([
    [0, KEYSPACE_SIZE],
    [0, 1],
    [0xffffffff, KEYSPACE_SIZE],
    [0x40000000, 0x80000000],
  ])("accepts [%d, %d)", (start, end) => {
    expect(keyRange(start, end)).toEqual({ start, end });
  });

  it.each([
    [5, 5],
    [6, 5],
    [-1, 5],
    [0, KEYSPACE_SIZE + 1],
    [0.5, 5],
    [0, Number.NaN],
    [KEYSPACE_SIZE, KEYSPACE_SIZE + 1],
  ])("refuses [%d, %d)", (start, end) => {
    expect(keyRangeErrorOf(() => keyRange(start, end)).message).toMatch(
      /0 <= start < end <= 2\^32/,
    );
  });
});

describe("range arithmetic", () => {
  it.each([
    ["-", 0, true],
    ["-", 0xffffffff, true],
    ["-40", 0, true],
    ["-40", 0x3fffffff, true],
    ["-40", 0x40000000, false],
    ["40-80", 0x3fffffff, false],
    ["40-80", 0x40000000, true],
    ["40-80", 0x7fffffff, true],
    ["40-80", 0x80000000, false],
    ["80-", 0x7fffffff, false],
    ["80-", 0x80000000, true],
    ["80-", 0xffffffff, true],
    ["80-", KEYSPACE_SIZE, false],
    ["40000000-40000001", 0x40000000, true],
    ["40000000-40000001", 0x40000001, false],
  ])("%s contains %d: %s", (range, ksid, contained) => {
    expect(rangeContains(r(range), ksid)).toBe(contained);
  });

  it.each([
    ["-40", "40-80", false, true],
    ["-40", "80-", false, false],
    ["-80", "40-", true, false],
    ["-", "40-80", true, false],
    ["40-80", "-40", false, true],
    ["4000-4001", "4001-4002", false, true],
    ["40000000-40000001", "40000001-40000002", false, true],
    ["40000000-40000001", "40000000-40000001", true, false],
    ["40-80", "40-80", true, false],
    ["40-80", "50-60", true, false],
    ["-80", "80-", false, true],
  ])("%s and %s: overlap %s, adjacent %s", (a, b, overlap, adjacent) => {
    expect(rangesOverlap(r(a), r(b))).toBe(overlap);
    expect(rangesOverlap(r(b), r(a))).toBe(overlap);
    expect(rangesAdjacent(r(a), r(b))).toBe(adjacent);
    expect(rangesAdjacent(r(b), r(a))).toBe(adjacent);
  });

  it.each([
    ["-40", "40-80", "-80"],
    ["40-80", "-40", "-80"],
    ["80-", "40-80", "40-"],
    ["-80", "80-", "-"],
    ["40000000-40000001", "40000001-40000002", "40000000-40000002"],
  ])("merges %s and %s into %s", (a, b, merged) => {
    expect(mergeRanges(r(a), r(b))).toEqual(r(merged));
  });

  it.each([
    ["-40", "80-", /cannot merge -40 and 80-: there is a gap between them/],
    ["-80", "40-", /cannot merge -80 and 40-: they overlap/],
    ["40-80", "40-80", /they overlap/],
    ["-40", "40000001-", /there is a gap between them/],
  ])("refuses to merge %s and %s", (a, b, why) => {
    expect(keyRangeErrorOf(() => mergeRanges(r(a), r(b))).message).toMatch(why);
  });

  it.each([
    ["-", undefined, "-80", "80-"],
    ["40-80", undefined, "40-60", "60-80"],
    ["40-80", 0x50000000, "40-50", "50-80"],
    ["40-80", 0x40000001, "40000000-40000001", "40000001-80000000"],
    ["40-80", 0x7fffffff, "40000000-7fffffff", "7fffffff-80000000"],
    ["40000000-40000002", undefined, "40000000-40000001", "40000001-40000002"],
    ["40000000-40000003", undefined, "40000000-40000001", "40000001-40000003"],
    ["fffffffe-", undefined, "fffffffe-ffffffff", "ffffffff-"],
  ])("splits %s at %s into %s and %s", (range, at, left, right) => {
    expect(splitRange(r(range), at)).toEqual([r(left), r(right)]);
  });

  it.each([
    ["40-80", 0x40000000, /strictly inside/],
    ["40-80", 0x80000000, /strictly inside/],
    ["40-80", 0x90000000, /strictly inside/],
    ["40-80", 0x10000000, /strictly inside/],
    ["40-80", -1, /strictly inside/],
    ["40-80", 0x50000000 + 0.5, /strictly inside/],
    ["40000000-40000001", undefined, /single keyspace id/],
    ["ffffffff-", undefined, /single keyspace id/],
    ["40000000-40000001", 0x40000000, /single keyspace id/],
  ])("refuses to split %s at %s", (range, at, why) => {
    const error = keyRangeErrorOf(() => splitRange(r(range), at));
    expect(error.message).toMatch(why);
    expect(error.message).toContain(`cannot split ${range}`);
  });

  it("names the range and the split point in keyspace notation", () => {
    expect(keyRangeErrorOf(() => splitRange(r("40-80"), 0x40000000)).message).toBe(
      "cannot split 40-80 at 40: the split point must lie strictly inside the range, above its start and below its end",
    );
    expect(keyRangeErrorOf(() => splitRange(r("-40"), 0x40010000)).message).toMatch(
      /^cannot split -40 at 4001: /,
    );
  });

  it("orders and compares ranges", () => {
    const sorted = [r("80-"), r("-40"), r("40-80"), r("-20")].sort(compareRanges);
    expect(sorted.map(formatKeyRange)).toEqual(["-20", "-40", "40-80", "80-"]);
    expect(rangeEquals(r("40-80"), keyRange(0x40000000, 0x80000000))).toBe(true);
    expect(rangeEquals(r("40-80"), r("40-81"))).toBe(false);
    expect(rangeEquals(FULL_RANGE, r("-"))).toBe(true);
  });
});

describe("evenSplit", () => {
  it.each([...Array.from({ length: 17 }, (_, i) => i + 1), 64, 100, 1000])(
    "splits the keyspace into %d ordered ranges whose widths differ by at most 1",
    (n) => {
      const ranges = evenSplit(n);
      expect(ranges).toHaveLength(n);
      expect(ranges[0]?.start).toBe(0);
      expect(ranges.at(-1)?.end).toBe(KEYSPACE_SIZE);
      for (let i = 1; i < n; i++) expect(ranges[i]?.start).toBe(ranges[i - 1]?.end);
      expect(checkCoverage(ranges)).toEqual({ ok: true });
      const widths = ranges.map((x) => x.end - x.start);
      expect(Math.max(...widths) - Math.min(...widths)).toBeLessThanOrEqual(1);
      expect(widths.reduce((a, b) => a + b, 0)).toBe(KEYSPACE_SIZE);
    },
  );

  it("gives the familiar Vitess shards for powers of two", () => {
    expect(evenSplit(1).map(formatKeyRange)).toEqual(["-"]);
    expect(evenSplit(2).map(formatKeyRange)).toEqual(["-80", "80-"]);
    expect(evenSplit(4).map(formatKeyRange)).toEqual(["-40", "40-80", "80-c0", "c0-"]);
    expect(evenSplit(3).map(formatKeyRange)).toEqual([
      "-55555555",
      "55555555-aaaaaaaa",
      "aaaaaaaa-",
    ]);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, KEYSPACE_SIZE + 1])(
    "refuses %d",
    (n) => {
      expect(keyRangeErrorOf(() => evenSplit(n)).message).toMatch(/give a whole number from 1/);
    },
  );
});

describe("checkCoverage", () => {
  it.each([
    [["-"]],
    [["-80", "80-"]],
    [["80-", "-40", "40-80"]],
    [["c0-", "-40", "80-c0", "40-80"]],
  ])("accepts the exact cover %j in any order", (ranges) => {
    expect(checkCoverage(ranges.map(r))).toEqual({ ok: true });
  });

  it.each([
    [[], "gap", 0, "gap: no range owns -"],
    [["-40", "80-"], "gap", 0x40000000, "gap: no range owns 40-80"],
    [["80-", "-40"], "gap", 0x40000000, "gap: no range owns 40-80"],
    [["40-"], "gap", 0, "gap: no range owns -40"],
    [["-80"], "gap", 0x80000000, "gap: no range owns 80-"],
    [["-40", "40-80", "c0-"], "gap", 0x80000000, "gap: no range owns 80-c0"],
    [["-ffffffff"], "gap", 0xffffffff, "gap: no range owns ffffffff-"],
    [["-80", "40-"], "overlap", 0x40000000, "overlap: ranges -80 and 40- both own 40-80"],
    [["40-", "-80"], "overlap", 0x40000000, "overlap: ranges -80 and 40- both own 40-80"],
    [["-", "-"], "overlap", 0, "overlap: ranges - and - both own -"],
    [["-", "40-80"], "overlap", 0x40000000, "overlap: ranges - and 40-80 both own 40-80"],
    [["-80", "-40", "80-"], "overlap", 0, "overlap: ranges -40 and -80 both own -40"],
  ])("%j: %s at %d", (ranges, problem, at, message) => {
    expect(checkCoverage(ranges.map(r))).toEqual({ ok: false, problem, at, message });
  });
});
