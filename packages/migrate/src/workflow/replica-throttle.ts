import { type MysqlEndpoint, parseMysqlUrl } from "@shardkit/directory";
import { connect, type SqlConnection } from "@shardkit/directory/internal";
import type { ShardLogin } from "../connection/shard-connection.js";

/** Looks again at the replicas at most this often. */
const CHECK_MS = 1000;

/** A wait run before each copy and cleanup chunk, and how to release its connections. */
export interface ReplicaThrottle {
  /** The replicas watched, as `host:port`. */
  readonly replicas: readonly string[];
  wait(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The source's replicas: the URLs given, or those the source lists (`SHOW SLAVE HOSTS`: replicas
 * that set `report_host`), reached with the mover's login to the source.
 */
export async function replicasOf(
  source: SqlConnection,
  login: ShardLogin,
  urls: readonly string[] | undefined,
): Promise<MysqlEndpoint[]> {
  if (urls && urls.length > 0) return urls.map((u) => parseMysqlUrl(u));
  type Host = { Host?: string; Port?: number | string };
  // MySQL 8.4 knows only SHOW REPLICAS; MariaDB and older MySQL know SHOW SLAVE HOSTS.
  const hosts = await source
    .query<Host>("SHOW SLAVE HOSTS")
    .catch(() => source.query<Host>("SHOW REPLICAS"));
  return hosts
    .filter((h) => h.Host)
    .map((h) => ({
      host: String(h.Host),
      port: Number(h.Port),
      user: login.user,
      password: login.password,
      database: "",
    }));
}

/**
 * Waits while any replica lags more than `limitMs` behind its primary
 * (`Seconds_Behind_Master`). A replica that does not replicate (lag unknown) or cannot be
 * reached does not hold the move up.
 */
export function replicaThrottle(
  replicas: readonly MysqlEndpoint[],
  limitMs: number,
  signal?: AbortSignal,
): ReplicaThrottle {
  const connections = new Map<MysqlEndpoint, Promise<SqlConnection | null>>();
  let checkedAt = Number.NEGATIVE_INFINITY;
  let lagging = false;
  const lagOf = async (replica: MysqlEndpoint): Promise<number> => {
    let conn = connections.get(replica);
    if (!conn) {
      conn = connect(replica, { withoutDatabase: true }).catch(() => null);
      connections.set(replica, conn);
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
    replicas: replicas.map((r) => `${r.host}:${r.port}`),
    async wait() {
      for (;;) {
        signal?.throwIfAborted();
        if (performance.now() - checkedAt >= CHECK_MS) {
          checkedAt = performance.now();
          const lags = await Promise.all(replicas.map(lagOf));
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
