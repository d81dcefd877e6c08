import type { DirectoryClient } from "@shardkit/directory";
import type { KeyColumnTypes } from "./keys/key-column-types.js";
import type { ServiceMetrics } from "./metrics/service-metrics.js";
import type { ResolvedServiceOptions, ServiceDirectory } from "./service-options.js";

/** What the service's routes share. */
export interface ServiceContext {
  /** The caching client: every map answer comes from its memory, also while the database is down. */
  readonly client: DirectoryClient;
  /** The directory itself, for moves, heartbeats and ids. */
  readonly directory: ServiceDirectory;
  readonly keyTypes: KeyColumnTypes;
  readonly metrics: ServiceMetrics;
  readonly options: ResolvedServiceOptions;
  /** Resolves when the service closes (watchers answer then). */
  readonly closing: Promise<void>;
}
