import { describe, expect, it } from "vitest";
import { wrapMysqlError } from "../mysql/sql-connection.js";
import {
  ERROR_CATEGORIES,
  ERROR_CODES,
  errorCategory,
  isErrorCode,
  isRetryable,
} from "./error-codes.js";

const codes = Object.keys(ERROR_CODES);

describe("error codes", () => {
  it("gives every code one of the categories", () => {
    expect(codes.length).toBeGreaterThan(30);
    for (const code of codes) {
      expect(ERROR_CATEGORIES, code).toContain(ERROR_CODES[code as keyof typeof ERROR_CODES]);
    }
  });

  it("names codes in upper snake case, each once", () => {
    for (const code of codes) expect(code).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it.each([
    ["BAD_ARGUMENT", "usage", false],
    ["UNKNOWN_SHARD", "not_found", false],
    ["NAME_CLASH", "conflict", false],
    ["KEY_HAS_ROWS", "conflict", false],
    ["UNKNOWN_KEY_FUNCTION", "conflict", false],
    ["SHARD_UNAVAILABLE", "unavailable", true],
    ["DIRECTORY_UNAVAILABLE", "unavailable", true],
    ["MYSQL_UNAVAILABLE", "unavailable", true],
    ["MYSQL_ERROR", "query", false],
    ["COVERAGE_BROKEN", "internal", false],
    ["UNKNOWN_MOVE", "not_found", false],
    ["MOVE_LEASED", "conflict", false],
    ["MOVE_STATE", "conflict", false],
    ["SHARD_BUSY", "conflict", false],
  ])("%s is %s, retryable: %s", (code, category, retryable) => {
    expect(isErrorCode(code)).toBe(true);
    expect(errorCategory(code)).toBe(category);
    expect(isRetryable(code)).toBe(retryable);
  });

  it.each(["SHARD_UNREACHABLE", "bad_argument", "", undefined, 42])(
    "treats %j as no code: internal, never retried",
    (code) => {
      expect(isErrorCode(code)).toBe(false);
      expect(errorCategory(code)).toBe("internal");
      expect(isRetryable(code)).toBe(false);
    },
  );

  it("retries exactly the unavailable category", () => {
    const retryable = codes.filter(isRetryable).sort();
    expect(retryable).toEqual(codes.filter((c) => errorCategory(c) === "unavailable").sort());
    expect(retryable).toContain("SHARD_UNAVAILABLE");
  });
});

describe("wrapMysqlError", () => {
  const where = "mysql://root:***@db:3306/app";

  it("makes a refused connection MYSQL_UNAVAILABLE (retryable) and hides the password", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED s3cret@db:3306"), {
      code: "ECONNREFUSED",
      errno: -111,
    });
    const error = wrapMysqlError(refused, where, undefined, "s3cret");
    expect(error).toMatchObject({ code: "MYSQL_UNAVAILABLE", mysqlCode: "ECONNREFUSED" });
    expect(error.errno).toBe(-111);
    expect(isRetryable(error.code)).toBe(true);
    expect(error.message).not.toContain("s3cret");
    expect(error.cause).toBe(refused);
  });

  it("makes a statement the server rejected MYSQL_ERROR, with the statement", () => {
    const rejected = Object.assign(new Error("Table 'app.nope' doesn't exist"), {
      code: "ER_NO_SUCH_TABLE",
      errno: 1146,
    });
    const error = wrapMysqlError(rejected, where, "SELECT * FROM nope");
    expect(error).toMatchObject({
      code: "MYSQL_ERROR",
      mysqlCode: "ER_NO_SUCH_TABLE",
      errno: 1146,
    });
    expect(errorCategory(error.code)).toBe("query");
    expect(error.details).toEqual({ server: where, sql: "SELECT * FROM nope" });
  });
});
