import { type ErrorCode, ShardkitError, type ShardkitErrorOptions } from "@shardkit/directory";

/** A move failed or was refused: a code from the one list, a one-line message that says what to do. */
export class MoveError extends ShardkitError {
  constructor(code: ErrorCode, message: string, options?: ShardkitErrorOptions) {
    super(code, message, options);
    this.name = "MoveError";
  }
}

/** The message of any thrown value, for recording in the move's history. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
