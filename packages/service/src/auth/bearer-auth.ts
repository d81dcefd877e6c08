import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/**
 * Whether `given` equals `expected`, in time that depends on neither token's content nor the
 * expected token's length (see {@link tokenChecker}).
 */
export function tokensMatch(given: string, expected: string): boolean {
  return tokenChecker(expected)(given);
}

/** Tokens up to this many bytes are compared in a slot of this size; longer ones by digest. */
const SLOT_BYTES = 256;

/**
 * {@link tokensMatch} against one expected token. A token of up to 256 bytes is compared in a
 * 256-byte slot: the given token is written into a zeroed slot (cut at 256 bytes) and the whole
 * slot compared with the expected token's by `timingSafeEqual`, then the byte lengths; every
 * check reads all 256 bytes, so its time depends only on the length of what the caller sent. A
 * longer expected token is compared by SHA-256 digests. The slot costs well under a microsecond;
 * a SHA-256 per request cost the service a sixth of its single-key lookups.
 */
export function tokenChecker(expected: string): (given: string) => boolean {
  const want = Buffer.from(expected);
  if (want.length > SLOT_BYTES) {
    const digest = createHash("sha256").update(want).digest();
    return (given) => timingSafeEqual(createHash("sha256").update(given).digest(), digest);
  }
  const wantSlot = Buffer.alloc(SLOT_BYTES);
  want.copy(wantSlot);
  // One slot per checker, reused: checks are synchronous, so none overlaps another.
  const slot = Buffer.alloc(SLOT_BYTES);
  return (given) => {
    slot.fill(0);
    slot.write(given);
    const sameSlot = timingSafeEqual(slot, wantSlot);
    const sameLength = Buffer.byteLength(given) === want.length;
    return sameSlot && sameLength;
  };
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
