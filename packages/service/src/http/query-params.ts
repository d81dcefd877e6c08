import { HttpError } from "./http-errors.js";

/** The query string as Fastify parses it. */
export type Query = Readonly<Record<string, string | string[] | undefined>>;

/** One string parameter; given twice is a BAD_ARGUMENT. */
export function stringParam(query: Query, name: string, example: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) {
    throw new HttpError(400, "BAD_ARGUMENT", `give ${name} once, e.g. ${example}`);
  }
  return value;
}

/** A whole-number parameter in `[min, max]`, or `fallback` when absent. */
export function countParam(
  query: Query,
  name: string,
  range: { readonly min: number; readonly max: number; readonly fallback?: number },
  example: string,
): number | undefined {
  const text = stringParam(query, name, example);
  if (text === undefined) return range.fallback;
  const n = /^[0-9]{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= range.min && n <= range.max)) {
    throw new HttpError(
      400,
      "BAD_ARGUMENT",
      `${name} must be a whole number from ${range.min} to ${range.max}, got ${JSON.stringify(text.slice(0, 40))}; e.g. ${example}`,
    );
  }
  return n;
}
