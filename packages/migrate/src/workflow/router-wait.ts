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
 * Waits until every live router holds directory version `version` or later, or `graceMs`
 * passed: after that no live router still reads the moved range from the source, and its
 * rows there can go. A router is live when its heartbeat is at most `liveMs` older than the
 * newest one: heartbeats carry the directory server's clock, never compared with ours.
 */
export async function waitForRouters(
  source: DirectorySource,
  version: number,
  o: RouterWaitOptions,
): Promise<RouterWaitResult> {
  const started = Date.now();
  for (;;) {
    o.signal?.throwIfAborted();
    const heartbeats = await source.listHeartbeats();
    const newest = Math.max(...heartbeats.map((h) => h.lastSeen.getTime()));
    const behind = heartbeats.filter(
      (h) => newest - h.lastSeen.getTime() <= o.liveMs && h.version < version,
    );
    const waitedMs = Date.now() - started;
    if (behind.length === 0 || waitedMs >= o.graceMs) return { waitedMs, behind };
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(o.pollMs ?? 500, o.graceMs - waitedMs)),
    );
  }
}
