/**
 * Every error code shardkit raises, each with its category. Code checks `code`, never the
 * message; retry advice and the CLI's exit status follow the category.
 */

/** What kind of failure a code is; decides retry advice and the CLI's exit status. */
export const ERROR_CATEGORIES = [
  /** The input is malformed or the API was misused: fix the call, do not retry. */
  "usage",
  /** What was named does not exist (a shard, a table, a range, a pin). */
  "not_found",
  /** The request is valid but the current state refuses it (exists already, busy, owned). */
  "conflict",
  /** A server could not be reached or a deadline passed: retrying later may succeed. */
  "unavailable",
  /** MySQL ran the statement and rejected it (syntax, unknown column, duplicate key). */
  "query",
  /** A bug or a broken invariant in shardkit or the data it found. */
  "internal",
] as const;
/** One of {@link ERROR_CATEGORIES}. */
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** Each code and its category, in one list. */
export const ERROR_CODES = {
  // usage
  BAD_ARGUMENT: "usage",
  BAD_KEY_RANGE: "usage",
  BAD_SHARD_KEY: "usage",
  BAD_KEY_FUNCTION: "usage",
  BAD_URL: "usage",
  BAD_NAME: "usage",
  BAD_CONFIG: "usage",
  CROSS_SHARD: "usage",
  ROUTER_CLOSED: "usage",
  USAGE: "usage",
  BAD_PLAN: "usage",
  UNAUTHORIZED: "usage",
  // not found
  NOT_INITIALIZED: "not_found",
  UNKNOWN_SHARD: "not_found",
  UNKNOWN_TABLE: "not_found",
  UNKNOWN_RANGE: "not_found",
  NOT_PINNED: "not_found",
  NO_LAYOUT: "not_found",
  NO_OWNER: "not_found",
  NO_SHARDS: "not_found",
  TABLE_NOT_ON_SHARD: "not_found",
  UNKNOWN_MOVE: "not_found",
  NO_DEV_FLEET: "not_found",
  UNKNOWN_ROUTE: "not_found",
  // conflict
  SHARD_EXISTS: "conflict",
  TABLE_EXISTS: "conflict",
  NAME_CLASH: "conflict",
  LAYOUT_EXISTS: "conflict",
  SHARD_OWNS_RANGES: "conflict",
  RANGE_BUSY: "conflict",
  NOT_ADJACENT: "conflict",
  DIFFERENT_SHARDS: "conflict",
  ALREADY_PINNED: "conflict",
  KEY_HAS_ROWS: "conflict",
  NOT_EMPTY: "conflict",
  FENCED: "conflict",
  FENCE_OUT_OF_STEP: "conflict",
  SCHEMA_TOO_NEW: "conflict",
  UNKNOWN_KEY_FUNCTION: "conflict",
  SEQUENCE_EXHAUSTED: "conflict",
  SCHEMA_MISMATCH: "conflict",
  // conflict: a move refused or stopped by what it found
  BINLOG_UNSUITABLE: "conflict",
  BINLOG_GONE: "conflict",
  NO_PRIMARY_KEY: "conflict",
  TARGET_HAS_ROWS: "conflict",
  RANGE_SPANS_SHARDS: "conflict",
  PINNED_KEY_IN_RANGE: "conflict",
  KEY_COLLISION: "conflict",
  TABLE_ALTERED: "conflict",
  VERIFY_FAILED: "conflict",
  SHARD_BUSY: "conflict",
  MOVE_EXISTS: "conflict",
  MOVE_LEASED: "conflict",
  MOVE_STATE: "conflict",
  // conflict: a plan made from another directory than the one now
  PLAN_STALE: "conflict",
  // conflict: shardkit dev
  DEV_FLEET_STALE: "conflict",
  CONFIG_EXISTS: "conflict",
  // conflict: schema changes and reference tables
  SCHEMA_CHANGE_CONFLICT: "conflict",
  REFERENCE_COPY_MISSING: "conflict",
  // unavailable
  DIRECTORY_UNAVAILABLE: "unavailable",
  SHARD_UNAVAILABLE: "unavailable",
  MYSQL_UNAVAILABLE: "unavailable",
  DEADLINE_EXCEEDED: "unavailable",
  CUTOVER_TIMEOUT: "unavailable",
  MOVE_CANCELLED: "unavailable",
  SERVERS_NOT_STARTED: "unavailable",
  // query
  QUERY_FAILED: "query",
  MYSQL_ERROR: "query",
  // internal
  COVERAGE_BROKEN: "internal",
  INTERNAL: "internal",
} as const satisfies Record<string, ErrorCategory>;

/** One of the keys of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is one of shardkit's error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}

/** The category of `code`; `internal` for anything that is not a shardkit code. */
export function errorCategory(code: unknown): ErrorCategory {
  return isErrorCode(code) ? ERROR_CODES[code] : "internal";
}

/** Whether retrying the same call later may succeed: only for the `unavailable` category. */
export function isRetryable(code: unknown): boolean {
  return errorCategory(code) === "unavailable";
}
