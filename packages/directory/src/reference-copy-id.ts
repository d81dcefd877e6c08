import { createHash } from "node:crypto";

/**
 * The id under which one shard's copy of a reference table keeps its applier's progress and
 * applied position on the shard (the move engine's tables, keyed by move id) and its markers
 * on the source (one row per copy there, so each applier times its own), shared by the engine
 * that writes it and the router that waits on it.
 */
export function referenceCopyId(table: string, shard: string): string {
  return `ref-${createHash("sha256").update(`${shard}\u0000${table}`).digest("hex").slice(0, 32)}`;
}

/** The shard table holding each copy's applied source binlog position (the move engine's). */
export const APPLIED_POSITION_TABLE = "shardkit_move_position";
