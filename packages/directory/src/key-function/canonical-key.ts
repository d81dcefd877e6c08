import { ShardKeyError } from "../errors/shardkit-error.js";

// Every key is encoded into this one buffer (grown when a key needs more), so encoding and
// hashing a key allocates nothing; callers read it before the next key is encoded.
let scratch = Buffer.alloc(256);
const utf8 = new TextEncoder();

// "-" and the 16 digits of 2^53 - 1.
const MAX_SAFE_INTEGER_BYTES = 17;
const POWERS_OF_TEN = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/**
 * Writes the key's canonical bytes (see docs/keyspace.md) at the start of
 * {@link encodedKeyBuffer} and returns their length, or the reason the key has none.
 */
export function encodeKey(key: unknown): number | ShardKeyError {
  switch (typeof key) {
    case "number":
      return Number.isSafeInteger(key) ? writeSafeInteger(key) : badNumber(key);
    case "string":
      return writeString(key);
    case "bigint":
      return writeAscii(key.toString());
    case "object":
      if (key instanceof Uint8Array) {
        room(key.length).set(key, 0);
        return key.length;
      }
      return badKey(key);
    default:
      return badKey(key);
  }
}

/** The buffer {@link encodeKey} wrote to; valid until the next call. */
export function encodedKeyBuffer(): Buffer {
  return scratch;
}

/** The exact bytes the `hash` key function hashes for `key`, as a fresh copy; throws {@link ShardKeyError}. */
export function canonicalKeyBytes(key: unknown): Buffer {
  const length = encodeKey(key);
  if (typeof length !== "number") throw length;
  // A Buffer copy comes from Node's pool. A small Uint8Array lives on V8's heap instead, and
  // reading its `.buffer` later (as the driver does to send it) costs microseconds.
  return Buffer.from(scratch.subarray(0, length));
}

/**
 * A stable string identity of the key's canonical bytes (one character per byte, latin1), to
 * index keys by: 7, 7n, "7" and the byte "7" give the same string. Throws {@link ShardKeyError}.
 */
export function canonicalKeyString(key: unknown): string {
  const length = encodeKey(key);
  if (typeof length !== "number") throw length;
  return scratch.toString("latin1", 0, length);
}

/** A short, one-line description of a key for error messages. */
export function describeKey(key: unknown): string {
  switch (typeof key) {
    case "string":
      return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key);
    case "number":
      return String(key);
    case "bigint":
      return `${key}n`;
    case "boolean":
      return `the boolean ${key}`;
    case "undefined":
      return "undefined";
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
    default:
      if (key === null) return "null";
      if (key instanceof Uint8Array) return `${key.length} bytes`;
      if (Array.isArray(key)) return "an array";
      return `an object (${(key as object).constructor?.name ?? "no prototype"})`;
  }
}

function room(bytes: number): Buffer {
  if (scratch.length < bytes) scratch = Buffer.alloc(Math.max(bytes, scratch.length * 2));
  return scratch;
}

function writeSafeInteger(n: number): number {
  const out = room(MAX_SAFE_INTEGER_BYTES);
  const sign = n < 0 ? 1 : 0;
  let value = sign ? -n : n;
  let digits = 1;
  while (digits < 16 && value >= (POWERS_OF_TEN[digits] as number)) digits++;
  if (sign) out[0] = 0x2d;
  let i = sign + digits - 1;
  for (; value > 0x7fff_ffff; i--) {
    const quotient = Math.floor(value / 10);
    out[i] = 0x30 + (value - quotient * 10);
    value = quotient;
  }
  // Below 2^31 the digits come from int32 arithmetic, which is several times faster.
  for (let small = value | 0; i >= sign; i--) {
    const quotient = (small / 10) | 0;
    out[i] = 0x30 + (small - quotient * 10);
    small = quotient;
  }
  return sign + digits;
}

function writeAscii(text: string): number {
  const out = room(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return text.length;
}

function writeString(text: string): number {
  // Three bytes per UTF-16 unit is UTF-8's worst case, so encodeInto always writes it all.
  const out = room(text.length * 3);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // Most keys are ASCII: copying the units is several times faster than the encoder.
    if (unit >= 0x80) return utf8.encodeInto(text, out).written;
    out[i] = unit;
  }
  return text.length;
}

function badNumber(key: number): ShardKeyError {
  if (Number.isInteger(key)) {
    return new ShardKeyError(
      "BAD_SHARD_KEY",
      `shard key ${key} is beyond 2^53 - 1, where a JavaScript number loses digits; pass it as a bigint or a string`,
      { details: { type: "number", key: String(key) } },
    );
  }
  return new ShardKeyError(
    "BAD_SHARD_KEY",
    `shard key ${key} is not an integer; pass an integer, a bigint, a string or bytes`,
    { details: { type: "number", key: String(key) } },
  );
}

function badKey(key: unknown): ShardKeyError {
  return new ShardKeyError(
    "BAD_SHARD_KEY",
    `shard key is ${describeKey(key)}; pass an integer, a bigint, a string or bytes (Buffer or Uint8Array)`,
    { details: { type: key === null ? "null" : typeof key } },
  );
}
