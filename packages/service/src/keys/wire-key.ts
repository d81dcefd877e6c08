import { type ShardKey, ShardKeyError } from "@shardkit/directory";

/**
 * A key as JSON: a string, a number (an integer up to 2^53 - 1 in size), or `{"hex": "..."}`
 * for bytes. Bigints travel as their decimal digits in a string: an integer's canonical bytes
 * are its digits, so `"9007199254740993"` routes as the bigint does.
 */
export type WireKey = string | number | { readonly hex: string };

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** The shard key a JSON key stands for, or a BAD_SHARD_KEY error saying how to send it. */
export function keyOfWire(value: unknown): ShardKey | ShardKeyError {
  if (typeof value === "string") return value;
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return value;
    return new ShardKeyError(
      "BAD_SHARD_KEY",
      `the key ${value} is not an integer within 2^53 - 1; send integers beyond it (and bigints) as decimal strings, e.g. "9007199254740993"`,
    );
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const hex = (value as { hex?: unknown }).hex;
    if (typeof hex === "string" && HEX.test(hex) && Object.keys(value).length === 1) {
      return Buffer.from(hex, "hex");
    }
  }
  return new ShardKeyError(
    "BAD_SHARD_KEY",
    `a key is a JSON string, an integer or {"hex": "<bytes as hex>"}, got ${describe(value)}`,
  );
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
