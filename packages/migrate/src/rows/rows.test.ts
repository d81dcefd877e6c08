import {
  canonicalKeyBytes,
  hashKeyFunction,
  identityKeyFunction,
  type KeyColumnType,
  type PinnedKey,
} from "@shardkit/directory";
import { describe, expect, it } from "vitest";
import {
  comparePrimaryKeys,
  primaryKeyBound,
  primaryKeyIn,
  primaryKeyText,
} from "./primary-key.js";
import { keySelector, rangeSelector } from "./row-selector.js";
import type { TableSchema } from "./table-schema.js";

const bigint: KeyColumnType = {
  table: "orders",
  column: "user_id",
  dataType: "bigint",
  unsigned: false,
  maxLength: null,
  charset: null,
  collation: null,
};

function table(overrides: Partial<TableSchema> = {}): TableSchema {
  return {
    name: "orders",
    keyColumn: "user_id",
    keyFunction: hashKeyFunction,
    keyType: bigint,
    columns: ["user_id", "id", "note"],
    primaryKey: ["user_id", "id"],
    primaryKeyKinds: ["integer", "integer"],
    ...overrides,
  };
}

describe("primary keys", () => {
  it.each([
    [[1, 2], [1, 3], -1],
    [[2, 0], [1, 9], 1],
    [[5, 5], [5, 5], 0],
    [["9007199254740993", 1], ["9007199254740992", 1], 1],
    [[-1, "18446744073709551615"], [-1, 0], 1],
  ])("orders integer keys %j and %j as MySQL does", (a, b, sign) => {
    expect(Math.sign(comparePrimaryKeys(table(), a, b) as number)).toBe(sign);
  });

  it("orders binary keys bytewise, a prefix first", () => {
    const t = table({ primaryKey: ["id"], primaryKeyKinds: ["binary"] });
    expect(comparePrimaryKeys(t, [Buffer.from("ab")], [Buffer.from("abc")])).toBeLessThan(0);
    expect(comparePrimaryKeys(t, [Buffer.from([0xff])], [Buffer.from([0x01, 0])])).toBeGreaterThan(
      0,
    );
  });

  it("cannot order keys compared by collation, and says so instead of guessing", () => {
    const t = table({ primaryKey: ["id", "name"], primaryKeyKinds: ["integer", "other"] });
    expect(comparePrimaryKeys(t, [1, "a"], [1, "B"])).toBeNull();
    // The first column decides before the one it cannot order.
    expect(comparePrimaryKeys(t, [1, "z"], [2, "a"])).toBeLessThan(0);
  });

  it("writes the rows after a composite key as an OR of prefixes", () => {
    expect(primaryKeyBound(table(), [7, 9], ">")).toEqual({
      sql: "((`user_id` > ?) OR (`user_id` = ? AND `id` > ?))",
      params: [7, 7, 9],
    });
    expect(primaryKeyBound(table(), [7, 9], "<=")).toEqual({
      sql: "((`user_id` < ?) OR (`user_id` = ? AND `id` < ?) OR (`user_id` = ? AND `id` = ?))",
      params: [7, 7, 9, 7, 9],
    });
    expect(
      primaryKeyIn(table(), [
        [1, 2],
        [3, 4],
      ]),
    ).toEqual({
      sql: "(`user_id`, `id`) IN ((?, ?), (?, ?))",
      params: [1, 2, 3, 4],
    });
    expect(primaryKeyText([1, Buffer.from([0xab])])).toBe('[1,"0xab"]');
  });
});

describe("row selectors", () => {
  const range = { start: 0, end: 0x8000_0000 };
  const ids = Array.from({ length: 200 }, (_, i) => i + 1);
  const inRange = ids.filter((id) => hashKeyFunction.ksid(id) < 0x8000_0000);

  it("keeps the rows whose key column hashes into the range, as the router would route them", () => {
    const rows = ids.map((id) => ({ user_id: id, id: 1, note: "x" }));
    const kept = rangeSelector(range, []).filter(table(), rows);
    expect(kept.map((r) => r.user_id)).toEqual(inRange);
    expect(inRange.length).toBeGreaterThan(50);
    expect(inRange.length).toBeLessThan(150);
    // A BIGINT key beyond 2^53 arrives as a string and routes as its digits.
    const big = "9007199254740993";
    expect(rangeSelector({ start: 0, end: 2 ** 32 }, []).contains(table(), { user_id: big })).toBe(
      true,
    );
    expect(
      rangeSelector(
        { start: hashKeyFunction.ksid(big), end: hashKeyFunction.ksid(big) + 1 },
        [],
      ).contains(table(), { user_id: big }),
    ).toBe(true);
  });

  it("leaves the rows of pinned keys where their pin says, and rows without a routable key", () => {
    const pinnedId = inRange[0] as number;
    const pin: PinnedKey = {
      keyBytes: canonicalKeyBytes(pinnedId),
      keyText: String(pinnedId),
      ksid: hashKeyFunction.ksid(pinnedId),
      shard: "s1",
      state: "serving",
    };
    const selector = rangeSelector(range, [pin]);
    expect(selector.contains(table(), { user_id: pinnedId })).toBe(false);
    expect(selector.contains(table(), { user_id: inRange[1] })).toBe(true);
    expect(selector.contains(table(), { user_id: null })).toBe(false);
    expect(selector.filter(table(), [{ user_id: pinnedId }, { user_id: null }])).toEqual([]);
  });

  it("maps integer keys with the identity key function by value", () => {
    const t = table({ keyFunction: identityKeyFunction });
    const selector = rangeSelector({ start: 100, end: 200 }, []);
    expect(
      selector.filter(t, [{ user_id: 99 }, { user_id: 100 }, { user_id: 199 }, { user_id: 200 }]),
    ).toEqual([{ user_id: 100 }, { user_id: 199 }]);
  });

  it("selects one key's rows by the key its column stores: a case-insensitive text key in any case", () => {
    const fold = Array.from({ length: 0x7f - 0x20 }, (_, i) =>
      String.fromCharCode(i + 0x20).toLowerCase(),
    ).join("");
    const text: KeyColumnType = {
      ...bigint,
      dataType: "varchar",
      maxLength: 40,
      charset: "utf8mb4",
      collation: "utf8mb4_general_ci",
      comparison: { padSpace: true, asciiFold: fold },
    };
    const t = table({ keyType: text });
    const selector = keySelector(canonicalKeyBytes("whale"));
    expect(
      selector.filter(t, [{ user_id: "Whale" }, { user_id: "whale" }, { user_id: "whales" }]),
    ).toEqual([{ user_id: "Whale" }, { user_id: "whale" }]);
  });
});
