// Exact decimal arithmetic over BigInt, as MySQL's DECIMAL computes: no float ever touches a
// DECIMAL or integer value on its way through a merge.

/** A decimal number: `units / 10^scale`, exactly. */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;

/** Parses decimal text as MySQL prints it (`-12.340`, `18446744073709551615`) or a JS number's text (`1e-7`); undefined when it is not a number. */
export function parseDecimal(text: string): Decimal | undefined {
  const m = DECIMAL_TEXT.exec(text.trim());
  if (!m) return undefined;
  const [, sign = "", whole = "", fraction = "", exponent] = m;
  if (whole === "" && fraction === "") return undefined;
  let units = BigInt(`${whole}${fraction}` || "0");
  let scale = fraction.length - (exponent === undefined ? 0 : Number(exponent));
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { units: sign === "-" ? -units : units, scale };
}

/**
 * The exact decimal of a value mysql2 returns for a number column (a number, a bigint or
 * decimal text) or a caller's number; undefined for anything else. A JS number is read by
 * its shortest text, so `0.1` is the decimal 0.1, as it would be in SQL.
 */
export function toDecimal(value: unknown): Decimal | undefined {
  if (typeof value === "bigint") return { units: value, scale: 0 };
  if (typeof value === "number")
    return Number.isFinite(value) ? parseDecimal(String(value)) : undefined;
  if (typeof value === "string") return parseDecimal(value);
  return undefined;
}

/** `d` at `scale` digits after the point: exact when growing, rounded half away from zero when shrinking. */
export function rescale(d: Decimal, scale: number): Decimal {
  if (scale === d.scale) return d;
  if (scale > d.scale) return { units: d.units * 10n ** BigInt(scale - d.scale), scale };
  return { units: divideRounded(d.units, 10n ** BigInt(d.scale - scale)), scale };
}

/** The exact sum. */
export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale).units + rescale(b, scale).units, scale };
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b`, exactly. */
export function compareDecimal(a: Decimal, b: Decimal): number {
  const scale = Math.max(a.scale, b.scale);
  const x = rescale(a, scale).units;
  const y = rescale(b, scale).units;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `a / divisor` at `scale` digits, rounded half away from zero (MySQL's rule for DECIMAL division). */
export function divideDecimal(a: Decimal, divisor: bigint, scale: number): Decimal {
  if (divisor === 0n) throw new RangeError("division by zero");
  // a.units / 10^a.scale / divisor = a.units * 10^(scale - a.scale) / divisor
  const shift = scale - a.scale;
  const numerator = shift >= 0 ? a.units * 10n ** BigInt(shift) : a.units;
  const denominator = shift >= 0 ? divisor : divisor * 10n ** BigInt(-shift);
  return { units: divideRounded(numerator, denominator), scale };
}

/** Prints `d` with exactly `scale` digits after the point, as MySQL prints a DECIMAL of that scale. */
export function formatDecimal(d: Decimal, scale = d.scale): string {
  const { units } = rescale(d, scale);
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const text = scale === 0 ? whole : `${whole}.${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}

/** n / d rounded half away from zero. */
function divideRounded(n: bigint, d: bigint): bigint {
  const negative = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  let q = an / ad;
  if ((an % ad) * 2n >= ad) q += 1n;
  return negative ? -q : q;
}
