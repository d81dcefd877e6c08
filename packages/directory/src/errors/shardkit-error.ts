import type { ErrorCode } from "./error-codes.js";

/** Options of a {@link ShardkitError}: the facts behind the failure and what caused it. */
export interface ShardkitErrorOptions {
  /** Facts a person needs (shard, range, table, key); never a password. Default: none. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** The underlying error, if any. Default: none. */
  readonly cause?: unknown;
}

/**
 * Base of every shardkit error: a stable code from {@link ERROR_CODES}, a one-line message that
 * says what to do next, and the facts a person needs. Every subclass is built the same way:
 * `new XError(code, message, { details, cause })`.
 */
export class ShardkitError extends Error {
  /** Stable machine-readable code; check this, never the message. */
  readonly code: ErrorCode;
  /** Facts about the failure (shard, range, table, ...), never a password. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: ErrorCode, message: string, options?: ShardkitErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ShardkitError";
    this.code = code;
    this.details = Object.freeze({ ...options?.details });
  }
}

/** A key range or keyspace id is malformed, or an operation on ranges is impossible. */
export class KeyRangeError extends ShardkitError {
  constructor(code: "BAD_KEY_RANGE", message: string, options?: ShardkitErrorOptions) {
    super(code, message, options);
    this.name = "KeyRangeError";
  }
}

/** A shard key cannot be mapped to a keyspace id by a key function. */
export class ShardKeyError extends ShardkitError {
  constructor(code: "BAD_SHARD_KEY", message: string, options?: ShardkitErrorOptions) {
    super(code, message, options);
    this.name = "ShardKeyError";
  }
}
