import { describe, expect, it } from "vitest";
import { helper, integerValue, mergeAggregates, type PlannedAggregate } from "./aggregates.js";
import type { FieldInfo } from "./column-kinds.js";
import type { ShardAnswer } from "./result-columns.js";
import { groupColumn } from "./scatter-terms.js";
import type { CollationWeights } from "./text-weights.js";

// Column types as MySQL reports them.
const field = (name: string, columnType: number, decimals = 0, characterSet = 63): FieldInfo => ({
  name,
  columnType,
  flags: 0,
  characterSet,
  decimals,
});
const LONGLONG = 8;
const NEWDECIMAL = 246;
const DOUBLE = 5;
const VARCHAR = 253;
const DATETIME = 12;

const aggregates: PlannedAggregate[] = [
  { name: "n", fn: "count", column: undefined, perShardDistinct: false },
  { name: "total", fn: "sum", column: "amount", perShardDistinct: false },
  { name: "mean", fn: "avg", column: "amount", perShardDistinct: false },
  { name: "first", fn: "min", column: "name", perShardDistinct: false },
  { name: "last", fn: "max", column: "at", perShardDistinct: false },
  { name: "people", fn: "countDistinct", column: "name", perShardDistinct: false },
];
const fields = [
  field(helper.group(0), VARCHAR, 0, 224),
  field(helper.value(0), LONGLONG),
  field(helper.value(1), NEWDECIMAL, 2),
  field(helper.avgSum(2), NEWDECIMAL, 2),
  field(helper.avgCount(2), LONGLONG),
  field(helper.avgType(2), NEWDECIMAL, 6),
  field(helper.value(3), VARCHAR, 0, 224),
  field(helper.value(4), DATETIME),
];
const ci: CollationWeights = { name: "ci", pad: Buffer.from([0x20]), mergeable: true };
const collations = new Map([["ci", ci]]);
// A one-byte case-insensitive collation: the weight is the upper-cased text.
const w = (s: string | null) => (s === null ? null : Buffer.from(s.toUpperCase()));

function row(
  g: string,
  n: number,
  total: string | null,
  count: number,
  first: string | null,
  last: Date | null,
) {
  return {
    [helper.group(0)]: g,
    [helper.groupWeight(0)]: w(g),
    [`${helper.group(0)}c`]: "ci",
    [helper.value(0)]: n,
    [helper.value(1)]: total,
    [helper.avgSum(2)]: total,
    [helper.avgCount(2)]: count,
    [helper.avgType(2)]: "ignored",
    [helper.value(3)]: first,
    [helper.valueWeight(3)]: w(first),
    [`${helper.value(3)}c`]: "ci",
    [helper.value(4)]: last,
  };
}

const answer = (shard: string, rows: Record<string, unknown>[]): ShardAnswer => ({
  shard,
  rows,
  fields,
});
const distinctOf = (shard: string, pairs: [string, string | null][]): ShardAnswer => ({
  shard,
  fields: [field(helper.group(0), VARCHAR, 0, 224), field(helper.distinct, VARCHAR, 0, 224)],
  rows: pairs.map(([g, v]) => ({
    [helper.group(0)]: g,
    [helper.groupWeight(0)]: w(g),
    [`${helper.group(0)}c`]: "ci",
    [helper.distinct]: v,
    [helper.distinctWeight]: w(v),
    [`${helper.distinct}c`]: "ci",
  })),
});

describe("mergeAggregates", () => {
  it("combines groups across shards exactly, in the types one server returns", () => {
    const merged = mergeAggregates(
      [groupColumn("t.country")],
      aggregates,
      [
        answer("s1", [
          row("fr", 2, "12345678901234567.89", 2, "bob", new Date(5)),
          row("de", 1, null, 0, null, null),
        ]),
        answer("s2", [row("FR", 1, "0.01", 1, "Alice", new Date(9))]),
      ],
      new Map([
        [
          5,
          [
            distinctOf("s1", [
              ["fr", "bob"],
              ["fr", "carl"],
              ["de", null],
            ]),
            distinctOf("s2", [["FR", "BOB"]]),
          ],
        ],
      ]),
      collations,
    );
    expect(merged.columns.map((c) => c.name)).toEqual([
      "country",
      "n",
      "total",
      "mean",
      "first",
      "last",
      "people",
    ]);
    expect(merged.rows.map((r) => r.values)).toEqual([
      ["fr", 3, "12345678901234567.90", "4115226300411522.633333", "Alice", new Date(9), 2],
      ["de", 1, null, null, null, null, 0],
    ]);
  });

  it("answers one row over no rows without GROUP BY, and none with it", () => {
    const none = mergeAggregates(
      [],
      aggregates,
      [answer("s1", []), answer("s2", [])],
      new Map(),
      collations,
    );
    expect(none.rows.map((r) => r.values)).toEqual([[0, null, null, null, null, 0]]);
    expect(
      mergeAggregates([groupColumn("g")], aggregates, [answer("s1", [])], new Map(), collations)
        .rows,
    ).toEqual([]);
  });

  it("adds DOUBLE sums as floats and counts past 2^53 as text", () => {
    const sum: PlannedAggregate[] = [
      { name: "s", fn: "sum", column: "x", perShardDistinct: false },
      { name: "n", fn: "count", column: undefined, perShardDistinct: false },
    ];
    const f = [field(helper.value(0), DOUBLE, 31), field(helper.value(1), LONGLONG)];
    const merged = mergeAggregates(
      [],
      sum,
      [
        {
          shard: "s1",
          fields: f,
          rows: [{ [helper.value(0)]: 0.5, [helper.value(1)]: 9007199254740991 }],
        },
        { shard: "s2", fields: f, rows: [{ [helper.value(0)]: 2, [helper.value(1)]: 2 }] },
      ],
      new Map(),
      collations,
    );
    expect(merged.rows[0]?.values).toEqual([2.5, "9007199254740993"]);
    expect(integerValue(12n)).toBe(12);
  });

  it("refuses to merge a column whose type differs between shards", () => {
    const sum: PlannedAggregate[] = [
      { name: "s", fn: "sum", column: "x", perShardDistinct: false },
    ];
    expect(() =>
      mergeAggregates(
        [],
        sum,
        [
          { shard: "s1", fields: [field(helper.value(0), DOUBLE)], rows: [] },
          { shard: "s2", fields: [field(helper.value(0), NEWDECIMAL)], rows: [] },
        ],
        new Map(),
        collations,
      ),
    ).toThrow(/column s is float .* on shard s1 but decimal .* on shard s2/);
  });
});
