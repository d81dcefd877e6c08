import { createHash } from "node:crypto";

/**
 * The id under which a reference table's copy keeps its applier's progress and applied
 * position on each shard (the move engine's tables, keyed by move id), shared by the engine
 * that writes it and the router that waits on it.
 */
export function referenceCopyId(table: string): string {
  return `ref-${createHash("sha256").update(table).digest("hex").slice(0, 32)}`;
}

/** The shard table holding each copy's applied source binlog position (the move engine's). */
export const APPLIED_POSITION_TABLE = "shardkit_move_position";
