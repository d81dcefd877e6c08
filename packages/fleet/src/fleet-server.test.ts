import { describe, expect, it } from "vitest";
import { newDatabaseName, serverUrl } from "./fleet-server.js";

describe("serverUrl", () => {
  it.each([
    [
      { host: "127.0.0.1", port: 3306, user: "root", password: "" },
      "",
      "mysql://root@127.0.0.1:3306",
    ],
    [{ host: "h", port: 1, user: "root", password: "" }, "db", "mysql://root@h:1/db"],
    [
      { host: "h", port: 1, user: "u@x", password: "p:w/@%" },
      "d",
      "mysql://u%40x:p%3Aw%2F%40%25@h:1/d",
    ],
    [{ host: "::1", port: 3306, user: "root", password: "" }, "", "mysql://root@[::1]:3306"],
  ])("builds a URL that parses back to the same address", (address, database, url) => {
    expect(serverUrl(address, database)).toBe(url);
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.username)).toBe(address.user);
    expect(decodeURIComponent(parsed.password)).toBe(address.password);
  });
});

describe("newDatabaseName", () => {
  it("makes distinct, valid identifiers from any prefix", () => {
    const names = Array.from({ length: 1000 }, () => newDatabaseName("s1"));
    expect(new Set(names).size).toBe(1000);
    expect(names.every((n) => /^sk_s1_[0-9a-f]{12}$/.test(n))).toBe(true);
    expect(newDatabaseName("we`ird; DROP")).toMatch(/^sk_we_ird__DROP_[0-9a-f]{12}$/);
    expect(newDatabaseName("x".repeat(100)).length).toBeLessThanOrEqual(64);
    expect(newDatabaseName("")).toMatch(/^sk_db_/);
    expect(newDatabaseName()).toMatch(/^sk_db_/);
  });
});
