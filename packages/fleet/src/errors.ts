/** Codes of fleet failures; check `code`, never the message. */
export const FLEET_ERROR_CODES = [
  "NO_BACKEND",
  "START_FAILED",
  "STOP_FAILED",
  "CREATE_FAILED",
  "BAD_URL",
  "BAD_OPTIONS",
  "ABORTED",
  "STOPPED",
] as const;
/** One of {@link FLEET_ERROR_CODES}. */
export type FleetErrorCode = (typeof FLEET_ERROR_CODES)[number];

/** A fleet failure with a stable `code`; the message says what to do next and never holds a password. */
export class FleetError extends Error {
  readonly code: FleetErrorCode;
  constructor(code: FleetErrorCode, message: string, options?: { cause?: unknown }) {
    super(redact(message), options);
    this.name = "FleetError";
    this.code = code;
  }
}

/** Replaces the password of every `scheme://user:password@` in `text` with `***`. */
export function redact(text: string): string {
  // Stops at whitespace and commas so a list of URLs is masked entry by entry.
  return text.replace(/(\/\/[^:/@\s,]*:)[^@\s,]*@/g, "$1***@");
}

/** The message of any thrown value, passwords masked. */
export function describeError(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error));
}

/** Throws ABORTED when `signal` has fired; `step` names what was cancelled. */
export function throwIfAborted(signal: AbortSignal | undefined, step: string): void {
  if (signal?.aborted) {
    throw new FleetError("ABORTED", `${step} was cancelled by the caller's AbortSignal`, {
      cause: signal.reason,
    });
  }
}
