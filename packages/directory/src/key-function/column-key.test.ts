import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ShardKeyError } from "../errors/shardkit-error.js";
import { canonicalKeyBytes, hashKeyFunction } from "../key-function.js";
import {
  collationProbeSql,
  columnKey,
  type KeyColumnType,
  keyColumnKind,
  keyColumnTypeOf,
  readKeyColumnTypes,
  type TextComparison,
  textComparisonOf,
} from "./column-key.js";

interface Vector {
  readonly column: string;
  readonly key: string;
  readonly routedAs: string;
}

/** The rows of "Key column test vectors" in docs/keyspace.md. */
function vectorsFromDocs(): Vector[] {
  const doc = readFileSync(new URL("../../../../docs/keyspace.md", import.meta.url), "utf8");
  const section = doc.split("\n### Key column test vectors\n")[1]?.split("\n## ")[0];
  if (section === undefined) throw new Error("docs/keyspace.md has no key column test vectors");
  const [header, rule, ...body] = section.split("\n").filter((line) => line.startsWith("|"));
  expect(header?.split("|").map((c) => c.trim())).toEqual(["", "column", "key", "routed as", ""]);
  expect(rule).toMatch(/^\|[\s|-]+\|$/);
  return body.map((line) => {
    const [column = "", key = "", routedAs = ""] = line
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
    return { column, key, routedAs };
  });
}

/** A key cell: "..." a string, 42n a bigint, 0x... bytes, else a JSON value (number, true, null). */
function keyOf(cell: string): unknown {
  if (cell.startsWith('"')) return JSON.parse(cell);
  if (/^-?[0-9]+n$/.test(cell)) return BigInt(cell.slice(0, -1));
  if (/^0x[0-9a-f]*$/i.test(cell)) return Buffer.from(cell.slice(2), "hex");
  if (cell === "-0") return -0;
  return JSON.parse(cell);
}

const PRINTABLE = [...Array(95).keys()].map((i) => String.fromCharCode(0x20 + i)).join("");
const lowerCase = PRINTABLE.toLowerCase();

/** What the probe finds on MariaDB 10.11 for the collations the vectors use (checked there by an integration test). */
const COMPARISONS: Readonly<Record<string, TextComparison>> = {
  utf8mb4_general_ci: { padSpace: true, asciiFold: lowerCase },
  utf8mb4_roman_ci: {
    padSpace: true,
    asciiFold: lowerCase.replace(/[jJ]/g, "i").replace(/v/g, "u"),
  },
  utf8mb4_turkish_ci: { padSpace: true, asciiFold: lowerCase.replace("i", "I") },
  utf8mb4_lithuanian_ci: {
    padSpace: true,
    asciiFold: lowerCase,
    refused: 'collation utf8mb4_lithuanian_ci holds "C" and "Ch" equal',
  },
};

/** A column cell such as `BIGINT UNSIGNED`, `BINARY(4)` or `VARCHAR(8) utf8mb4_bin`. */
function columnOf(cell: string): KeyColumnType {
  const m = /^([A-Z]+)(?:\((\d+)\))?( UNSIGNED)?(?: (\w+))?$/.exec(cell);
  if (!m) throw new Error(`bad column cell ${cell}`);
  const [, dataType = "", length, unsigned, collation] = m;
  const kind = keyColumnKind(dataType);
  const base = {
    table: "t",
    column: "k",
    dataType: dataType.toLowerCase(),
    unsigned: unsigned !== undefined,
    maxLength: length === undefined ? null : Number(length),
    charset: null,
    collation: null,
  };
  if (kind !== "text" || collation === undefined) return base;
  const comparison =
    COMPARISONS[collation] ??
    (collation.endsWith("_bin")
      ? { padSpace: !collation.includes("nopad"), asciiFold: null }
      : undefined);
  if (!comparison) throw new Error(`no comparison known for ${collation}`);
  return { ...base, charset: collation.split("_")[0] as string, collation, comparison };
}

describe("columnKey: the test vectors of docs/keyspace.md", () => {
  const vectors = vectorsFromDocs();

  it("has vectors for every kind of column, accepted and refused", () => {
    expect(vectors.length).toBeGreaterThan(80);
    for (const kind of ["integer", "text", "binary"] as const) {
      const rows = vectors.filter((v) => keyColumnKind(columnOf(v.column).dataType) === kind);
      expect(rows.some((v) => v.routedAs === "refused")).toBe(true);
      expect(rows.some((v) => v.routedAs !== "refused")).toBe(true);
    }
  });

  it.each(vectors.map((v) => [v.column, v.key, v.routedAs] as const))(
    "%s, key %s: %s",
    (column, cell, routedAs) => {
      const type = columnOf(column);
      const key = keyOf(cell);
      const result = columnKey(type, key);
      if (routedAs === "refused") {
        expect(result).toBeInstanceOf(ShardKeyError);
        const error = result as ShardKeyError;
        expect(error.code).toBe("BAD_SHARD_KEY");
        expect(error.message).not.toContain("\n");
        expect(error.message).toContain("t.k");
        expect(error.details).toMatchObject({ table: "t", column: "k" });
        return;
      }
      expect(result).not.toBeInstanceOf(ShardKeyError);
      if (routedAs.startsWith('"')) expect(result).toBe(JSON.parse(routedAs));
      else if (routedAs.startsWith("0x")) {
        expect(Buffer.from(canonicalKeyBytes(result)).toString("hex")).toBe(routedAs.slice(2));
      } else {
        expect(["number", "bigint"]).toContain(typeof result);
        expect(String(result)).toBe(routedAs);
        // Safe integers stay numbers (the fast hashing path); larger ones are bigints.
        expect(typeof result).toBe(Number.isSafeInteger(Number(routedAs)) ? "number" : "bigint");
      }
    },
  );

  it("routes the forms of one integer to one keyspace id, and the stored value's", () => {
    const bigint = columnOf("BIGINT");
    const ksids = ["06202", " 6202", "+6202", 6202, 6202n, "6202\n"].map((k) =>
      hashKeyFunction.ksid(columnKey(bigint, k)),
    );
    expect(new Set(ksids)).toEqual(new Set([hashKeyFunction.ksid(6202)]));
    // Without the column, the text "06202" is a different key: the bug this rule prevents.
    expect(hashKeyFunction.ksid("06202")).not.toBe(hashKeyFunction.ksid(6202));
  });

  it("says what to pass instead, naming the column and its type", () => {
    const error = columnKey(columnOf("BIGINT UNSIGNED"), "-1") as ShardKeyError;
    expect(error.message).toMatch(
      /^the key "-1" is out of the range of t\.k \(BIGINT UNSIGNED\); pass an integer from 0 to 18446744073709551615/,
    );
    expect(error.details).toMatchObject({ columnType: "BIGINT UNSIGNED", keyType: "string" });
    const binary = columnKey(columnOf("BINARY(4)"), "ab") as ShardKeyError;
    expect(binary.message).toContain("pass exactly 4 bytes");
    const text = columnKey(columnOf("VARCHAR(8) utf8mb4_general_ci"), "Zürich") as ShardKeyError;
    expect(text.message).toContain("give the column a binary collation");
  });

  it("refuses every key of a text column whose collation was not probed", () => {
    const { comparison: _, ...unprobed } = columnOf("VARCHAR(8) utf8mb4_bin");
    expect(columnKey(unprobed, "a")).toBeInstanceOf(ShardKeyError);
  });
});

