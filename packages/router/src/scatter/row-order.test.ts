import { describe, expect, it } from "vitest";
import {
  mergeSorted,
  mergeSortedArrays,
  rowComparator,
  type SortKey,
  stripHelpers,
} from "./row-order.js";

async function* from<T>(rows: T[], pulled: { n: number }) {
  for (const r of rows) {
    pulled.n++;
    yield r;
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("mergeSorted", () => {
  it("merges sorted sources into one sorted run, with offset and limit, pulling little more than it emits", async () => {
    for (let trial = 0; trial < 200; trial++) {
      const k = 1 + (trial % 5);
      const sources = Array.from({ length: k }, () =>
        Array.from({ length: Math.floor(Math.random() * 30) }, () =>
          Math.floor(Math.random() * 50),
        ).sort((a, b) => a - b),
      );
      const offset = trial % 7;
      const limit = trial % 3 === 0 ? Number.POSITIVE_INFINITY : 1 + (trial % 11);
      const pulled = { n: 0 };
      const merged = await collect(
        mergeSorted(
          sources.map((s) => from(s, pulled)[Symbol.asyncIterator]()),
          (a, b) => a - b,
          offset,
          limit,
        ),
      );
      const expected = sources
        .flat()
        .sort((a, b) => a - b)
        .slice(offset, offset + limit);
      expect(merged).toEqual(expected);
      expect(mergeSortedArrays(sources, (a, b) => a - b, offset, limit)).toEqual(expected);
      // One row per source ahead of what was emitted: memory stays bounded by the sources.
      expect(pulled.n).toBeLessThanOrEqual(
        Math.min(sources.flat().length, offset + merged.length + k),
      );
    }
  });

  it("keeps equal rows in source order and handles empty sources", async () => {
    const sources = [
      [],
      [{ v: 1, s: "b" }],
      [],
      [
        { v: 1, s: "c" },
        { v: 2, s: "d" },
      ],
    ];
    const byV = (a: { v: number }, b: { v: number }) => a.v - b.v;
    const rows = await collect(
      mergeSorted(
        sources.map((s) => from(s, { n: 0 })[Symbol.asyncIterator]()),
        byV,
      ),
    );
    expect(rows.map((r) => r.s)).toEqual(["b", "c", "d"]);
    expect(mergeSortedArrays(sources, byV).map((r) => r.s)).toEqual(["b", "c", "d"]);
    expect(await collect(mergeSorted([], (a: number, b: number) => a - b))).toEqual([]);
    expect(mergeSortedArrays([], (a: number, b: number) => a - b)).toEqual([]);
  });
});

describe("rowComparator", () => {
  type R = Record<string, unknown>;
  const key = (name: string, kind: SortKey<R>["order"]["kind"], desc = false): SortKey<R> => ({
    order: { kind, collation: { name: "c", pad: Buffer.from([0, 0x20]), mergeable: true } },
    desc,
    value: (r) => r[name],
    weight: (r) => r[`${name}w`],
  });

  it("orders text by weight, then the next term, honouring direction", () => {
    const cmp = rowComparator([key("name", "text"), key("id", "integer", true)]);
    const w = (s: string) => Buffer.from(s, "utf16le").swap16();
    const rows = [
      { name: "B", namew: w("B"), id: 1 },
      { name: "a", namew: w("A"), id: 2 },
      { name: "A ", namew: w("A "), id: 3 },
      { name: "a\t", namew: w("A\t"), id: 4 },
    ];
    // 'a' = 'A ' under PAD SPACE; 'a\t' sorts before them (tab < space).
    expect(rows.sort(cmp).map((r) => r.id)).toEqual([4, 3, 2, 1]);
    expect(stripHelpers({ a: 1, __shardkit_o0: 2, __shardkit_o0w: 3 })).toEqual({ a: 1 });
  });

  it("orders integers past 2^53 and decimals exactly, NULL first", () => {
    const ints = rowComparator([key("v", "integer")]);
    const big = [
      { v: "9007199254740993" },
      { v: null },
      { v: 9007199254740992 },
      { v: "-9223372036854775808" },
    ];
    expect(big.sort(ints).map((r) => r.v)).toEqual([
      null,
      "-9223372036854775808",
      9007199254740992,
      "9007199254740993",
    ]);
    const decs = rowComparator([key("v", "decimal", true)]);
    const wide = [
      { v: "0.000000000000000000000000000001" },
      { v: "0.000000000000000000000000000002" },
      { v: "-1.5" },
    ];
    expect(wide.sort(decs).map((r) => r.v)).toEqual([
      "0.000000000000000000000000000002",
      "0.000000000000000000000000000001",
      "-1.5",
    ]);
  });
});
