import { describe, expect, it } from "vitest";
import {
  checkCoverage,
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
  rangesAdjacent,
  rangesOverlap,
  splitRange,
} from "./key-range.js";

const r = (text: string): KeyRange => parseKeyRange(text);

describe("parseKeyRange / formatKeyRange", () => {
  it.each([
    ["-", 0, KEYSPACE_SIZE, "-"],
    ["-40", 0, 0x40000000, "-40"],
    ["40-80", 0x40000000, 0x80000000, "40-80"],
    ["80-", 0x80000000, KEYSPACE_SIZE, "80-"],
    ["4000-4001", 0x40000000, 0x40010000, "4000-4001"],
    ["40000000-40000001", 0x40000000, 0x40000001, "40000000-40000001"],
    ["-00000001", 0, 1, "-00000001"],
    ["ffffffff-", 0xffffffff, KEYSPACE_SIZE, "ffffffff-"],
    ["C0-", 0xc0000000, KEYSPACE_SIZE, "c0-"],
    ["4-8", 0x40000000, 0x80000000, "40-80"],
    ["00-40", 0, 0x40000000, "-40"],
    ["-ffffffff", 0, 0xffffffff, "-ffffffff"],
  ])("%s is [%d, %d) and prints as %s", (text, start, end, printed) => {
    expect(parseKeyRange(text)).toEqual({ start, end });
    expect(formatKeyRange({ start, end })).toBe(printed);
  });

  it.each([
    ["", /exactly one dash/],
    ["40", /exactly one dash/],
    ["40--80", /exactly one dash/],
    ["-40-80", /exactly one dash/],
    ["--", /exactly one dash/],
    ["40-80-", /exactly one dash/],
    ["80-40", /start must be below its end/],
    ["40-40", /start must be below its end/],
    ["-00", /start must be below its end/],
    ["-0", /start must be below its end/],
    ["00000000-00000000", /start must be below its end/],
    ["ffffffff-ffffffff", /start must be below its end/],
    ["g0-", /not hexadecimal/],
    ["-4x", /not hexadecimal/],
    [" 40-80", /not hexadecimal/],
    ["40-80 ", /not hexadecimal/],
    ["0x40-80", /not hexadecimal/],
    ["+40-80", /not hexadecimal/],
    ["40.5-80", /not hexadecimal/],
    ["100000000-", /at most 8 hex digits/],
    ["-100000000", /at most 8 hex digits/],
    ["400000000-800000000", /at most 8 hex digits/],
    ["40–80", /exactly one dash/],
  ])("refuses %j", (text, why) => {
    expect(() => parseKeyRange(text)).toThrow(why);
    try {
      parseKeyRange(text);
    } catch (error) {
      expect((error as { code: string }).code).toBe("BAD_KEY_RANGE");
      expect((error as Error).message).toContain(`"${text}"`);
    }
  });

  it("round-trips random ranges", () => {
    for (let i = 0; i < 2000; i++) {
      const a = Math.floor(Math.random() * KEYSPACE_SIZE);
      const b = Math.floor(Math.random() * KEYSPACE_SIZE) + 1;
      if (a === b) continue;
      const range = { start: Math.min(a, b), end: Math.max(a, b) };
      expect(parseKeyRange(formatKeyRange(range))).toEqual(range);
    }
  });

  it("parses and formats single bounds", () => {
    expect(parseKsid("40")).toBe(0x40000000);
    expect(parseKsid("4001")).toBe(0x40010000);
    expect(parseKsid("ffffffff")).toBe(0xffffffff);
    expect(formatKsid(0)).toBe("00");
    expect(formatKsid(0x40000000)).toBe("40");
    expect(formatKsid(0x40000001)).toBe("40000001");
    expect(() => parseKsid("")).toThrow(/1 to 8 hex digits/);
    expect(() => parseKsid("123456789")).toThrow(/at most 8/);
  });

  it("validates ranges built from numbers", () => {
    expect(keyRange(0, KEYSPACE_SIZE)).toEqual(FULL_RANGE);
    expect(() => keyRange(5, 5)).toThrow(/0 <= start < end/);
    expect(() => keyRange(-1, 5)).toThrow();
    expect(() => keyRange(0, KEYSPACE_SIZE + 1)).toThrow();
    expect(() => keyRange(0.5, 5)).toThrow();
  });
});

