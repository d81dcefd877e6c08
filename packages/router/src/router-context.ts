import type { DirectoryClient, DirectoryMap } from "@shardkit/directory";
import type { ColumnKeyOf, KeyTarget } from "./destination.js";
import type { RouterMetrics } from "./metrics/router-metrics.js";
import type { ShardConnections } from "./shard-pools.js";
import type { RoutingWatch } from "./write/routing-watch.js";

/** What the router's parts (writes, scatter, ids) need from the router that owns them. */
export interface RouterContext {
  /** The caching directory client the router follows. */
  readonly directory: DirectoryClient;
  /**
   * The directory version keys are routed by: the client's newest once the key columns of its
   * tables have been read from the shards (until then, the one before).
   */
  readonly map: DirectoryMap;
  /** How long a write keeps retrying after the fence refused it, in ms. */
  readonly writeDeadlineMs: number;
  /** The connections of a registered shard; throws NO_OWNER for an unknown one. */
  connections(shard: string): ShardConnections;
  /** The value `table`'s key column stores for `key`, by the shards' column types; throws BAD_SHARD_KEY. */
  readonly columnKey: ColumnKeyOf;
  /** Where `key` lives now (see `locateKey`); with `table`, routed by its key column's type. */
  locate(key: unknown, table?: string): KeyTarget;
  /** Paced refreshes for writes the fence refused, and their wake-up when routing moves. */
  readonly routing: RoutingWatch;
  /** The router's Prometheus metrics. */
  readonly metrics: RouterMetrics;
  /** Throws ROUTER_CLOSED once the router is closed. */
  assertOpen(): void;
}
