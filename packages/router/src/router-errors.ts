import {
  type ErrorCode,
  errorCategory,
  ShardkitError,
  type ShardkitErrorOptions,
} from "@shardkit/directory";

/** A routing failure with a stable code and the facts a person needs (`shard`, `range`); never a password. */
export class RouterError extends ShardkitError {
  /** The shard the failure is about, when there is one. */
  readonly shard: string | undefined;
  /** The key range in CLI notation (e.g. `40-80`), when there is one. */
  readonly range: string | undefined;
  constructor(code: ErrorCode, message: string, options?: ShardkitErrorOptions) {
    super(code, message, options);
    this.name = "RouterError";
    const details = options?.details ?? {};
    this.shard = typeof details.shard === "string" ? details.shard : undefined;
    this.range = typeof details.range === "string" ? details.range : undefined;
  }
}

/** One shard's failure within a scatter. */
export interface ShardFailure {
  readonly shard: string;
  readonly error: Error;
}

/**
 * A scatter where some shards failed: names each shard and why. A query error on any shard
 * makes it a query error (QUERY_FAILED: retrying will not help); otherwise the first failure's
 * code, which is SHARD_UNAVAILABLE for a shard that cannot be reached.
 */
export class ScatterError extends RouterError {
  readonly failures: readonly ShardFailure[];
  constructor(failures: readonly ShardFailure[]) {
    const codes = failures.map((f) =>
      f.error instanceof ShardkitError ? f.error.code : ("SHARD_UNAVAILABLE" as ErrorCode),
    );
    const code = codes.find((c) => errorCategory(c) === "query") ?? codes[0] ?? "SHARD_UNAVAILABLE";
    const first = failures[codes.indexOf(code)];
    const others = failures.length > 1 ? ` (${failures.length - 1} more in failures)` : "";
    const partial =
      errorCategory(code) === "unavailable"
        ? ", or pass allowPartial to take the rows of the other shards"
        : "";
    super(
      code,
      `scatter failed on ${failures.map((f) => f.shard).join(", ")}: ${first?.error.message ?? "no answer"}${partial}${others}`,
      { details: { shards: failures.map((f) => f.shard) }, cause: first?.error },
    );
    this.name = "ScatterError";
    this.failures = failures;
  }
}
