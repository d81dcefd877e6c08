import type { KeyFunctionName } from "../key-function.js";
import type { KeyRange } from "../key-range.js";
import type { DirectorySnapshot, RouterHeartbeat, ShardedTable, ShardRecord } from "../model.js";

/** A shard to register: where it is; the password (if any) is used to reach it now and never stored. */
export interface AddShardInput {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  readonly database: string;
}

/** The result of a change: the directory version it produced. */
export interface ChangeResult {
  readonly version: number;
}

/** One difference between the directory and a shard's ownership table. */
export interface FenceDifference {
  readonly shard: string;
  /** `missing`: the directory grants it, the shard does not know; `extra`: the shard holds a grant the directory does not; `state`: both know it with different states. */
  readonly kind: "missing" | "extra" | "state";
  /** The range or pinned key, in CLI notation. */
  readonly what: string;
  readonly expected?: string;
  readonly actual?: string;
}

/** What `doctor` found and did. */
export interface DoctorReport {
  readonly version: number;
  readonly checkedShards: readonly string[];
  readonly differences: readonly FenceDifference[];
  /** Shards whose ownership table was rewritten to match the directory. */
  readonly repairedShards: readonly string[];
  /** Problems doctor would not fix, each with what to do. */
  readonly refusals: readonly string[];
}

/** The directory's contract: the authority on which shard owns which key range. Every change is one transaction that bumps the version. */
export interface DirectoryStore {
  /** Creates or upgrades the schema; idempotent. */
  init(): Promise<{ readonly schemaVersion: number; readonly created: boolean }>;
  /** The whole map at its current version. */
  snapshot(): Promise<DirectorySnapshot>;
  /** The current version number alone (cheap; what caching clients poll). */
  version(): Promise<number>;
  addShard(input: AddShardInput): Promise<ChangeResult & { readonly shard: ShardRecord }>;
  removeShard(name: string): Promise<ChangeResult>;
  addTable(table: ShardedTable): Promise<ChangeResult>;
  /** Lays out `evenSplit(n)` round-robin over the serving shards (in name order, or `shards` when given); refused once ranges exist. */
  layoutEven(n: number, shards?: readonly string[]): Promise<ChangeResult>;
  /** Splits one range in two on the same shard (metadata only); `at` defaults to the midpoint. */
  splitRange(
    range: KeyRange,
    at?: number,
  ): Promise<ChangeResult & { readonly ranges: readonly [KeyRange, KeyRange] }>;
  /** Merges two adjacent ranges owned by one shard. */
  mergeRanges(a: KeyRange, b: KeyRange): Promise<ChangeResult & { readonly range: KeyRange }>;
  /** Pins one key to a shard. */
  pinKey(key: unknown, shard: string): Promise<ChangeResult>;
  /** Removes a pin; the key goes back to its range's owner. */
  unpinKey(key: unknown): Promise<ChangeResult>;
  /**
   * Gives a whole range to another shard: the old owner's fence refuses it before the new
   * owner's fence accepts it, then the directory points at the new owner. Moves no rows: the
   * move workflow copies them first. Refused unless `from` still owns the range.
   */
  assignRange(range: KeyRange, from: string, to: string): Promise<ChangeResult>;
  /** Reserves `count` consecutive ids of `sequence` with one statement: ids `[start, end)`. */
  reserveIds(
    sequence: string,
    count: number,
  ): Promise<{ readonly start: number; readonly end: number }>;
  /** Compares every shard's ownership table with the directory and repairs differences unless `dryRun`. */
  doctor(options?: { readonly dryRun?: boolean }): Promise<DoctorReport>;
  /** Records (upserts) a router's heartbeat. */
  recordHeartbeat(heartbeat: Omit<RouterHeartbeat, "lastSeen">): Promise<void>;
  /** Lists router heartbeats, newest first. */
  listHeartbeats(): Promise<readonly RouterHeartbeat[]>;
  close(): Promise<void>;
}

export type { KeyFunctionName };
