// One file: the key functions' table-driven cases and the test vectors of docs/keyspace.md, read
// from the document itself, so a change to either is checked against both.
import { readFileSync } from "node:fs";
import murmurhash from "murmurhash";
import { describe, expect, it } from "vitest";
import { ShardKeyError, ShardkitError } from "./errors/shardkit-error.js";
import { murmur3X86_32 } from "./key-function/murmur3.js";
import {
  canonicalKeyBytes,
  canonicalKeyString,
  getKeyFunction,
  hashKeyFunction,
  identityKeyFunction,
  isKeyFunctionName,
  KEY_FUNCTION_NAMES,
  parseKeyArgument,
} from "./key-function.js";
import { seededRandom } from "./testing/random.js";
import { thrownBy } from "./testing/thrown.js";

// The murmurhash package is the reference: an implementation of MurmurHash3 x86_32 that
// shares no code with ours. Its own string path encodes with TextEncoder.
const reference = (bytes: Uint8Array | string): number => murmurhash.v3(bytes, 0);
const hex8 = (n: number): string => n.toString(16).padStart(8, "0");

const random = seededRandom;

/** The ShardKeyError `fn` throws (fails the test when it throws nothing or something else). */
function shardKeyErrorOf(fn: () => unknown): ShardKeyError {
  return thrownBy(fn, ShardKeyError, "BAD_SHARD_KEY");
}

interface Vector {
  readonly type: "integer" | "bigint" | "string" | "bytes";
  readonly value: string;
  readonly bytes: string;
  readonly ksid: string;
}

/** The rows of the "Test vectors" table in docs/keyspace.md. */
function vectorsFromDocs(): Vector[] {
  const doc = readFileSync(new URL("../../../docs/keyspace.md", import.meta.url), "utf8");
  const section = doc.split("\n## Test vectors\n")[1];
  if (section === undefined) throw new Error('docs/keyspace.md has no "## Test vectors" section');
  const rows = section.split("\n").filter((line) => line.startsWith("|"));
  const [header, rule, ...body] = rows;
  expect(header?.split("|").map((c) => c.trim())).toEqual([
    "",
    "type",
    "value",
    "canonical bytes (hex)",
    "ksid (hex)",
    "",
  ]);
  expect(rule).toMatch(/^\|[\s|-]+\|$/);
  return body.map((line) => {
    const [type = "", value = "", bytes = "", ksid = ""] = line
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
    expect(["integer", "bigint", "string", "bytes"]).toContain(type);
    return { type: type as Vector["type"], value, bytes, ksid };
  });
}

/** The key a vector describes, as an application would pass it. */
function keyOf(v: Vector): unknown {
  switch (v.type) {
    case "integer":
      return Number(v.value);
    case "bigint":
      return BigInt(v.value);
    case "string":
      return JSON.parse(v.value) as string;
    case "bytes":
      return new Uint8Array(Buffer.from(v.value, "hex"));
  }
}

/** The canonical bytes of a vector's key, derived from the rules in docs/keyspace.md. */
function bytesBySpec(v: Vector): Buffer {
  switch (v.type) {
    case "integer":
    case "bigint":
      return Buffer.from(v.value, "ascii");
    case "string":
      return Buffer.from(JSON.parse(v.value) as string, "utf8");
    case "bytes":
      return Buffer.from(v.value, "hex");
  }
}

describe("the test vectors in docs/keyspace.md", () => {
  const vectors = vectorsFromDocs();

  it("cover every kind of key the page describes", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(12);
    const keys = vectors.map(keyOf);
    const has = (test: (key: unknown) => boolean) => expect(keys.some(test)).toBe(true);
    has((k) => typeof k === "number" && k >= 0 && k < 100);
    has((k) => typeof k === "number" && k < 0);
    has((k) => typeof k === "number" && k > 2 ** 32);
    has((k) => typeof k === "bigint" && k > BigInt(Number.MAX_SAFE_INTEGER));
    has((k) => typeof k === "bigint" && k < 0n);
    has((k) => k === "");
    has((k) => typeof k === "string" && /^[\x20-\x7e]+$/.test(k));
    has((k) => typeof k === "string" && /[\u0080-\uffff]/.test(k));
    has((k) => typeof k === "string" && /\p{Extended_Pictographic}/u.test(k));
    has((k) => k instanceof Uint8Array && k.length > 0);
    has((k) => k instanceof Uint8Array && k.length === 0);
    for (const v of vectors) expect(v.ksid).toMatch(/^[0-9a-f]{8}$/);
  });

  it.each(vectors.map((v) => [`${v.type} ${v.value || "(empty)"}`, v] as const))(
    "%s",
    (_name, v) => {
      const key = keyOf(v);
      expect(Buffer.from(canonicalKeyBytes(key)).toString("hex")).toBe(v.bytes);
      expect(bytesBySpec(v).toString("hex")).toBe(v.bytes);
      expect(hex8(reference(new Uint8Array(bytesBySpec(v))))).toBe(v.ksid);
      expect(hex8(hashKeyFunction.ksid(key))).toBe(v.ksid);
      expect(hashKeyFunction.map([key]).map((k) => hex8(k as number))).toEqual([v.ksid]);
    },
  );
});

