import { afterEach, describe, expect, it } from "vitest";
import { armFailpoint, disarmFailpoint, failpoint, parseFailpoint } from "./failpoints.js";

afterEach(() => disarmFailpoint());

describe("failpoints", () => {
  it.each([
    ["after-copy-chunk:3", { name: "after-copy-chunk", hit: 3 }],
    ["before-directory-switch", { name: "before-directory-switch", hit: 1 }],
    ["", null],
    [undefined, null],
  ])("read SHARDKIT_FAILPOINT=%j", (value, expected) => {
    expect(parseFailpoint(value)).toEqual(expected);
  });

  it.each(["after-copy", "after-freeze:0", "after-freeze:x", "after-freeze:1:2"])(
    "refuse %j naming every point",
    (value) => {
      expect(() => parseFailpoint(value)).toThrow(
        /names no failpoint; use <name>\[:<n>\] with a name of after-copy-chunk, .*after-cleanup-chunk and n >= 1/,
      );
    },
  );

  it("act on the n-th hit of the armed point only, once", () => {
    const error = new Error("stop");
    armFailpoint("after-freeze", 2, error);
    expect(() => failpoint("after-copy-chunk")).not.toThrow();
    expect(() => failpoint("after-freeze")).not.toThrow();
    expect(() => failpoint("after-freeze")).toThrow(error);
    expect(() => failpoint("after-freeze")).not.toThrow();
  });
});
