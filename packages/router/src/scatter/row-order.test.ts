import { describe, expect, it } from "vitest";
import {
  compareValues,
  mergeSorted,
  mergeSortedArrays,
  rowComparator,
  stripHelpers,
  weightAlias,
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

describe("compareValues", () => {
  it.each([
    [null, 1, -1],
    [1, null, 1],
    [null, null, 0],
    [2, 10, -8],
    ["2.50", "10.00", -7.5],
    ["-3", "2", -5],

    [new Date(1), new Date(2), -1],
    ["a", "b", -1],
    [Buffer.from([1]), Buffer.from([0, 9]), 1],
  ])("%j vs %j", (a, b, sign) => {
    expect(Math.sign(compareValues(a, b))).toBe(Math.sign(sign));
  });
});

it("compares bigints with numbers", () => {
  expect(compareValues(10n, 9)).toBeGreaterThan(0);
  expect(compareValues(2n ** 64n, 2n ** 64n + 1n)).toBeLessThan(0);
});

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
    const rows = await collect(
      mergeSorted(
        [
          [],
          [{ v: 1, s: "b" }],
          [],
          [
            { v: 1, s: "c" },
            { v: 2, s: "d" },
          ],
        ].map((s) => from(s, { n: 0 })[Symbol.asyncIterator]()),
        (a, b) => a.v - b.v,
      ),
    );
    expect(rows.map((r) => r.s)).toEqual(["b", "c", "d"]);
    expect(await collect(mergeSorted([], (a: number, b: number) => a - b))).toEqual([]);
  });
});

describe("rowComparator", () => {
  it("orders by collation weights when present, else by value, honouring direction", () => {
    const cmp = rowComparator([{ column: "name" }, { column: "id", order: "desc" }]);
    const a = { name: "B", id: 1, [weightAlias(0)]: Buffer.from("b") };
    const b = { name: "a", id: 2, [weightAlias(0)]: Buffer.from("a") };
    const c = { name: "A", id: 3, [weightAlias(0)]: Buffer.from("a") };
    expect([a, b, c].sort(cmp).map((r) => r.id)).toEqual([3, 2, 1]);
    expect(stripHelpers({ ...a })).toEqual({ name: "B", id: 1 });
  });
});
