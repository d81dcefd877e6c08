import type { DirectoryClient } from "@shardkit/directory";
import type { KeyTarget } from "./destination.js";
import type { ShardConnections } from "./shard-pools.js";

/** What the router's parts (writes, scatter, ids) need from the router that owns them. */
export interface RouterContext {
  /** The caching directory client the router follows. */
  readonly directory: DirectoryClient;
  /** How long a write keeps retrying after the fence refused it, in ms. */
  readonly writeDeadlineMs: number;
  /** The connections of a registered shard; throws NO_OWNER for an unknown one. */
  connections(shard: string): ShardConnections;
  /** Where `key` lives now (see `locateKey`). */
  locate(key: unknown, table?: string): KeyTarget;
  /** Throws ROUTER_CLOSED once the router is closed. */
  assertOpen(): void;
}
