// Test-only failpoints. `SHARDKIT_FAILPOINT=<name>[:<n>]` makes the process kill itself
// (SIGKILL, no cleanup) the n-th time (default 1) it reaches the point `name`, so tests can
// stop a mover anywhere; `armFailpoint` does the same in-process by throwing instead.
import { MoveError } from "./move-error.js";

/** The points where a mover can be stopped. */
export const FAILPOINTS = [
  "after-copy-chunk",
  "after-apply-batch",
  "after-freeze",
  "before-directory-switch",
  "after-directory-switch",
  "after-cleanup-chunk",
] as const;
/** One of {@link FAILPOINTS}. */
export type FailpointName = (typeof FAILPOINTS)[number];

interface Armed {
  readonly name: string;
  remaining: number;
  readonly action: () => void;
}

/**
 * Reads a `SHARDKIT_FAILPOINT` value, `<name>[:<n>]`: null when empty; BAD_ARGUMENT naming the
 * points when the name is none of them or n is not a whole number of at least 1.
 */
export function parseFailpoint(
  value: string | undefined,
): { name: FailpointName; hit: number } | null {
  if (!value) return null;
  const [name = "", count = "1", ...rest] = value.split(":");
  const hit = Number(count);
  if (
    !(FAILPOINTS as readonly string[]).includes(name) ||
    !Number.isInteger(hit) ||
    hit < 1 ||
    rest.length > 0
  ) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `SHARDKIT_FAILPOINT=${JSON.stringify(value)} names no failpoint; use <name>[:<n>] with a name of ${FAILPOINTS.join(", ")} and n >= 1`,
    );
  }
  return { name: name as FailpointName, hit };
}

let armed: Armed | null = fromEnvironment(process.env.SHARDKIT_FAILPOINT);

function fromEnvironment(value: string | undefined): Armed | null {
  const point = parseFailpoint(value);
  if (!point) return null;
  return {
    name: point.name,
    remaining: point.hit,
    action: () => process.kill(process.pid, "SIGKILL"),
  };
}

/** Reached point `name`: acts when it is the armed point's n-th hit. */
export function failpoint(name: FailpointName): void {
  if (armed === null || armed.name !== name) return;
  armed.remaining--;
  if (armed.remaining > 0) return;
  const { action } = armed;
  armed = null;
  action();
}

/**
 * Arms point `name` in this process: its `hit`-th hit throws `error` (a test's stand-in for a
 * crash). Replaces any point armed before; `disarmFailpoint()` clears it.
 */
export function armFailpoint(name: FailpointName, hit: number, error: Error): void {
  armed = {
    name,
    remaining: hit,
    action: () => {
      throw error;
    },
  };
}

/** Clears the armed failpoint. */
export function disarmFailpoint(): void {
  armed = null;
}
