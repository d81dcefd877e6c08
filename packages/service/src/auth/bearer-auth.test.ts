import { describe, expect, it } from "vitest";
import { bearerToken, isLoopbackHost, tokenChecker, tokensMatch } from "./bearer-auth.js";

describe("tokensMatch", () => {
  it("matches only the same token", () => {
    expect(tokensMatch("abc", "abc")).toBe(true);
    for (const other of ["abd", "ab", "abcd", "", "ABC"])
      expect(tokensMatch(other, "abc")).toBe(false);
  });

  it("tells apart tokens that share a prefix, a padding of zero bytes or their first 256 bytes", () => {
    const token = "k".repeat(200);
    expect(tokensMatch(token, token)).toBe(true);
    expect(tokensMatch("abc\u0000", "abc")).toBe(false);
    expect(tokensMatch("abc", "abc\u0000")).toBe(false);
    expect(tokensMatch("é", "é")).toBe(true);
    expect(tokensMatch("e", "é")).toBe(false);
    const slot = "s".repeat(256);
    expect(tokensMatch(slot, slot)).toBe(true);
    expect(tokensMatch(`${slot}x`, slot)).toBe(false);
    expect(tokensMatch(slot, `${slot}x`)).toBe(false);
    expect(tokensMatch(`${slot}x`, `${slot}x`)).toBe(true);
    expect(tokensMatch(`${slot}y`, `${slot}x`)).toBe(false);
    for (const expected of ["abc", slot, `${slot}x`]) {
      const check = tokenChecker(expected);
      // The slot is reused: a wrong token between two right ones changes nothing.
      expect([check(expected), check("nope"), check(expected)]).toEqual([true, false, true]);
    }
  });

  it("takes as long for a near miss as for a token wrong from its first character", () => {
    // With a long token an early-exit comparison would be thousands of times faster for a
    // token wrong at its first character than for one wrong at its last.
    const token = "t".repeat(64 * 1024);
    const nearMiss = `${token.slice(0, -1)}u`;
    const farMiss = `u${token.slice(1)}`;
    const time = (given: string) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 200; i++) tokensMatch(given, token);
      return Number(process.hrtime.bigint() - t0);
    };
    const near: number[] = [];
    const far: number[] = [];
    for (let round = 0; round < 7; round++) {
      near.push(time(nearMiss));
      far.push(time(farMiss));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[3] as number;
    const ratio = median(near) / median(far);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});

describe("bearerToken", () => {
  it("reads Authorization: Bearer <token>", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer  abc ")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken("Bearer")).toBeUndefined();
    expect(bearerToken("Bearer a b")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe("isLoopbackHost", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.5", false],
    ["example.com", false],
  ])("%s is loopback: %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
