import murmurhash from "murmurhash";
import { ShardKeyError, ShardkitError } from "./errors.js";

/** The key functions shardkit knows. */
export const KEY_FUNCTION_NAMES = ["hash", "identity"] as const;
/** One of {@link KEY_FUNCTION_NAMES}. */
export type KeyFunctionName = (typeof KEY_FUNCTION_NAMES)[number];

/** True when `v` names a key function. */
export function isKeyFunctionName(v: unknown): v is KeyFunctionName {
  return typeof v === "string" && (KEY_FUNCTION_NAMES as readonly string[]).includes(v);
}

/** What a shard key can be. */
export type ShardKey = number | bigint | string | Uint8Array;

/** One entry of a batch: the keyspace id, or why the key could not be mapped. */
export type KsidResult = number | ShardKeyError;

/** Maps shard keys to keyspace ids, batch first (a Vitess vindex): a bad key is an error entry, not a failed batch. */
export interface KeyFunction {
  readonly name: KeyFunctionName;
  /** Keyspace ids of `keys`, same length and order; unmappable keys become {@link ShardKeyError} entries. */
  map(keys: readonly unknown[]): KsidResult[];
  /** The keyspace id of one key; throws {@link ShardKeyError}. */
  ksid(key: unknown): number;
}

// One growable buffer reused by every hash: encoding a key allocates nothing on the hot path.
let scratch = Buffer.allocUnsafe(256);

function ensure(bytes: number): Buffer {
  if (scratch.length < bytes) scratch = Buffer.allocUnsafe(Math.max(bytes, scratch.length * 2));
  return scratch;
}

/** Writes the key's canonical bytes into the scratch buffer and returns their length. */
function encode(key: unknown): number {
  switch (typeof key) {
    case "number": {
      if (!Number.isSafeInteger(key)) throw badNumber(key);
      return writeInteger(key);
    }
    case "string": {
      const buf = ensure(key.length * 3);
      return buf.write(key, 0, "utf8");
    }
    case "bigint": {
      const text = key.toString();
      return ensure(text.length).write(text, 0, "latin1");
    }
    default:
      if (key instanceof Uint8Array) {
        ensure(key.length).set(key, 0);
        return key.length;
      }
      throw badKey(key);
  }
}

/** Writes a safe integer's decimal digits (with a leading '-') as ASCII. */
function writeInteger(n: number): number {
  const buf = ensure(17);
  let v = n < 0 ? -n : n;
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
  const sign = n < 0 ? 1 : 0;
  if (sign) buf[0] = 0x2d;
  for (let i = sign + digits - 1; i >= sign; i--) {
    const q = Math.floor(v / 10);
    buf[i] = 0x30 + (v - q * 10);
    v = q;
  }
  return sign + digits;
}

function badNumber(key: number): ShardKeyError {
  if (Number.isInteger(key)) {
    return new ShardKeyError(
      `shard key ${key} is beyond 2^53 and has lost precision as a number; pass it as a bigint or a string`,
      { key: String(key) },
    );
  }
  return new ShardKeyError(
    `shard key ${key} is not an integer; use an integer, a bigint, a string or bytes`,
    { key: String(key) },
  );
}

function badKey(key: unknown): ShardKeyError {
  const what = key === null ? "null" : Array.isArray(key) ? "an array" : typeof key;
  return new ShardKeyError(`shard key is ${what}; use an integer, a bigint, a string or bytes`, {
    type: what,
  });
}

/** The exact bytes hashed for `key` (see docs/keyspace.md); a fresh copy. */
export function canonicalKeyBytes(key: unknown): Uint8Array {
  const n = encode(key);
  return Uint8Array.prototype.slice.call(scratch, 0, n);
}

/** A stable string identity of the key's canonical bytes: 7, 7n, "7" and the byte "7" are one key. */
export function canonicalKeyString(key: unknown): string {
  const n = encode(key);
  return scratch.toString("latin1", 0, n);
}

/** MurmurHash3 x86_32, seed 0, over the key's canonical bytes; the default key function. */
export const hashKeyFunction: KeyFunction = {
  name: "hash",
  ksid(key) {
    const n = encode(key);
    return murmurhash.v3(scratch.subarray(0, n), 0);
  },
  map(keys) {
    return mapEach(this, keys);
  },
};

/** An integer key in [0, 2^32) is its own keyspace id: range sharding of numeric ids. */
export const identityKeyFunction: KeyFunction = {
  name: "identity",
  ksid(key) {
    let n: number;
    if (typeof key === "number") n = key;
    else if (typeof key === "bigint") n = key >= 0n && key < 0x1_0000_0000n ? Number(key) : -1;
    else if (typeof key === "string" && /^(0|[1-9][0-9]{0,9})$/.test(key)) n = Number(key);
    else {
      throw new ShardKeyError(
        `the identity key function needs an integer key from 0 to 4294967295, got ${describe(key)}`,
        { type: typeof key },
      );
    }
    if (!Number.isInteger(n) || n < 0 || n >= 0x1_0000_0000) {
      throw new ShardKeyError(
        `the identity key function needs an integer key from 0 to 4294967295, got ${describe(key)}`,
        { key: String(key) },
      );
    }
    return n;
  },
  map(keys) {
    return mapEach(this, keys);
  },
};

function mapEach(fn: KeyFunction, keys: readonly unknown[]): KsidResult[] {
  const out: KsidResult[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    try {
      out[i] = fn.ksid(keys[i]);
    } catch (error) {
      if (!(error instanceof ShardKeyError)) throw error;
      out[i] = error;
    }
  }
  return out;
}

function describe(key: unknown): string {
  if (typeof key === "string")
    return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key);
  if (typeof key === "number" || typeof key === "bigint") return String(key);
  if (key instanceof Uint8Array) return `${key.length} bytes`;
  return key === null ? "null" : typeof key;
}

/** The key function called `name`; throws BAD_KEY_FUNCTION listing the known ones. */
export function getKeyFunction(name: KeyFunctionName): KeyFunction {
  switch (name) {
    case "hash":
      return hashKeyFunction;
    case "identity":
      return identityKeyFunction;
    default:
      throw new ShardkitError(
        "BAD_KEY_FUNCTION",
        `unknown key function "${String(name)}"; use one of: ${KEY_FUNCTION_NAMES.join(", ")}`,
      );
  }
}

/**
 * Reads a key typed on the command line: an optional minus and decimal digits is an integer
 * (a bigint beyond 2^53), anything else a string. A numeric string hashes like the number anyway.
 */
export function parseKeyArgument(text: string): ShardKey {
  if (/^-?(0|[1-9][0-9]*)$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  return text;
}