describe("MurmurHash3 x86_32", () => {
  it.each([
    ["", 0x00000000],
    ["a", 0x3c2569b2],
    ["hello", 0x248bfa47],
    ["The quick brown fox jumps over the lazy dog", 0x2e4ff723],
  ])("has the published value for %j", (text, expected) => {
    expect(hashKeyFunction.ksid(text)).toBe(expected);
    expect(reference(text)).toBe(expected);
  });

  it("matches the reference over random bytes of every length from 0 to 100, and any seed", () => {
    const next = random(7);
    const buffer = new Uint8Array(128);
    for (let i = 0; i < 5000; i++) {
      const length = i % 101;
      for (let j = 0; j < buffer.length; j++) buffer[j] = Math.floor(next() * 256);
      const bytes = buffer.slice(0, length);
      const seed = i % 5 === 0 ? Math.floor(next() * 0x1_0000_0000) : 0;
      // Only the first `length` bytes count, whatever follows them in the buffer.
      expect(murmur3X86_32(buffer, length, seed)).toBe(murmurhash.v3(bytes, seed));
      expect(hashKeyFunction.ksid(bytes)).toBe(reference(bytes));
    }
  });
});

describe("the hash key function", () => {
  it("hashes random safe integers and bigints as their decimal digits", () => {
    const next = random(11);
    for (let i = 0; i < 5000; i++) {
      const magnitude = 2 ** Math.floor(next() * 54);
      const n = Math.min(Math.floor(next() * magnitude), Number.MAX_SAFE_INTEGER);
      const key = next() < 0.5 ? -n : n;
      const expected = reference(String(key));
      expect(hashKeyFunction.ksid(key)).toBe(expected);
      expect(hashKeyFunction.ksid(BigInt(key))).toBe(expected);
    }
  });

  it("hashes random strings, ASCII or not, as their UTF-8 bytes", () => {
    const next = random(13);
    const alphabet = ["a", "Z", "0", ":", "é", "ß", "東", "京", "🚀", "\u0301", "\ud800", "\udfff"];
    for (let i = 0; i < 5000; i++) {
      let text = "";
      const length = Math.floor(next() * 40);
      const ascii = next() < 0.5;
      for (let j = 0; j < length; j++) {
        text += alphabet[Math.floor(next() * (ascii ? 4 : alphabet.length))];
      }
      expect(hashKeyFunction.ksid(text)).toBe(reference(text));
      expect(hashKeyFunction.ksid(text)).toBe(reference(new Uint8Array(Buffer.from(text))));
    }
  });

  it.each([
    0,
    7,
    -7,
    10,
    123456789,
    2 ** 31,
    -(2 ** 31),
    2 ** 32,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
  ])("hashes %d, its bigint, its string and its bytes alike", (n) => {
    const ksid = hashKeyFunction.ksid(n);
    expect(ksid).toBe(reference(String(n)));
    expect(hashKeyFunction.ksid(BigInt(n))).toBe(ksid);
    expect(hashKeyFunction.ksid(String(n))).toBe(ksid);
    expect(hashKeyFunction.ksid(Buffer.from(String(n)))).toBe(ksid);
    expect(hashKeyFunction.ksid(new Uint8Array(Buffer.from(String(n))))).toBe(ksid);
  });

  it("hashes -0 as 0 and returns unsigned 32-bit numbers", () => {
    expect(hashKeyFunction.ksid(-0)).toBe(hashKeyFunction.ksid(0));
    for (const key of ["hello", "a", 0, "東京"]) {
      const ksid = hashKeyFunction.ksid(key);
      expect(Number.isInteger(ksid) && ksid >= 0 && ksid <= 0xffffffff).toBe(true);
    }
    // 0xd271c07f has the top bit set: a signed result would be negative.
    expect(hashKeyFunction.ksid(0)).toBe(0xd271c07f);
  });

  it("keeps keys apart when one buffer is reused for all of them", () => {
    const long = `${"x".repeat(10_000)}é`;
    const longKsid = reference(long);
    expect(hashKeyFunction.ksid(long)).toBe(longKsid);
    expect(hashKeyFunction.ksid("x")).toBe(reference("x"));
    expect(hashKeyFunction.ksid(-123)).toBe(reference("-123"));
    expect(hashKeyFunction.ksid("abcé")).toBe(reference("abcé"));
    expect(hashKeyFunction.ksid(Buffer.alloc(20_000, 1))).toBe(
      reference(new Uint8Array(20_000).fill(1)),
    );
    expect(hashKeyFunction.ksid(long)).toBe(longKsid);
  });

  it.each([
    [null, /shard key is null; pass an integer, a bigint, a string or bytes/],
    [undefined, /shard key is undefined; pass/],
    [Number.NaN, /shard key NaN is not an integer; pass/],
    [Number.POSITIVE_INFINITY, /shard key Infinity is not an integer/],
    [Number.NEGATIVE_INFINITY, /shard key -Infinity is not an integer/],
    [1.5, /shard key 1.5 is not an integer/],
    [2 ** 53, /shard key 9007199254740992 is beyond 2\^53 - 1.*pass it as a bigint or a string/],
    [-(2 ** 60), /is beyond 2\^53 - 1/],
    [true, /shard key is the boolean true; pass/],
    [{}, /shard key is an object \(Object\); pass/],
    [new Date(0), /an object \(Date\)/],
    [Object.create(null), /an object \(no prototype\)/],
    [[1], /shard key is an array; pass/],
    [Symbol("k"), /shard key is a symbol; pass/],
    [() => 1, /shard key is a function; pass/],
  ])("refuses %s", (key, why) => {
    expect(shardKeyErrorOf(() => hashKeyFunction.ksid(key)).message).toMatch(why);
  });

  it("maps a batch to results of the same length, bad keys as errors in their place", () => {
    const keys = [1, null, "a", 1.5, 2n, Buffer.from("b"), undefined, 2 ** 53];
    const out = hashKeyFunction.map(keys);
    expect(out).toHaveLength(keys.length);
    expect(out[0]).toBe(reference("1"));
    expect(out[2]).toBe(reference("a"));
    expect(out[4]).toBe(reference("2"));
    expect(out[5]).toBe(reference("b"));
    for (const i of [1, 3, 6, 7]) {
      expect(out[i]).toBeInstanceOf(ShardKeyError);
      expect((out[i] as ShardKeyError).code).toBe("BAD_SHARD_KEY");
    }
    expect(hashKeyFunction.map([])).toEqual([]);
  });

  it("works when its methods are passed around on their own", () => {
    const { map, ksid } = hashKeyFunction;
    expect(ksid("hello")).toBe(0x248bfa47);
    expect(map(["hello"])).toEqual([0x248bfa47]);
    expect(["hello", "a"].map((k) => ksid(k))).toEqual([0x248bfa47, 0x3c2569b2]);
  });
});

