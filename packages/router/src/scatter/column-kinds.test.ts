import { describe, expect, it } from "vitest";
import {
  type ColumnKind,
  columnKind,
  compareCells,
  groupKey,
  timeMicros,
  unorderable,
} from "./column-kinds.js";
import { compareWeights, weightKey } from "./text-weights.js";

describe("columnKind", () => {
  it.each([
    [{ columnType: 8, flags: 32, characterSet: 63 }, "integer"],
    [{ columnType: 13, flags: 0, characterSet: 63 }, "integer"],
    [{ columnType: 246, flags: 0, characterSet: 63 }, "decimal"],
    [{ columnType: 5, flags: 0, characterSet: 63 }, "float"],
    [{ columnType: 12, flags: 128, characterSet: 63 }, "temporal"],
    [{ columnType: 11, flags: 128, characterSet: 63 }, "time"],
    [{ columnType: 253, flags: 0, characterSet: 224 }, "text"],
    [{ columnType: 252, flags: 144, characterSet: 224 }, "text"],
    [{ columnType: 253, flags: 128, characterSet: 63 }, "binary"],
    [{ columnType: 16, flags: 32, characterSet: 63 }, "binary"],
    [{ columnType: 254, flags: 256, characterSet: 224 }, "enum"],
    [{ columnType: 254, flags: 2048, characterSet: 224 }, "set"],
    [{ columnType: 255, flags: 128, characterSet: 63 }, "unsupported"],
    [{ columnType: 245, flags: 0, characterSet: 63 }, "unsupported"],
    [{ columnType: 6, flags: 0, characterSet: 63 }, "null"],
  ])("%j is %s", (f, kind) => {
    expect(columnKind({ name: "c", decimals: 0, ...f })).toBe(kind);
  });

  it("names why ENUM, SET and unknown types cannot be ordered", () => {
    expect(unorderable("enum")).toMatch(/member index/);
    expect(unorderable("unsupported")).toMatch(/no order/);
    expect(unorderable("text")).toBeUndefined();
  });
});

describe("compareCells and groupKey", () => {
  const sign = (kind: ColumnKind, a: unknown, b: unknown, wa?: unknown, wb?: unknown) =>
    compareCells({ kind }, a, wa, b, wb);

  it.each([
    ["integer", "9007199254740993", 9007199254740992, 1],
    ["integer", "-9223372036854775808", -1, -1],
    ["integer", "18446744073709551615", "18446744073709551614", 1],
    ["decimal", "1.50", "1.5", 0],
    ["decimal", "-0.000000000000000000000000000001", "0", -1],
    ["float", -0, 0, 0],
    ["time", "-01:00:00.5", "00:00:00", -1],
    ["time", "100:00:00", "99:59:59.999999", 1],
    ["binary", Buffer.from([0, 255]), Buffer.from([1]), -1],
    ["integer", null, 0, -1],
    ["text", null, null, 0],
  ] as const)("%s: %j vs %j is %d", (kind, a, b, expected) => {
    expect(sign(kind, a, b)).toBe(expected);
  });

  it("orders dates by their weight (to the microsecond) when there is one", () => {
    const a = new Date(1000);
    const b = new Date(1000);
    expect(
      sign(
        "temporal",
        a,
        b,
        Buffer.from("2024-01-01 00:00:01.000001"),
        Buffer.from("2024-01-01 00:00:01.000002"),
      ),
    ).toBe(-1);
    expect(sign("temporal", new Date(2000), a)).toBe(1);
  });

  it("gives one key to values one GROUP BY puts together", () => {
    const pad = {
      kind: "text" as const,
      collation: { name: "ci", pad: Buffer.from([0, 0x20]), mergeable: true },
    };
    expect(groupKey(pad, "a", Buffer.from([0, 0x41]))).toBe(
      groupKey(pad, "A  ", Buffer.from([0, 0x41, 0, 0x20, 0, 0x20])),
    );
    expect(groupKey({ kind: "decimal" }, "1.50", undefined)).toBe(
      groupKey({ kind: "decimal" }, "1.5", undefined),
    );
    expect(groupKey({ kind: "integer" }, "9007199254740993", undefined)).not.toBe(
      groupKey({ kind: "integer" }, 9007199254740992, undefined),
    );
    expect(groupKey({ kind: "integer" }, null, undefined)).toBe("");
    expect(timeMicros("-838:59:59.000001")).toBe(-(838 * 3600 + 59 * 60 + 59) * 1e6 - 1);
  });
});

describe("compareWeights", () => {
  const sp = Buffer.from([0, 0x20]);
  const w = (...units: number[]) => Buffer.from(units.flatMap((u) => [u >> 8, u & 0xff]));

  it.each([
    [w(0x41), w(0x41, 0x20), 0], // 'a' = 'a ' in PAD SPACE
    [w(0x41), w(0x41, 0x09), 1], // 'a' > 'a\t': the tab sorts below the padding space
    [w(0x41, 0x20, 0x42), w(0x41), 1],
    [w(0x41), w(0x42), -1],
  ])("%o vs %o is %d when padded", (a, b, expected) => {
    expect(compareWeights(a, b, sp)).toBe(expected);
    expect(compareWeights(b, a, sp)).toBe(-expected || 0);
  });

  it("compares NO PAD weights as bytes and trims pads from keys", () => {
    expect(compareWeights(w(0x41), w(0x41, 0x20), undefined)).toBe(-1);
    expect(weightKey(w(0x41, 0x20, 0x20), sp)).toBe(weightKey(w(0x41), sp));
    expect(weightKey(w(0x41, 0x20), undefined)).not.toBe(weightKey(w(0x41), undefined));
  });
});
