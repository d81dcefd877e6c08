import type { DirectorySnapshot, RouterHeartbeat } from "../model.js";

/** A block of ids reserved from a sequence: `[start, end)`. */
export interface IdBlock {
  readonly start: number;
  readonly end: number;
}

/**
 * Reading the directory: what the caching client and the router need. The MySQL store is one
 * source; any other (a directory served over HTTP) plugs in by implementing this.
 */
export interface DirectorySource {
  /** Where the directory is, for messages; never shows a password. */
  readonly location: string;
  /** The whole map at its current version; refuses a map this shardkit cannot route by. */
  snapshot(): Promise<DirectorySnapshot>;
  /** The current version number alone (cheap; what caching clients poll). */
  version(): Promise<number>;
  /** Records (upserts) a router's heartbeat: the version it holds. */
  recordHeartbeat(heartbeat: Omit<RouterHeartbeat, "lastSeen">): Promise<void>;
  /** Lists router heartbeats, newest first. */
  listHeartbeats(): Promise<readonly RouterHeartbeat[]>;
  /** Reserves `count` consecutive ids of `sequence`, never handed out twice. */
  reserveIds(sequence: string, count: number): Promise<IdBlock>;
  /**
   * Optional: resolves once the source holds a version other than `since` (or after a
   * timeout of its own) with the version it holds. Sources that can push a change (the
   * directory service) implement it; the caching client then follows changes as they happen.
   */
  watch?(since: number, signal?: AbortSignal): Promise<number>;
  /** Releases connections; safe to call twice. */
  close(): Promise<void>;
}
