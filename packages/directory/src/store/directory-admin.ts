import type { FenceDifference } from "../fence/ownership-fence.js";
import type { KeyRange } from "../key-range.js";
import type { ShardedTable, ShardRecord } from "../model.js";
import type { DirectorySource } from "./directory-source.js";

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

/** Options of {@link DirectoryAdmin.init}. */
export interface InitOptions {
  /** Create the schema even in a database that holds other tables. Default false. */
  readonly force?: boolean;
}

/** What {@link DirectoryAdmin.init} did. */
export interface InitResult {
  readonly schemaVersion: number;
  /** True when the directory database did not exist and was created. */
  readonly created: boolean;
}

/** Options of {@link DirectoryAdmin.addTable}. */
export interface AddTableOptions {
  /** Check that every registered shard has the table and its key column. Default true. */
  readonly check?: boolean;
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
  /** Shards doctor could not reach (each also has a refusal): an outage, not a difference. */
  readonly unreachableShards: readonly string[];
}

/**
 * Changing the directory, on top of reading it. Every change is one transaction that checks
 * the directory's invariants, brings the affected shards' fences in step and bumps the version;
 * a refused change changes nothing.
 */
export interface DirectoryAdmin extends DirectorySource {
  /** Creates or upgrades the schema; idempotent. Refuses a database holding other tables unless `force`. */
  init(options?: InitOptions): Promise<InitResult>;
  /** Registers a shard (creating its database and fence); names MySQL treats as equal clash. */
  addShard(input: AddShardInput): Promise<ChangeResult & { readonly shard: ShardRecord }>;
  /** Unregisters a shard that owns no range and no pinned key. */
  removeShard(name: string): Promise<ChangeResult>;
  /** Declares a sharded table; by default checks every shard has it with its key column. */
  addTable(table: ShardedTable, options?: AddTableOptions): Promise<ChangeResult>;
  /** Forgets a sharded table (its rows stay where they are). */
  removeTable(name: string): Promise<ChangeResult>;
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
  /** Removes a pin; the key goes back to its range's owner. Refused while the pinned shard holds rows of the key. */
  unpinKey(key: unknown): Promise<ChangeResult>;
  /**
   * Gives a whole range to another shard: the old owner's fence refuses it before the new
   * owner's fence accepts it, then the directory points at the new owner. Moves no rows: the
   * move workflow copies them first. Refused unless `from` still owns the range.
   */
  assignRange(range: KeyRange, from: string, to: string): Promise<ChangeResult>;
  /** Compares every shard's ownership table with the directory and repairs differences unless `dryRun`. */
  doctor(options?: { readonly dryRun?: boolean }): Promise<DoctorReport>;
}
