import { describe, expect, it } from "vitest";
import { describeError, FleetError, redact } from "./errors.js";

describe("redact", () => {
  it.each([
    ["mysql://root:pw@h:3306/db", "mysql://root:***@h:3306/db"],
    ["mysql://root@h:3306", "mysql://root@h:3306"],
    ["mysql://u:p%40ss@h", "mysql://u:***@h"],
    ["a mysql://a:x@h1,mysql://b:y@h2 b", "a mysql://a:***@h1,mysql://b:***@h2 b"],
    ["postgres://u:topsecret@h/x", "postgres://u:***@h/x"],
    ["no url here", "no url here"],
  ])("masks %s", (input, masked) => {
    expect(redact(input)).toBe(masked);
  });

  it("masks passwords in every FleetError message and described error", () => {
    expect(new FleetError("BAD_URL", "bad mysql://u:hunter2@h").message).toBe(
      "bad mysql://u:***@h",
    );
    expect(describeError(new Error("at mysql://u:hunter2@h"))).toBe("at mysql://u:***@h");
    expect(describeError("mysql://u:hunter2@h")).toBe("mysql://u:***@h");
  });
});
