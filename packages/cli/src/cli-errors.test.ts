import {
  ERROR_CATEGORIES,
  ERROR_CODES,
  type ErrorCode,
  errorCategory,
  ShardkitError,
} from "@shardkit/directory";
import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { EXIT_STATUS, errorCodeOf, errorLine, exitStatusFor, UsageError } from "./cli-errors.js";

describe("exit status", () => {
  it("gives each category its own documented status", () => {
    expect(EXIT_STATUS).toEqual({
      internal: 1,
      usage: 2,
      not_found: 3,
      conflict: 4,
      unavailable: 5,
      query: 6,
    });
    expect(new Set(ERROR_CATEGORIES.map((c) => EXIT_STATUS[c])).size).toBe(ERROR_CATEGORIES.length);
  });

  it.each(Object.keys(ERROR_CODES) as ErrorCode[])("follows the category of %s", (code) => {
    expect(exitStatusFor(new ShardkitError(code, "m"))).toBe(EXIT_STATUS[errorCategory(code)]);
  });

  it.each([
    ["a refused key range", new ShardkitError("BAD_KEY_RANGE", "m"), 2],
    ["an unknown shard", new ShardkitError("UNKNOWN_SHARD", "m"), 3],
    ["a layout made twice", new ShardkitError("LAYOUT_EXISTS", "m"), 4],
    ["an unreachable directory", new ShardkitError("DIRECTORY_UNAVAILABLE", "m"), 5],
    ["a statement MySQL refused", new ShardkitError("MYSQL_ERROR", "m"), 6],
    ["a broken invariant", new ShardkitError("COVERAGE_BROKEN", "m"), 1],
    ["a bad config", new UsageError("BAD_CONFIG", "m"), 2],
    ["commander's complaint", new CommanderError(1, "commander.unknownOption", "m"), 2],
    ["a bug", new TypeError("m"), 1],
    ["a thrown string", "m", 1],
  ])("is right for %s", (_what, error, status) => {
    expect(exitStatusFor(error)).toBe(status);
  });

  it("reports commander's errors as USAGE and anything foreign as INTERNAL", () => {
    expect(errorCodeOf(new CommanderError(1, "commander.missingArgument", "m"))).toBe("USAGE");
    expect(errorCodeOf(new RangeError("m"))).toBe("INTERNAL");
    expect(errorCodeOf(new UsageError("USAGE", "m"))).toBe("USAGE");
  });
});

describe("errorLine", () => {
  it("joins lines and masks every URL password", () => {
    expect(
      errorLine(new Error("cannot reach mysql://a:p@ss@h:1/d\n   then mysql://b:q/w@h2/e\r\n")),
    ).toBe("cannot reach mysql://a:***@h:1/d then mysql://b:***@h2/e");
    expect(errorLine("plain")).toBe("plain");
  });
});
