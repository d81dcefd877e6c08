import { expect } from "vitest";
import type { ShardkitError } from "../errors/shardkit-error.js";

/**
 * The error `fn` throws, checked to be a `type` with `code` and a one-line message; fails
 * the test when `fn` throws nothing or something else.
 */
export function thrownBy<E extends ShardkitError>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => E,
  code: string,
): E {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    expect((error as E).code).toBe(code);
    expect((error as E).message).not.toContain("\n");
    return error as E;
  }
  throw new Error(`expected a ${type.name} (${code}), but nothing was thrown`);
}
