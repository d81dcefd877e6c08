import { DirectoryError, ShardkitError } from "@shardkit/directory";
import { describe, expect, it } from "vitest";
import { formatTable, renderError, renderResult, type TableResult } from "./output.js";

const table: TableResult = {
  kind: "table",
  rows: [
    { range: "-40", shard: "s1", pinned: false, note: undefined },
    { range: "40-80", shard: "eu-west-2", pinned: true, note: "moving" },
  ],
  columns: ["range", "shard", "pinned", "note"],
  empty: "no ranges yet",
};

describe("renderResult", () => {
  it("prints rows as an aligned table with upper-case headers, yes/no and blanks", () => {
    expect(renderResult(table, false)).toBe(
      [
        "RANGE  SHARD      PINNED  NOTE",
        "-40    s1         no",
        "40-80  eu-west-2  yes     moving",
        "",
      ].join("\n"),
    );
  });

  it("prints rows as one JSON array with --json, every field included", () => {
    const out = renderResult(table, true);
    expect(out.endsWith("}\n]\n")).toBe(true);
    expect(JSON.parse(out)).toEqual([
      { range: "-40", shard: "s1", pinned: false },
      { range: "40-80", shard: "eu-west-2", pinned: true, note: "moving" },
    ]);
  });

  it("prints the empty line for no rows, and [] with --json", () => {
    const none = { ...table, rows: [] };
    expect(renderResult(none, false)).toBe("no ranges yet\n");
    expect(renderResult({ ...none, empty: "" }, false)).toBe("");
    expect(JSON.parse(renderResult(none, true))).toEqual([]);
  });

  it("prints a report as its sentence, or its data as one JSON object", () => {
    const report = {
      kind: "report" as const,
      text: "split -40 into -20 and 20-40; directory version 7",
      data: { ranges: ["-20", "20-40"], version: 7, big: 2n ** 64n },
    };
    expect(renderResult(report, false)).toBe(`${report.text}\n`);
    expect(JSON.parse(renderResult(report, true))).toEqual({
      ranges: ["-20", "20-40"],
      version: 7,
      big: "18446744073709551616",
    });
  });
});

describe("renderError", () => {
  const error = new DirectoryError(
    "UNKNOWN_SHARD",
    'unknown shard "s9" at mysql://qa:Pw@:/x1@127.0.0.1:3306/app\n  (listed: s1); add it first',
    { details: { shard: "s9", url: "mysql://qa:Pw@:/x1@127.0.0.1/app" } },
  );

  it("prints one masked line on stderr and nothing on stdout", () => {
    expect(renderError(error, false)).toEqual({
      stdout: "",
      stderr:
        'shardkit: unknown shard "s9" at mysql://qa:***@127.0.0.1:3306/app (listed: s1); add it first\n',
    });
  });

  it("with --json also prints one document with the code, the same line and masked details", () => {
    const printed = renderError(error, true);
    expect(JSON.parse(printed.stdout)).toEqual({
      error: {
        code: "UNKNOWN_SHARD",
        message:
          'unknown shard "s9" at mysql://qa:***@127.0.0.1:3306/app (listed: s1); add it first',
        details: { shard: "s9", url: "mysql://qa:***@127.0.0.1/app" },
      },
    });
    expect(printed.stdout + printed.stderr).not.toMatch(/Pw@|x1@/);
    expect(printed.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("reports an error that is not shardkit's as INTERNAL, without details", () => {
    expect(JSON.parse(renderError(new TypeError("x is undefined"), true).stdout)).toEqual({
      error: { code: "INTERNAL", message: "x is undefined" },
    });
    expect(JSON.parse(renderError(new ShardkitError("BAD_URL", "bad"), true).stdout)).toEqual({
      error: { code: "BAD_URL", message: "bad" },
    });
  });
});

describe("formatTable", () => {
  it("pads every column but the last and trims trailing spaces", () => {
    expect(formatTable(["A", "LONG HEADER"], [["wide cell", ""]])).toBe(
      "A          LONG HEADER\nwide cell\n",
    );
  });
});
