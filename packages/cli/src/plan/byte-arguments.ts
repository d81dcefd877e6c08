import { UsageError } from "../cli-errors.js";

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
};

/**
 * Reads a size: bytes, or a number with K, M, G, T or P (powers of 1024; `KiB`, `GB` read the
 * same): `500G`, `1.5T`, `1048576`. Anything else is a one-line BAD_ARGUMENT naming the flag.
 */
export function byteCount(flag: string): (text: string) => number {
  return (text) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$/i.exec(text);
    const value = m ? Number(m[1]) * (UNITS[(m[2] ?? "").toLowerCase()] ?? Number.NaN) : Number.NaN;
    if (!Number.isFinite(value) || value <= 0) {
      throw new UsageError(
        "BAD_ARGUMENT",
        `invalid ${flag} "${text}": give a size above 0 in bytes or with K, M, G, T (powers of 1024), e.g. 500G`,
      );
    }
    return Math.round(value);
  };
}
