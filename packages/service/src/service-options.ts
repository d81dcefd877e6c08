import type { CredentialResolver, DirectoryAdmin, DirectorySource } from "@shardkit/directory";

/** What the service reads: the directory (map, heartbeats, ids) and its move records. */
export type ServiceDirectory = DirectorySource & Pick<DirectoryAdmin, "listMoves" | "getMove">;

/** Options of {@link startDirectoryService} and {@link createDirectoryService}. */
export interface DirectoryServiceOptions {
  /** The directory database URL (`mysql://...`), or a store you manage. Required. */
  readonly directory: string | ServiceDirectory;
  /** Shard passwords, to read key column types for lookups with a table. Default: from the environment. */
  readonly credentials?: CredentialResolver;
  /** The bearer token every request but `/healthz` must carry. Required unless `insecureNoAuth`. */
  readonly token?: string;
  /** Serve without a token (loopback hosts only). Default false. */
  readonly insecureNoAuth?: boolean;
  /** The address to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** The port to listen on; 0 picks a free one. Default 7420. */
  readonly port?: number;
  /** How often the service checks the directory version, in ms. Default 50 (watchers wake within ~this). */
  readonly pollIntervalMs?: number;
  /** `/healthz` answers 503 when the directory has not answered for this long, in ms. Default 30000. */
  readonly maxMapAgeMs?: number;
  /** Most keys in one `POST /v1/route`. Default 10000. */
  readonly maxBatchKeys?: number;
  /** Largest request body, in bytes. Default 1048576 (1 MiB). */
  readonly bodyLimitBytes?: number;
  /** Longest wait a watcher may ask for, in seconds (default wait 30). Default 300. */
  readonly maxWatchSeconds?: number;
}

/** The options with their defaults applied. */
export interface ResolvedServiceOptions {
  readonly token: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly pollIntervalMs: number;
  readonly maxMapAgeMs: number;
  readonly maxBatchKeys: number;
  readonly bodyLimitBytes: number;
  readonly maxWatchSeconds: number;
}

/** Default port of `shardkit directory serve`. */
export const DEFAULT_SERVICE_PORT = 7420;
/** Default seconds a watch waits before answering unchanged. */
export const DEFAULT_WATCH_SECONDS = 30;
