import type { KeyFunctionName } from "./key-function.js";
import type { KeyRange } from "./key-range.js";
import type { ActiveMove } from "./move-model.js";

/** States a shard can be in; only `serving` shards receive new ranges. */
export const SHARD_STATES = ["serving", "draining"] as const;
/** A shard's lifecycle state. */
export type ShardState = (typeof SHARD_STATES)[number];

/**
 * States of a key range's assignment (and of a pinned key): `moving` while a move copies it
 * away (writes still accepted), `frozen` refuses writes during a move's cutover.
 */
export const RANGE_STATES = ["serving", "frozen", "moving"] as const;
/** The state of one range assignment. */
export type RangeState = (typeof RANGE_STATES)[number];

/** A registered shard: where it is, never how to log in (passwords are resolved at connect time). */
export interface ShardRecord {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly state: ShardState;
}

/** A sharded table: which column holds its shard key and which key function maps it. */
export interface ShardedTable {
  readonly name: string;
  readonly keyColumn: string;
  readonly keyFunction: KeyFunctionName;
}

/** One key range and the shard that owns it. */
export interface RangeAssignment {
  readonly range: KeyRange;
  readonly shard: string;
  readonly state: RangeState;
}

/** One key placed explicitly on a shard, whatever range its keyspace id falls in. */
export interface PinnedKey {
  /** The key's canonical bytes (see docs/keyspace.md). */
  readonly keyBytes: Uint8Array;
  /** How the key was written when it was pinned, for display. */
  readonly keyText: string;
  /** The key's keyspace id under the hash key function. */
  readonly ksid: number;
  readonly shard: string;
  /** `moving` or `frozen` while a move of this key runs; `serving` otherwise. */
  readonly state: RangeState;
}

/**
 * A reference table: small, global, joined with everywhere. Its one writable copy lives in a
 * source database; every shard holds a read copy kept in step from the source's binlog.
 */
export interface ReferenceTable {
  readonly name: string;
  /**
   * The source database, as a shard record: `name` is the source's name (its password is
   * resolved by that name, as a shard's), never how to log in.
   */
  readonly source: ShardRecord;
}

/** Everything the directory holds at one version. */
export interface DirectorySnapshot {
  readonly version: number;
  readonly shards: readonly ShardRecord[];
  readonly tables: readonly ShardedTable[];
  /** Sorted by range start. */
  readonly ranges: readonly RangeAssignment[];
  readonly pins: readonly PinnedKey[];
  /** Every move that has not ended (neither done nor aborted), oldest first. */
  readonly moves: readonly ActiveMove[];
  /** Reference tables, by name (absent from a source that does not serve them). */
  readonly referenceTables?: readonly ReferenceTable[];
}

/** What a router process reports about itself so moves know which versions are still in use. */
export interface RouterHeartbeat {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly version: number;
  readonly lastSeen: Date;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/;

/** True when `name` is a valid shard name: a letter, then up to 63 letters, digits, `_` or `-`. */
export function isValidShardName(name: string): boolean {
  return NAME.test(name);
}

/** True when `name` is a plain MySQL identifier shardkit accepts for tables and columns. */
export function isValidIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}
