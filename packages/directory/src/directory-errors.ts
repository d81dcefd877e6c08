import { ShardkitError } from "./errors.js";

/** Codes of errors raised by directory operations; code checks `code`, never the message. */
export const DIRECTORY_ERROR_CODES = [
  "NOT_INITIALIZED",
  "SCHEMA_TOO_NEW",
  "DIRECTORY_UNAVAILABLE",
  "BAD_NAME",
  "SHARD_EXISTS",
  "UNKNOWN_SHARD",
  "SHARD_UNREACHABLE",
  "SHARD_OWNS_RANGES",
  "TABLE_EXISTS",
  "UNKNOWN_TABLE",
  "LAYOUT_EXISTS",
  "NO_LAYOUT",
  "NO_SHARDS",
  "UNKNOWN_RANGE",
  "RANGE_BUSY",
  "NOT_ADJACENT",
  "DIFFERENT_SHARDS",
  "ALREADY_PINNED",
  "NOT_PINNED",
  "COVERAGE_BROKEN",
  "FENCE_OUT_OF_STEP",
] as const;
/** One of {@link DIRECTORY_ERROR_CODES}. */
export type DirectoryErrorCode = (typeof DIRECTORY_ERROR_CODES)[number];

/** A directory operation was refused or failed; nothing was changed unless the message says so. */
export class DirectoryError extends ShardkitError {
  declare readonly code: DirectoryErrorCode;
  constructor(
    code: DirectoryErrorCode,
    message: string,
    options?: { details?: Record<string, unknown>; cause?: unknown },
  ) {
    super(code, message, options);
    this.name = "DirectoryError";
  }
}
