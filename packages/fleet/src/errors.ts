/** Codes of fleet failures; check `code`, never the message. */
export const FLEET_ERROR_CODES = ["NO_BACKEND", "START_FAILED", "BAD_URL", "BAD_OPTIONS"] as const;
/** One of {@link FLEET_ERROR_CODES}. */
export type FleetErrorCode = (typeof FLEET_ERROR_CODES)[number];

/** The fleet could not start (or reach) servers; the message says what to do. */
export class FleetError extends Error {
  readonly code: FleetErrorCode;
  constructor(code: FleetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FleetError";
    this.code = code;
  }
}

/** Replaces the password of every URL in `text` with `***`. */
export function redact(text: string): string {
  return text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, "$1***@");
}
