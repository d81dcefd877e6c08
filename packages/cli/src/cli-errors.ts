import {
  type ErrorCategory,
  type ErrorCode,
  errorCategory,
  redactUrl,
  ShardkitError,
  type ShardkitErrorOptions,
} from "@shardkit/directory";
import { CommanderError } from "commander";

/** The command line or the config is wrong: category `usage`, exit status 2. */
export class UsageError extends ShardkitError {
  constructor(
    code: "USAGE" | "BAD_CONFIG" | "BAD_ARGUMENT",
    message: string,
    options?: ShardkitErrorOptions,
  ) {
    super(code, message, options);
    this.name = "UsageError";
  }
}

/**
 * A command stopped by Ctrl-C (SIGINT) after it stopped its work cleanly; exits 130
 * (128 + SIGINT), as shells expect. The message says how to continue.
 */
export class InterruptedError extends ShardkitError {
  constructor(message: string, options?: ShardkitErrorOptions) {
    super("MOVE_CANCELLED", message, options);
    this.name = "InterruptedError";
  }
}

/** The exit status of a command stopped by Ctrl-C: 128 + SIGINT. */
export const INTERRUPTED_EXIT_STATUS = 130;

/** The exit status for each error category; 0 is success. */
export const EXIT_STATUS: Readonly<Record<ErrorCategory, number>> = Object.freeze({
  internal: 1,
  usage: 2,
  not_found: 3,
  conflict: 4,
  unavailable: 5,
  query: 6,
});

/** The code an error is reported under: its own, USAGE for commander's errors, else INTERNAL. */
export function errorCodeOf(error: unknown): ErrorCode {
  if (error instanceof ShardkitError) return error.code;
  if (error instanceof CommanderError) return "USAGE";
  return "INTERNAL";
}

/** The exit status for an error, from its code's category (an unknown error is internal: 1; Ctrl-C: 130). */
export function exitStatusFor(error: unknown): number {
  if (error instanceof InterruptedError) return INTERRUPTED_EXIT_STATUS;
  return EXIT_STATUS[errorCategory(errorCodeOf(error))];
}

/** One line that says what went wrong; passwords in URLs are masked. */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactUrl(message.replace(/\s*[\r\n]+\s*/g, " ").trim());
}

/** What `--json` prints on stdout for a failure: one document, password-free. */
export interface ErrorDocument {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    /** The error's facts (shard, range, report), when it has any. */
    readonly details?: unknown;
  };
}

/** The JSON document for a failure; `message` is the same line as on stderr. */
export function errorDocument(error: unknown, message = errorLine(error)): ErrorDocument {
  const details = error instanceof ShardkitError ? error.details : {};
  return {
    error: {
      code: errorCodeOf(error),
      message,
      ...(Object.keys(details).length > 0 ? { details: redactDeep(details) } : {}),
    },
  };
}

/** Masks URL passwords in every string of a JSON-like value. */
function redactDeep(value: unknown): unknown {
  if (typeof value === "string") return redactUrl(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)]));
  }
  return value;
}
