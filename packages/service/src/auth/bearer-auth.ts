import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/**
 * Whether `given` equals `expected`, in time that depends on neither value: both are hashed
 * (SHA-256) and the digests compared with `timingSafeEqual`, so not even the length leaks.
 */
export function tokensMatch(given: string, expected: string): boolean {
  return tokenChecker(expected)(given);
}

/** {@link tokensMatch} against one expected token, its digest computed once. */
export function tokenChecker(expected: string): (given: string) => boolean {
  const digest = createHash("sha256").update(expected).digest();
  return (given) => timingSafeEqual(createHash("sha256").update(given).digest(), digest);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/** True when `host` is a loopback address or `localhost`: the only hosts served without a token. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || /^::ffff:127\./.test(h);
  return false;
}
