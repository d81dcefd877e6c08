// The checks of what callers pass to the router's public methods, so misuse is a BAD_ARGUMENT
// naming the argument and what to pass, never a TypeError from deep inside.
import { ShardkitError } from "@shardkit/directory";

/**
 * Fails unless `value` is a function; `what` names it, `expected` shows its shape. A `secret`
 * value (credentials) is described by its type alone, never shown.
 */
export function requireFunction(
  value: unknown,
  what: string,
  expected: string,
  secret = false,
): void {
  if (typeof value !== "function") {
    const got = secret ? (value === null ? "null" : `a ${typeof value}`) : describeValue(value);
    throw new ShardkitError("BAD_ARGUMENT", `${what} must be a function ${expected}, got ${got}`, {
      details: { argument: what },
    });
  }
}

/** Fails unless `value` is a non-empty string: a table or shard name. */
export function requireName(
  value: unknown,
  what: string,
  example: string,
): asserts value is string {
  if (typeof value !== "string" || value === "") {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `${what} must be a name such as "${example}", got ${value === "" ? "an empty string" : describeValue(value)}`,
      { details: { argument: what } },
    );
  }
}

/** The options object of a call: undefined becomes `{}`; anything but a plain object fails. */
export function optionsOf<T extends object>(value: T | undefined, what: string): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `${what} must be an options object such as { table: "users" }, got ${describeValue(value)}`,
      { details: { argument: what } },
    );
  }
  return value;
}

/**
 * Fails unless `value` is undefined or a whole number from `min` (a number in ms, a pool size);
 * `what` names the option, `example` shows a valid one.
 */
export function requireCount(value: unknown, what: string, min: number, example: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `${what} must be a whole number of at least ${min}, got ${describeValue(value)}; pass e.g. ${example}`,
      { details: { argument: what } },
    );
  }
}

/** Fails unless `value` is an array (of keys, of rows). */
export function requireArray(
  value: unknown,
  what: string,
  example: string,
): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `${what} must be an array such as ${example}, got ${describeValue(value)}`,
      {
        details: { argument: what },
      },
    );
  }
}

/** A short description of a value for a message: its JSON for short strings and numbers, else its kind. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case "number":
    case "boolean":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "undefined":
      return "undefined";
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    default:
      if (value === null) return "null";
      if (Array.isArray(value)) return "an array";
      if (value instanceof Uint8Array) return `${value.length} bytes`;
      return "an object";
  }
}
