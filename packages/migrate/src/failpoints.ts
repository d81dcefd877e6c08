/**
 * Test-only failpoints. `SHARDKIT_FAILPOINT=<name>[:<n>]` makes the process kill itself
 * (SIGKILL, no cleanup) the n-th time (default 1) it reaches the point `name`, so tests can
 * stop a mover anywhere; {@link armFailpoint} does the same in-process by throwing instead.
 */

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

let armed: Armed | null = fromEnvironment(process.env.SHARDKIT_FAILPOINT);

function fromEnvironment(value: string | undefined): Armed | null {
  if (!value) return null;
  const [name = "", count = "1"] = value.split(":");
  return {
    name,
    remaining: Math.max(1, Number.parseInt(count, 10) || 1),
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
