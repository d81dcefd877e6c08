import { describe, expect, it } from "vitest";
import { splitStatements } from "./sql-statements.js";

describe("splitStatements", () => {
  it.each([
    ["one statement without a semicolon", "ALTER TABLE a ADD c INT", ["ALTER TABLE a ADD c INT"]],
    [
      "two statements",
      "CREATE TABLE a (x INT);\nALTER TABLE a ADD y INT;\n",
      ["CREATE TABLE a (x INT)", "ALTER TABLE a ADD y INT"],
    ],
    ["a semicolon in a string", "INSERT INTO a VALUES ('x;y');", ["INSERT INTO a VALUES ('x;y')"]],
    [
      "an escaped quote",
      "INSERT INTO a VALUES ('it\\'s;'), ('a''b;')",
      ["INSERT INTO a VALUES ('it\\'s;'), ('a''b;')"],
    ],
    [
      "a semicolon in a backticked name",
      "CREATE TABLE `a;b` (x INT);",
      ["CREATE TABLE `a;b` (x INT)"],
    ],
    [
      "comments",
      "-- first; still a comment\nCREATE TABLE a (x INT); /* b; */\n# c;\n",
      ["-- first; still a comment\nCREATE TABLE a (x INT)"],
    ],
    ["only comments and blanks", "-- nothing\n;\n  ;", []],
  ])("%s", (_, text, expected) => {
    expect(splitStatements(text)).toEqual(expected);
  });

  it("refuses DELIMITER", () => {
    expect(() => splitStatements("DELIMITER //\nCREATE TRIGGER t ...//")).toThrow(/DELIMITER/);
  });
});
