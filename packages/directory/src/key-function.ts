import { ShardKeyError, ShardkitError } from "./errors/shardkit-error.js";
import { describeKey, encodedKeyBuffer, encodeKey } from "./key-function/canonical-key.js";
import { murmur3X86_32 } from "./key-function/murmur3.js";

export { canonicalKeyBytes, canonicalKeyString } from "./key-function/canonical-key.js";

/** The key functions shardkit knows, by the name a table's layout records. */
export const KEY_FUNCTION_NAMES = ["hash", "identity"] as const;
/** One of {@link KEY_FUNCTION_NAMES}. */
export type KeyFunctionName = (typeof KEY_FUNCTION_NAMES)[number];

/** True when `v` names a key function. */
export function isKeyFunctionName(v: unknown): v is KeyFunctionName {
  return typeof v === "string" && (KEY_FUNCTION_NAMES as readonly string[]).includes(v);
}

/** What a shard key can be: an integer, a bigint, a string or bytes. */
export type ShardKey = number | bigint | string | Uint8Array;

/** One entry of a batch: the keyspace id, or why the key could not be mapped. */
export type KsidResult = number | ShardKeyError;

/**
 * Maps shard keys to keyspace ids, batch first (a Vitess vindex): a key that cannot be mapped
 * becomes a {@link ShardKeyError} entry, never a failed batch.
 */
export interface KeyFunction {
  /** The name a table's layout records. */
  readonly name: KeyFunctionName;
  /** Keyspace ids of `keys`, same length and order; unmappable keys become {@link ShardKeyError} entries. */
  map(keys: readonly unknown[]): KsidResult[];
  /** The keyspace id of one key; throws {@link ShardKeyError}. */
  ksid(key: unknown): number;
}

const IDENTITY_MAX = 0xffff_ffff;
const DECIMAL_UINT32 = /^(0|[1-9][0-9]{0,9})$/;

/**
 * The default key function: MurmurHash3 x86_32, seed 0, over the key's canonical bytes
 * (see docs/keyspace.md). Example: `hashKeyFunction.ksid("hello") === 0x248bfa47`.
 */
export const hashKeyFunction: KeyFunction = keyFunction("hash", (key) => {
  // Bytes are hashed where they lie; every other key is encoded into the shared buffer first.
  if (key instanceof Uint8Array) return murmur3X86_32(key, key.length);
  const length = encodeKey(key);
  return typeof length === "number" ? murmur3X86_32(encodedKeyBuffer(), length) : length;
});

/**
 * Range sharding of numeric ids: an integer key in [0, 2^32) (a number, a bigint or a decimal
 * string) is its own keyspace id. Example: `identityKeyFunction.ksid(7) === 7`.
 */
export const identityKeyFunction: KeyFunction = keyFunction("identity", (key) => {
  let ksid = -1;
  if (typeof key === "number") ksid = key;
  else if (typeof key === "bigint") ksid = key >= 0n && key <= IDENTITY_MAX ? Number(key) : -1;
  else if (typeof key === "string" && DECIMAL_UINT32.test(key)) ksid = Number(key);
  // `+ 0` turns -0 into 0.
  if (Number.isInteger(ksid) && ksid >= 0 && ksid <= IDENTITY_MAX) return ksid + 0;
  return new ShardKeyError(
    "BAD_SHARD_KEY",
    `the identity key function needs an integer from 0 to ${IDENTITY_MAX} (a number, bigint or decimal string), got ${describeKey(key)}; pass such an id, or shard the table with the hash key function`,
    { details: { type: key === null ? "null" : typeof key, keyFunction: "identity" } },
  );
});

const KEY_FUNCTIONS: Readonly<Record<KeyFunctionName, KeyFunction>> = {
  hash: hashKeyFunction,
  identity: identityKeyFunction,
};

/** The key function called `name`; throws a {@link ShardkitError} with code `BAD_KEY_FUNCTION` listing the known ones. */
export function getKeyFunction(name: KeyFunctionName): KeyFunction {
  if (!isKeyFunctionName(name)) {
    throw new ShardkitError(
      "BAD_KEY_FUNCTION",
      `unknown key function ${describeKey(name)}; use one of: ${KEY_FUNCTION_NAMES.join(", ")}`,
      { details: { name: String(name), valid: [...KEY_FUNCTION_NAMES] } },
    );
  }
  return KEY_FUNCTIONS[name];
}

/**
 * Reads a key typed on the command line: a decimal integer in canonical form (`123`, `-7`) is a
 * number, or a bigint beyond 2^53; anything else (`007`, `alice`) stays a string. Either way it
 * hashes like the text typed, since an integer's canonical bytes are its decimal digits.
 */
export function parseKeyArgument(text: string): ShardKey {
  if (/^(0|-?[1-9][0-9]*)$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  return text;
}

function keyFunction(name: KeyFunctionName, toKsid: (key: unknown) => KsidResult): KeyFunction {
  return Object.freeze({
    name,
    map(keys: readonly unknown[]): KsidResult[] {
      const out = new Array<KsidResult>(keys.length);
      for (let i = 0; i < keys.length; i++) out[i] = toKsid(keys[i]);
      return out;
    },
    ksid(key: unknown): number {
      const result = toKsid(key);
      if (typeof result !== "number") throw result;
      return result;
    },
  });
}
