import type { ErrorCode } from "./error-codes.js";
import { ShardkitError, type ShardkitErrorOptions } from "./shardkit-error.js";

/** A directory operation was refused or failed; nothing was changed unless the message says so. */
export class DirectoryError extends ShardkitError {
  constructor(code: ErrorCode, message: string, options?: ShardkitErrorOptions) {
    super(code, message, options);
    this.name = "DirectoryError";
  }
}
