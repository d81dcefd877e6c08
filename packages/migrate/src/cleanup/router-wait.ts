import type { DirectorySource, RouterHeartbeat } from "@shardkit/directory";

/** Options of {@link waitForRouters}. */
export interface RouterWaitOptions {
  /** A router whose heartbeat is older than this is not live and is not waited for. */
  readonly liveMs: number;
  /** Wait at most this long, then go on. */
  readonly graceMs: number;
  /** How often to look again. Default 500. */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/** What the wait saw. */
export interface RouterWaitResult {
  readonly waitedMs: number;
  /** Live routers still on an older version when the grace period ran out (empty when all moved on). */
  readonly behind: readonly RouterHeartbeat[];
}

/**
 * Waits until every live router (heartbeat seen within `liveMs`) holds directory version
 * `version` or later, or `graceMs` passed: after that no live router still reads the moved
 * range from the source, and its rows there can go.
 */
export async function waitForRouters(
  source: DirectorySource,
  version: number,
  o: RouterWaitOptions,
): Promise<RouterWaitResult> {
  const started = Date.now();
  for (;;) {
    o.signal?.throwIfAborted();
    const now = Date.now();
    const behind = (await source.listHeartbeats()).filter(
      (h) => now - h.lastSeen.getTime() <= o.liveMs && h.version < version,
    );
    const waitedMs = Date.now() - started;
    if (behind.length === 0 || waitedMs >= o.graceMs) return { waitedMs, behind };
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(o.pollMs ?? 500, o.graceMs - waitedMs)),
    );
  }
}