describe("textComparisonOf: a collation's probe", () => {
  const codes = (s: string) => [...s].map((c) => c.charCodeAt(0)).join(".");
  const group = (...members: string[]) => ({ members: members.map(codes).join(" ") });

  it("routes each character as the least of its equals, lower case first", () => {
    const rows = [
      [{ padSpace: 1 }],
      [group("A", "a"), group("I", "J", "i", "j"), group("Aa", "aa")],
    ];
    const c = textComparisonOf("x_roman_ci", rows);
    expect(c).toMatchObject({ padSpace: true });
    expect(c.refused).toBeUndefined();
    expect(c.asciiFold?.[0x41 - 0x20]).toBe("a");
    expect(c.asciiFold?.[0x4a - 0x20]).toBe("i");
    expect(c.asciiFold?.[0x6a - 0x20]).toBe("i");
    expect(c.asciiFold?.[0x42 - 0x20]).toBe("B");
  });

  it("refuses a collation that holds equal strings that differ character by character", () => {
    const rows = [[{ padSpace: 0 }], [group("C", "Ch", "c")]];
    const c = textComparisonOf("x_lithuanian_ci", rows);
    expect(c.padSpace).toBe(false);
    expect(c.refused).toMatch(/^collation x_lithuanian_ci holds "C" and "Ch" equal.*utf8mb4_bin/);
  });

  it("takes code-point collations as they are, probing only trailing spaces", () => {
    expect(collationProbeSql("utf8mb4", "utf8mb4_bin")).toHaveLength(1);
    expect(collationProbeSql("utf8mb4", "utf8mb4_general_ci")).toHaveLength(2);
    expect(textComparisonOf("utf8mb4_nopad_bin", [[{ padSpace: 0 }]])).toEqual({
      padSpace: false,
      asciiFold: null,
    });
    expect(() => collationProbeSql("utf8mb4", "x; DROP TABLE t")).toThrow(
      expect.objectContaining({ code: "BAD_ARGUMENT" }),
    );
  });
});

describe("readKeyColumnTypes", () => {
  it("reads each table's key column once, probing each collation once", async () => {
    const sql: string[] = [];
    const run = async (text: string, params?: readonly unknown[]) => {
      sql.push(text);
      if (text.includes("information_schema.COLUMNS")) {
        expect(params).toEqual(["a", "b", "gone"]);
        return [
          row("a", "ID", "bigint", "bigint(20) unsigned"),
          row("a", "name", "varchar", "varchar(10)", 10, "utf8mb4", "utf8mb4_general_ci"),
          row("b", "name", "varchar", "varchar(5)", 5, "utf8mb4", "utf8mb4_general_ci"),
        ];
      }
      if (text.includes("padSpace")) return [{ padSpace: 1 }];
      return [{ members: "65 97" }];
    };
    const types = await readKeyColumnTypes(run, [
      { name: "a", keyColumn: "id" },
      { name: "b", keyColumn: "name" },
      { name: "gone", keyColumn: "id" },
    ]);
    expect([...types.keys()]).toEqual(["a", "b"]);
    expect(types.get("a")).toMatchObject({ dataType: "bigint", unsigned: true, column: "ID" });
    expect(types.get("b")).toMatchObject({ maxLength: 5, collation: "utf8mb4_general_ci" });
    expect(columnKey(types.get("b") as KeyColumnType, "Alice")).toBe("alice");
    expect(sql).toHaveLength(3);
  });

  it("keeps lengths only where they count characters or bytes", () => {
    expect(
      keyColumnTypeOf(row("t", "k", "text", "text", 65535, "utf8mb4", "x_bin")).maxLength,
    ).toBe(null);
    expect(keyColumnTypeOf(row("t", "k", "varbinary", "varbinary(16)", 16)).maxLength).toBe(16);
  });
});

function row(
  tableName: string,
  columnName: string,
  dataType: string,
  columnType: string,
  maxLength: number | null = null,
  charset: string | null = null,
  collation: string | null = null,
) {
  return { tableName, columnName, dataType, columnType, maxLength, charset, collation };
}
