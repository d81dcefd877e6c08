import { redactUrl, ShardkitError } from "@shardkit/directory";

/** The command line was wrong: exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Error codes that mean the input was malformed (exit 2) rather than refused or failed (exit 1). */
const USAGE_CODES = new Set([
  "BAD_KEY_RANGE",
  "BAD_URL",
  "BAD_NAME",
  "BAD_ARGUMENT",
  "BAD_SHARD_KEY",
  "BAD_KEY_FUNCTION",
]);

/** Exit status for an error: 2 for usage errors, 1 for everything else. */
export function exitCodeFor(error: unknown): 1 | 2 {
  if (error instanceof UsageError) return 2;
  if (error instanceof ShardkitError && USAGE_CODES.has(error.code)) return 2;
  return 1;
}

/** One line that says what went wrong; passwords in URLs are masked. */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactUrl(message.replace(/\s*\n\s*/g, " ").trim());
}
