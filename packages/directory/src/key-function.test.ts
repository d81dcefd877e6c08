import { readFileSync } from "node:fs";
import murmurhash from "murmurhash";
import { describe, expect, it } from "vitest";
import { ShardKeyError } from "./errors.js";
import {
  canonicalKeyBytes,
  canonicalKeyString,
  getKeyFunction,
  hashKeyFunction,
  identityKeyFunction,
  isKeyFunctionName,
  parseKeyArgument,
} from "./key-function.js";

/** MurmurHash3 x86_32 written from the published algorithm, to check vectors independently. */
function referenceMurmur3(bytes: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = bytes.length >> 2;
  for (let i = 0; i < blocks; i++) {
    const o = i * 4;
    let k =
      (bytes[o] ?? 0) |
      ((bytes[o + 1] ?? 0) << 8) |
      ((bytes[o + 2] ?? 0) << 16) |
      ((bytes[o + 3] ?? 0) << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const t = blocks * 4;
  const rest = bytes.length & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= (bytes[t + 2] ?? 0) << 16;
    if (rest >= 2) k ^= (bytes[t + 1] ?? 0) << 8;
    k ^= bytes[t] ?? 0;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

interface Vector {
  type: string;
  value: string;
  bytes: string;
  ksid: string;
}

function vectorsFromDocs(): Vector[] {
  const doc = readFileSync(new URL("../../../docs/keyspace.md", import.meta.url), "utf8");
  const section = doc.split("## Test vectors")[1] ?? "";
  return section
    .split("\n")
    .filter((l) => /^\|\s*(integer|bigint|string|bytes)\s*\|/.test(l))
    .map((l) => {
      const [type = "", value = "", bytes = "", ksid = ""] = l
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim());
      return { type, value, bytes, ksid };
    });
}

function keyOf(v: Vector): unknown {
  switch (v.type) {
    case "integer":
      return Number(v.value);
    case "bigint":
      return BigInt(v.value);
    case "string":
      return JSON.parse(v.value) as string;
    default:
      return Buffer.from(v.value, "hex");
  }
}

describe("test vectors in docs/keyspace.md", () => {
  const vectors = vectorsFromDocs();

  it("has at least 12 vectors of every kind", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(12);
    expect(new Set(vectors.map((v) => v.type))).toEqual(
      new Set(["integer", "bigint", "string", "bytes"]),
    );
  });

  it.each(vectorsFromDocs().map((v) => [`${v.type} ${v.value}`, v] as const))("%s", (_name, v) => {
    const key = keyOf(v);
    const bytes = canonicalKeyBytes(key);
    expect(Buffer.from(bytes).toString("hex")).toBe(v.bytes);
    expect(hashKeyFunction.ksid(key).toString(16).padStart(8, "0")).toBe(v.ksid);
    expect(referenceMurmur3(bytes).toString(16).padStart(8, "0")).toBe(v.ksid);
  });

  it("agrees with published MurmurHash3 values", () => {
    expect(hashKeyFunction.ksid("hello")).toBe(0x248bfa47);
    expect(hashKeyFunction.ksid("The quick brown fox jumps over the lazy dog")).toBe(0x2e4ff723);
    expect(hashKeyFunction.ksid("")).toBe(0);
  });
});

describe("hash key function", () => {
  it("matches the murmurhash package and the reference over random keys of every length", () => {
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.from(
        Array.from({ length: i % 67 }, () => Math.floor(Math.random() * 256)),
      );
      const expected = murmurhash.v3(new Uint8Array(bytes), 0);
      expect(hashKeyFunction.ksid(bytes)).toBe(expected);
      expect(referenceMurmur3(bytes)).toBe(expected);
    }
  });

  it("hashes a number, its bigint, its string and its bytes alike", () => {
    for (const n of [0, 7, -7, 123456789, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      const ksid = hashKeyFunction.ksid(n);
      expect(hashKeyFunction.ksid(BigInt(n))).toBe(ksid);
      expect(hashKeyFunction.ksid(String(n))).toBe(ksid);
      expect(hashKeyFunction.ksid(Buffer.from(String(n)))).toBe(ksid);
    }
    expect(hashKeyFunction.ksid(-0)).toBe(hashKeyFunction.ksid(0));
  });

  it("does not let a long key leak into the next one (reused buffer)", () => {
    const long = "x".repeat(10_000);
    const a = hashKeyFunction.ksid(long);
    expect(hashKeyFunction.ksid("x")).toBe(referenceMurmur3(Buffer.from("x")));
    expect(hashKeyFunction.ksid(long)).toBe(a);
  });

  it.each([
    [null, /null/],
    [undefined, /undefined/],
    [Number.NaN, /not an integer/],
    [Number.POSITIVE_INFINITY, /not an integer/],
    [1.5, /not an integer/],
    [2 ** 53, /bigint or a string/],
    [true, /boolean/],
    [{}, /object/],
    [[1], /array/],
    [Symbol("k"), /symbol/],
  ])("rejects %s", (key, why) => {
    expect(() => hashKeyFunction.ksid(key)).toThrow(ShardKeyError);
    expect(() => hashKeyFunction.ksid(key)).toThrow(why);
  });

  it("maps a batch, turning bad keys into error entries in place", () => {
    const out = hashKeyFunction.map([1, null, "a", 1.5, 2n]);
    expect(out).toHaveLength(5);
    expect(out[0]).toBe(hashKeyFunction.ksid(1));
    expect(out[1]).toBeInstanceOf(ShardKeyError);
    expect(out[2]).toBe(hashKeyFunction.ksid("a"));
    expect(out[3]).toBeInstanceOf(ShardKeyError);
    expect(out[4]).toBe(hashKeyFunction.ksid(2));
    expect(hashKeyFunction.map([])).toEqual([]);
  });
});

describe("identity key function", () => {
  it.each([
    [0, 0],
    [1, 1],
    [0xffffffff, 0xffffffff],
    [5n, 5],
    ["4294967295", 0xffffffff],
    ["0", 0],
  ])("maps %s to %d", (key, ksid) => {
    expect(identityKeyFunction.ksid(key)).toBe(ksid);
  });

  it.each([
    -1,
    2 ** 32,
    1.5,
    -1n,
    2n ** 32n,
    "abc",
    "-1",
    "01",
    "4294967296",
    null,
    Buffer.from([1]),
  ])("rejects %s", (key) => {
    expect(() => identityKeyFunction.ksid(key)).toThrow(
      /identity key function needs an integer key from 0 to 4294967295/,
    );
  });

  it("maps a batch with errors in place", () => {
    const out = identityKeyFunction.map([3, -3, 4]);
    expect(out[0]).toBe(3);
    expect(out[1]).toBeInstanceOf(ShardKeyError);
    expect(out[2]).toBe(4);
  });
});

describe("key helpers", () => {
  it("gives one canonical identity to 7, 7n, '7' and the byte '7'", () => {
    const id = canonicalKeyString(7);
    expect(canonicalKeyString(7n)).toBe(id);
    expect(canonicalKeyString("7")).toBe(id);
    expect(canonicalKeyString(Buffer.from("7"))).toBe(id);
    expect(canonicalKeyString("8")).not.toBe(id);
    expect(canonicalKeyString("é")).not.toBe(canonicalKeyString(Buffer.from([0xe9])));
  });

  it("returns a fresh copy of canonical bytes", () => {
    const a = canonicalKeyBytes("abc");
    canonicalKeyBytes("zzz");
    expect(Buffer.from(a).toString()).toBe("abc");
  });

  it("reads command-line keys", () => {
    expect(parseKeyArgument("42")).toBe(42);
    expect(parseKeyArgument("-7")).toBe(-7);
    expect(parseKeyArgument("18446744073709551616")).toBe(18446744073709551616n);
    expect(parseKeyArgument("007")).toBe("007");
    expect(parseKeyArgument("alice")).toBe("alice");
    expect(parseKeyArgument("")).toBe("");
  });

  it("names the key functions", () => {
    expect(isKeyFunctionName("hash")).toBe(true);
    expect(isKeyFunctionName("modulo")).toBe(false);
    expect(getKeyFunction("identity")).toBe(identityKeyFunction);
    expect(() => getKeyFunction("modulo" as never)).toThrow(/use one of: hash, identity/);
  });
});
