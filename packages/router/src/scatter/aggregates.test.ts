import { describe, expect, it } from "vitest";
import { groupWeightAlias, mergeAggregates, shardAggregates } from "./aggregates.js";

describe("shardAggregates", () => {
  it("turns avg into a sum and a count", () => {
    expect(shardAggregates({ n: { fn: "count" }, m: { fn: "avg", column: "x" } })).toEqual([
      { alias: "n", sql: "COUNT", column: undefined },
      { alias: "__shardkit_avg_sum_m", sql: "SUM", column: "x" },
      { alias: "__shardkit_avg_count_m", sql: "COUNT", column: "x" },
    ]);
  });
});

describe("mergeAggregates", () => {
  const specs = {
    n: { fn: "count" },
    s: { fn: "sum", column: "x" },
    lo: { fn: "min", column: "x" },
    hi: { fn: "max", column: "x" },
    m: { fn: "avg", column: "x" },
  } as const;
  const shard = (g: string, xs: (number | null)[], weight?: string) => {
    const present = xs.filter((x): x is number => x !== null);
    return {
      g,
      ...(weight ? { [groupWeightAlias(0)]: Buffer.from(weight) } : {}),
      n: xs.length,
      s: present.length ? String(present.reduce((a, b) => a + b, 0)) : null,
      lo: present.length ? Math.min(...present) : null,
      hi: present.length ? Math.max(...present) : null,
      __shardkit_avg_sum_m: present.length ? present.reduce((a, b) => a + b, 0) : null,
      __shardkit_avg_count_m: present.length,
    };
  };

  it("combines groups across shards as one table would", () => {
    const rows = mergeAggregates(
      [[shard("a", [1, 2, null], "a"), shard("B", [10], "b")], [shard("A", [3], "a")], []],
      specs,
      ["g"],
    );
    expect(rows).toEqual([
      { g: "a", n: 4, s: 6, lo: 1, hi: 3, m: 2 },
      { g: "B", n: 1, s: 10, lo: 10, hi: 10, m: 10 },
    ]);
  });

  it("gives one row with count 0 and nulls over no rows without GROUP BY, and none with it", () => {
    expect(mergeAggregates([[], []], specs, [])).toEqual([
      { n: 0, s: null, lo: null, hi: null, m: null },
    ]);
    expect(mergeAggregates([[], []], specs, ["g"])).toEqual([]);
  });
});