describe("the identity key function", () => {
  it.each([
    [0, 0],
    [1, 1],
    [-0, 0],
    [0xffffffff, 0xffffffff],
    [0n, 0],
    [5n, 5],
    [0xffffffffn, 0xffffffff],
    ["0", 0],
    ["42", 42],
    ["4294967295", 0xffffffff],
  ])("maps %s to %d", (key, ksid) => {
    expect(Object.is(identityKeyFunction.ksid(key), ksid)).toBe(true);
  });

  it.each([
    [-1, "-1"],
    [2 ** 32, "4294967296"],
    [1.5, "1.5"],
    [Number.NaN, "NaN"],
    [-1n, "-1n"],
    [2n ** 32n, "4294967296n"],
    ["abc", '"abc"'],
    ["-1", '"-1"'],
    ["01", '"01"'],
    [" 1", '" 1"'],
    ["1e3", '"1e3"'],
    ["4294967296", '"4294967296"'],
    ["", '""'],
    [null, "null"],
    [undefined, "undefined"],
    [Buffer.from([1]), "1 bytes"],
    [true, "the boolean true"],
  ])("refuses %s", (key, shown) => {
    const error = shardKeyErrorOf(() => identityKeyFunction.ksid(key));
    expect(error.message).toBe(
      `the identity key function needs an integer from 0 to 4294967295 (a number, bigint or decimal string), got ${shown}; pass such an id, or shard the table with the hash key function`,
    );
  });

  it("maps a batch with errors in place", () => {
    const out = identityKeyFunction.map([3, -3, "4", 2 ** 32, 5n]);
    expect(out).toHaveLength(5);
    expect(out[0]).toBe(3);
    expect(out[1]).toBeInstanceOf(ShardKeyError);
    expect(out[2]).toBe(4);
    expect(out[3]).toBeInstanceOf(ShardKeyError);
    expect(out[4]).toBe(5);
  });
});

