/** Options of a {@link ShardkitError}: the facts behind the failure and what caused it. */
export interface ShardkitErrorOptions {
  /** Facts a person needs (shard, range, table, key); never a password. Default: none. */
  readonly details?: Record<string, unknown>;
  /** The underlying error, if any. Default: none. */
  readonly cause?: unknown;
}

/** Base of every shardkit error: a stable code plus the facts a person needs. */
export class ShardkitError extends Error {
  /** Stable machine-readable code; check this, never the message. */
  readonly code: string;
  /** Facts about the failure (shard, range, table, ...), never a password. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: string, message: string, options?: ShardkitErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ShardkitError";
    this.code = code;
    this.details = Object.freeze({ ...options?.details });
  }
}

/** A key range or keyspace id is malformed, or an operation on ranges is impossible (code `BAD_KEY_RANGE`). */
export class KeyRangeError extends ShardkitError {
  constructor(message: string, options?: ShardkitErrorOptions) {
    super("BAD_KEY_RANGE", message, options);
    this.name = "KeyRangeError";
  }
}

/** A shard key cannot be mapped to a keyspace id by a key function (code `BAD_SHARD_KEY`). */
export class ShardKeyError extends ShardkitError {
  constructor(message: string, options?: ShardkitErrorOptions) {
    super("BAD_SHARD_KEY", message, options);
    this.name = "ShardKeyError";
  }
}