describe("range arithmetic", () => {
  it("contains both edges correctly", () => {
    expect(rangeContains(r("-"), 0)).toBe(true);
    expect(rangeContains(r("-"), 0xffffffff)).toBe(true);
    expect(rangeContains(r("-40"), 0x3fffffff)).toBe(true);
    expect(rangeContains(r("-40"), 0x40000000)).toBe(false);
    expect(rangeContains(r("40-80"), 0x40000000)).toBe(true);
    expect(rangeContains(r("80-"), 0xffffffff)).toBe(true);
    expect(rangeContains(r("80-"), 0x7fffffff)).toBe(false);
  });

  it.each([
    ["-40", "40-80", false, true],
    ["-40", "80-", false, false],
    ["-80", "40-", true, false],
    ["-", "40-80", true, false],
    ["40-80", "-40", false, true],
    ["4000-4001", "4001-4002", false, true],
    ["40000000-40000001", "40000001-40000002", false, true],
    ["40-80", "40-80", true, false],
  ])("%s and %s: overlap %s, adjacent %s", (a, b, overlap, adjacent) => {
    expect(rangesOverlap(r(a), r(b))).toBe(overlap);
    expect(rangesOverlap(r(b), r(a))).toBe(overlap);
    expect(rangesAdjacent(r(a), r(b))).toBe(adjacent);
  });

  it("merges adjacent ranges in either order and refuses others", () => {
    expect(mergeRanges(r("-40"), r("40-80"))).toEqual(r("-80"));
    expect(mergeRanges(r("80-"), r("40-80"))).toEqual(r("40-"));
    expect(mergeRanges(r("-80"), r("80-"))).toEqual(FULL_RANGE);
    expect(() => mergeRanges(r("-40"), r("80-"))).toThrow(/not adjacent/);
    expect(() => mergeRanges(r("-80"), r("40-"))).toThrow(/not adjacent/);
  });

  it("splits at the midpoint or a given ksid and refuses impossible splits", () => {
    expect(splitRange(FULL_RANGE)).toEqual([r("-80"), r("80-")]);
    expect(splitRange(r("40-80"))).toEqual([r("40-60"), r("60-80")]);
    expect(splitRange(r("40-80"), 0x50000000)).toEqual([r("40-50"), r("50-80")]);
    expect(splitRange(r("40000000-40000002"))).toEqual([
      r("40000000-40000001"),
      r("40000001-40000002"),
    ]);
    expect(() => splitRange(r("40-80"), 0x40000000)).toThrow(/strictly inside/);
    expect(() => splitRange(r("40-80"), 0x80000000)).toThrow(/strictly inside/);
    expect(() => splitRange(r("40-80"), 0x90000000)).toThrow(/strictly inside/);
    expect(() => splitRange(r("40000000-40000001"))).toThrow(/single keyspace id/);
  });
});

describe("evenSplit", () => {
  it.each([...Array.from({ length: 17 }, (_, i) => i + 1), 64, 100, 1000, 65536])(
    "splits into %d ranges covering the keyspace with widths within 1",
    (n) => {
      const ranges = evenSplit(n);
      expect(ranges).toHaveLength(n);
      expect(checkCoverage(ranges)).toEqual({ ok: true });
      const widths = ranges.map((x) => x.end - x.start);
      expect(Math.max(...widths) - Math.min(...widths)).toBeLessThanOrEqual(1);
      for (let i = 1; i < n; i++) expect(ranges[i]?.start).toBe(ranges[i - 1]?.end);
    },
  );

  it("gives the familiar Vitess shards for powers of two", () => {
    expect(evenSplit(1).map(formatKeyRange)).toEqual(["-"]);
    expect(evenSplit(4).map(formatKeyRange)).toEqual(["-40", "40-80", "80-c0", "c0-"]);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses %d", (n) => {
    expect(() => evenSplit(n)).toThrow(/whole number/);
  });
});

describe("checkCoverage", () => {
  it("accepts an exact cover in any order", () => {
    expect(checkCoverage([r("80-"), r("-40"), r("40-80")])).toEqual({ ok: true });
    expect(checkCoverage([FULL_RANGE])).toEqual({ ok: true });
  });

  it.each([
    [[], "gap", 0, "gap - is owned by no range"],
    [["-40", "80-"], "gap", 0x40000000, "gap 40-80 is owned by no range"],
    [["40-"], "gap", 0, "gap -40 is owned by no range"],
    [["-80"], "gap", 0x80000000, "gap 80- is owned by no range"],
    [["-80", "40-"], "overlap", 0x40000000, "ranges -80 and 40- overlap"],
    [["-", "-"], "overlap", 0, "ranges - and - overlap"],
  ])("%j: %s at %d", (ranges, problem, at, message) => {
    expect(checkCoverage((ranges as string[]).map(r))).toEqual({ ok: false, problem, at, message });
  });
});