describe("canonical keys", () => {
  it.each([
    [7, 7n, "7", Buffer.from("7")],
    [-42, -42n, "-42", new Uint8Array([0x2d, 0x34, 0x32])],
    [
      Number.MAX_SAFE_INTEGER,
      9007199254740991n,
      "9007199254740991",
      Buffer.from("9007199254740991"),
    ],
  ])("gives %s, its bigint, its string and its bytes one identity", (n, big, text, bytes) => {
    const id = canonicalKeyString(n);
    expect(canonicalKeyString(big)).toBe(id);
    expect(canonicalKeyString(text)).toBe(id);
    expect(canonicalKeyString(bytes)).toBe(id);
    expect(id).toBe(text);
  });

  it("keeps different keys apart", () => {
    const ids = ["7", "8", "07", "-0", "é", "e\u0301", "", " 7", "东"].map(canonicalKeyString);
    expect(new Set(ids).size).toBe(ids.length);
    expect(canonicalKeyString("é")).toBe(canonicalKeyString(Buffer.from([0xc3, 0xa9])));
    expect(canonicalKeyString("é")).not.toBe(canonicalKeyString(Buffer.from([0xe9])));
    expect(canonicalKeyString(-0)).toBe(canonicalKeyString(0));
  });

  it("returns canonical bytes as a fresh copy", () => {
    const a = canonicalKeyBytes("abc");
    canonicalKeyBytes("zzz");
    expect(Buffer.from(a).toString()).toBe("abc");
    const input = new Uint8Array([1, 2, 3]);
    const copy = canonicalKeyBytes(input);
    copy[0] = 9;
    expect(input[0]).toBe(1);
  });

  it.each([null, undefined, 1.5, 2 ** 53, true, {}])("refuses %s", (key) => {
    shardKeyErrorOf(() => canonicalKeyBytes(key));
    shardKeyErrorOf(() => canonicalKeyString(key));
  });
});

describe("parseKeyArgument", () => {
  it.each([
    ["123", 123],
    ["-7", -7],
    ["0", 0],
    ["9007199254740991", 9007199254740991],
    ["9007199254740993", 9007199254740993n],
    ["-9223372036854775808", -9223372036854775808n],
    ["-0", "-0"],
    ["007", "007"],
    ["+7", "+7"],
    ["1e3", "1e3"],
    [" 7", " 7"],
    ["alice", "alice"],
    ["", ""],
  ])("reads %j as %s", (text, key) => {
    expect(parseKeyArgument(text)).toEqual(key);
    // Whatever it becomes, it hashes like the text typed.
    expect(hashKeyFunction.ksid(parseKeyArgument(text))).toBe(hashKeyFunction.ksid(text));
  });
});

describe("key function names", () => {
  it.each([
    ["hash", true],
    ["identity", true],
    ["modulo", false],
    ["Hash", false],
    ["", false],
    [undefined, false],
    [1, false],
  ])("%j is a key function name: %s", (name, known) => {
    expect(isKeyFunctionName(name)).toBe(known);
  });

  it("finds each key function by its name", () => {
    for (const name of KEY_FUNCTION_NAMES) expect(getKeyFunction(name).name).toBe(name);
    expect(getKeyFunction("hash")).toBe(hashKeyFunction);
    expect(getKeyFunction("identity")).toBe(identityKeyFunction);
  });

  it("refuses an unknown name, listing the known ones", () => {
    try {
      getKeyFunction("modulo" as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ShardkitError);
      expect((error as ShardkitError).code).toBe("BAD_KEY_FUNCTION");
      expect((error as ShardkitError).message).toBe(
        'unknown key function "modulo"; use one of: hash, identity',
      );
    }
  });
});
