/** Base of every shardkit error: a stable code plus the facts a person needs. */
export class ShardkitError extends Error {
  /** Stable machine-readable code; check this, never the message. */
  readonly code: string;
  /** Facts about the failure (shard, range, table, ...), never a password. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(
    code: string,
    message: string,
    options?: { details?: Record<string, unknown>; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ShardkitError";
    this.code = code;
    this.details = options?.details ?? {};
  }
}

/** A key range or keyspace id was malformed or an operation on ranges is impossible. */
export class KeyRangeError extends ShardkitError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("BAD_KEY_RANGE", message, details ? { details } : undefined);
    this.name = "KeyRangeError";
  }
}

/** A shard key cannot be mapped to a keyspace id by the key function. */
export class ShardKeyError extends ShardkitError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("BAD_SHARD_KEY", message, details ? { details } : undefined);
    this.name = "ShardKeyError";
  }
}
