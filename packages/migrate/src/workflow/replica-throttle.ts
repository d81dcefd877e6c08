import { parseMysqlUrl } from "@shardkit/directory";
import { connect, type SqlConnection } from "@shardkit/directory/internal";

/** Looks again at the replicas at most this often. */
const CHECK_MS = 1000;

/**
 * A wait for copy and cleanup chunks: while any of the source's replicas (given by URL) lags
 * more than `limitMs` behind its primary (`Seconds_Behind_Master`), it waits. A replica that
 * does not replicate (lag unknown) or cannot be reached does not hold the move up.
 */
export function replicaThrottle(
  urls: readonly string[],
  limitMs: number,
  signal?: AbortSignal,
): { wait: () => Promise<void>; close: () => Promise<void> } {
  const connections = new Map<string, Promise<SqlConnection | null>>();
  let checkedAt = 0;
  let lagging = false;
  const lagOf = async (url: string): Promise<number> => {
    let conn = connections.get(url);
    if (!conn) {
      conn = connect(parseMysqlUrl(url)).catch(() => null);
      connections.set(url, conn);
    }
    const c = await conn;
    if (!c) return 0;
    try {
      const rows = await c.query<Record<string, unknown>>("SHOW REPLICA STATUS");
      const seconds = rows[0]?.Seconds_Behind_Master ?? rows[0]?.Seconds_Behind_Source;
      return seconds === null || seconds === undefined ? 0 : Number(seconds) * 1000;
    } catch {
      return 0;
    }
  };
  return {
    async wait() {
      for (;;) {
        signal?.throwIfAborted();
        if (performance.now() - checkedAt >= CHECK_MS) {
          checkedAt = performance.now();
          const lags = await Promise.all(urls.map(lagOf));
          lagging = lags.some((lag) => lag > limitMs);
        }
        if (!lagging) return;
        await new Promise((resolve) => setTimeout(resolve, CHECK_MS));
      }
    },
    async close() {
      for (const conn of connections.values()) await (await conn)?.close();
    },
  };
}
