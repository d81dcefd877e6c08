import { describe, expect, it } from "vitest";
import {
  addDecimal,
  compareDecimal,
  type Decimal,
  divideDecimal,
  formatDecimal,
  parseDecimal,
  rescale,
  toDecimal,
} from "./exact-decimal.js";

const d = (text: string) => parseDecimal(text) as Decimal;

describe("parse and format", () => {
  it.each([
    ["0", "0", 0],
    ["-12.340", "-12.340", 3],
    ["18446744073709551615", "18446744073709551615", 0],
    ["12345678901234567.89", "12345678901234567.89", 2],
    [".5", "0.5", 1],
    ["1e-7", "0.0000001", 7],
    ["1.5e+21", "1500000000000000000000", 0],
    ["-0.000000000000000000000000000001", "-0.000000000000000000000000000001", 30],
  ])("%s prints as %s at scale %d", (text, printed, scale) => {
    const v = d(text);
    expect(v.scale).toBe(scale);
    expect(formatDecimal(v)).toBe(printed);
  });

  it.each(["", "abc", "1.2.3", "--1", "1e", "."])("rejects %j", (text) => {
    expect(parseDecimal(text)).toBeUndefined();
  });

  it("reads JS numbers by their shortest text, and bigints exactly", () => {
    expect(formatDecimal(toDecimal(0.1) as Decimal)).toBe("0.1");
    expect(formatDecimal(toDecimal(2n ** 70n) as Decimal)).toBe("1180591620717411303424");
    expect(toDecimal(Number.NaN)).toBeUndefined();
    expect(toDecimal({})).toBeUndefined();
  });
});

describe("arithmetic", () => {
  it.each([
    ["12345678901234567.89", "0.01", "12345678901234567.90"],
    ["0.1", "0.2", "0.3"],
    ["-5.5", "5.50", "0.00"],
    [
      "99999999999999999999999999999999999.000000000000000000000000000001",
      "0.000000000000000000000000000001",
      "99999999999999999999999999999999999.000000000000000000000000000002",
    ],
    ["18446744073709551615", "1", "18446744073709551616"],
  ])("%s + %s = %s", (a, b, sum) => {
    expect(formatDecimal(addDecimal(d(a), d(b)))).toBe(sum);
  });

  it.each([
    ["10", 4n, 4, "2.5000"],
    ["-10", 4n, 4, "-2.5000"],
    ["1", 3n, 4, "0.3333"],
    ["2", 3n, 4, "0.6667"],
    ["-2", 3n, 4, "-0.6667"],
    ["0.00005", 1n, 4, "0.0001"],
    ["-0.00005", 1n, 4, "-0.0001"],
    ["0.00004999", 1n, 4, "0.0000"],
    ["-0.499999999999999999999999999999", 4n, 34, "-0.1249999999999999999999999999997500"],
  ])("%s / %s at scale %d = %s (half away from zero)", (a, n, scale, q) => {
    expect(formatDecimal(divideDecimal(d(a), n, scale))).toBe(q);
  });

  it.each([
    ["1.50", "1.5", 0],
    ["-1", "0", -1],
    ["9007199254740993", "9007199254740992", 1],
    ["0.000000000000000000000000000001", "0.000000000000000000000000000002", -1],
  ])("compares %s with %s: %d", (a, b, c) => {
    expect(compareDecimal(d(a), d(b))).toBe(c);
  });

  it("rescales exactly up and rounds half away from zero down", () => {
    expect(formatDecimal(rescale(d("1.5"), 3))).toBe("1.500");
    expect(formatDecimal(rescale(d("1.25"), 1))).toBe("1.3");
    expect(formatDecimal(rescale(d("-1.25"), 1))).toBe("-1.3");
    expect(formatDecimal(d("7"), 2)).toBe("7.00");
  });
});

describe("against BigInt-scaled arithmetic", () => {
  // A seeded generator, so a failure can be replayed.
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const randomUnits = () => {
    let digits = "";
    const n = 1 + Math.floor(rnd() * 40);
    for (let i = 0; i < n; i++) digits += Math.floor(rnd() * 10);
    return (rnd() < 0.5 ? -1n : 1n) * BigInt(digits);
  };
  const text = (units: bigint, scale: number) => {
    const neg = units < 0n;
    const s = (neg ? -units : units).toString().padStart(scale + 1, "0");
    return `${neg ? "-" : ""}${s.slice(0, s.length - scale)}${scale ? `.${s.slice(s.length - scale)}` : ""}`;
  };

  it("adds, compares and divides like integer arithmetic at a common scale, 2000 times", () => {
    for (let i = 0; i < 2000; i++) {
      const sa = Math.floor(rnd() * 31);
      const sb = Math.floor(rnd() * 31);
      const ua = randomUnits();
      const ub = randomUnits();
      const a = d(text(ua, sa));
      const b = d(text(ub, sb));
      const s = Math.max(sa, sb);
      const xa = ua * 10n ** BigInt(s - sa);
      const xb = ub * 10n ** BigInt(s - sb);
      expect(formatDecimal(addDecimal(a, b))).toBe(text(xa + xb, s));
      expect(compareDecimal(a, b)).toBe(xa < xb ? -1 : xa > xb ? 1 : 0);
      const n = 1n + BigInt(Math.floor(rnd() * 1000));
      const scale = sa + 4;
      // Reference: one digit past the scale, truncated; half away from zero rounds up exactly
      // when that digit is 5 or more.
      const num = ua * 10n ** BigInt(scale - sa + 1);
      const tenth = (num < 0n ? -num : num) / n;
      const expected = (tenth / 10n + (tenth % 10n >= 5n ? 1n : 0n)) * (num < 0n ? -1n : 1n);
      expect(formatDecimal(divideDecimal(a, n, scale))).toBe(text(expected, scale));
    }
  });
});
