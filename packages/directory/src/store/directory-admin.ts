import type { FenceDifference } from "../fence/ownership-fence.js";
import type { KeyRange } from "../key-range.js";
import type { ReferenceTable, ShardedTable, ShardRecord } from "../model.js";
import type { MoveEventRecord, MoveKind, MoveRecord, MoveState } from "../move-model.js";
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

/** A move to record with {@link DirectoryAdmin.createMove}. */
export interface CreateMoveInput {
  /** The move's id, chosen by the mover (a UUID): letters, digits and `-`, at most 36. */
  readonly id: string;
  readonly kind: MoveKind;
  /**
   * For kind `range`: a range inside one serving range of `source` (split off when it is not
   * exactly one). For kind `key`: `[ksid, ksid + 1)` of the key.
   */
  readonly range: KeyRange;
  /** For kind `key`: the key's canonical bytes; the key must be pinned to `source`. */
  readonly keyBytes?: Uint8Array;
  /** For kind `key`: the key for display. Default: as the pin shows it. */
  readonly keyText?: string;
  readonly source: string;
  readonly target: string;
  /** The mover's options, kept for resume and `move status`. Default `{}`. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** What {@link DirectoryAdmin.updateMove} changes; a field left out keeps its value. */
export interface MovePatch {
  /** The new state: allowed by `MOVE_TRANSITIONS`; never `switched` (that is `switchRange`). */
  readonly state?: MoveState;
  /** With `state: "failed"`: the state it failed in. Default: the move's state before. */
  readonly failedIn?: MoveState;
  /** Replaces the progress summary. */
  readonly progress?: Readonly<Record<string, unknown>>;
  /** Sets (or with null clears) the error; leaving `failed` clears it unless given. */
  readonly error?: string | null;
  /** Replaces the options. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** An entry for a move's history. */
export interface MoveEventInput {
  readonly message: string;
  /** JSON-serialisable facts. Default `{}`. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A move's lease as held after taking or renewing it. */
export interface MoveLease {
  readonly owner: string;
  /** When it lapses (the directory server's clock) unless renewed. */
  readonly expiresAt: Date;
}

/** Options of {@link DirectoryAdmin.freezeRange}. */
export interface FreezeOptions {
  /**
   * Seconds to wait for writes in flight on the range to finish (the drain) before giving
   * up with DEADLINE_EXCEEDED. Default: the source's `innodb_lock_wait_timeout`.
   */
  readonly drainTimeoutSeconds?: number;
}

/** A measurement of the shards to store (`shardkit stats`); the report is kept as JSON. */
export interface StatsSnapshotInput {
  /** When the measurement started. */
  readonly takenAt: Date;
  /** The directory version whose ranges were measured. */
  readonly directoryVersion: number;
  /** The fraction of rows read; null for an exact scan. */
  readonly sample: number | null;
  readonly totalRows: number;
  readonly totalBytes: number;
  /** The whole report (per range, per shard, per table, top keys), JSON-serialisable. */
  readonly report: Readonly<Record<string, unknown>>;
}

/** A stored measurement. */
export interface StatsSnapshotRecord extends StatsSnapshotInput {
  readonly id: number;
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
  /** Declares a reference table and its source database (copying it is the reference engine's work). */
  addReferenceTable(table: ReferenceTable): Promise<ChangeResult>;
  /** Forgets a reference table (its copies stay on the shards). */
  removeReferenceTable(name: string): Promise<ChangeResult>;
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
  /**
   * Compares every shard's ownership table with the directory and repairs differences unless
   * `dryRun`; fence rows an active move governs are left alone and reported.
   */
  doctor(options?: { readonly dryRun?: boolean }): Promise<DoctorReport>;

  /**
   * Records a new move (state `created`, an event) and marks its range (or pin) `moving`, in one
   * change that bumps the version. Refused: RANGE_BUSY when an active move overlaps it,
   * UNKNOWN_SHARD, BAD_ARGUMENT when source = target, MOVE_EXISTS for a used id.
   */
  createMove(input: CreateMoveInput): Promise<ChangeResult & { readonly move: MoveRecord }>;
  /** One move; UNKNOWN_MOVE when there is none with this id. */
  getMove(id: string): Promise<MoveRecord>;
  /** Every move, newest first. */
  listMoves(): Promise<readonly MoveRecord[]>;
  /** A move's history, oldest first; UNKNOWN_MOVE when there is none with this id. */
  listMoveEvents(id: string): Promise<readonly MoveEventRecord[]>;
  /**
   * Takes the move's lease for `ttlMs` when it is free, lapsed or already `owner`'s; else
   * MOVE_LEASED naming the holder and when it lapses. MOVE_STATE for an ended move.
   */
  acquireMoveLease(id: string, owner: string, ttlMs: number): Promise<MoveRecord>;
  /** Extends `owner`'s lease by `ttlMs` from now; MOVE_LEASED when another holder took it. */
  renewMoveLease(id: string, owner: string, ttlMs: number): Promise<MoveLease>;
  /** Gives the lease up; nothing happens when `owner` does not hold it. */
  releaseMoveLease(id: string, owner: string): Promise<void>;
  /**
   * Changes a move's record (and appends `event`; a state change always appends one), by the
   * lease holder only (MOVE_LEASED). A state change the state machine refuses is MOVE_STATE.
   * Bumps the version only when the move ends (`done`, `aborted`): the range (or pin) is no
   * longer `moving`, and routers drop the move.
   */
  updateMove(
    id: string,
    owner: string,
    patch: MovePatch,
    event?: MoveEventInput,
  ): Promise<ChangeResult & { readonly move: MoveRecord }>;
  /**
   * Freezes the move's range (or pin) on the source: the directory marks it `frozen` and the
   * source's one fence row is updated, which waits for writes in flight (the drain); sets the
   * move `cutting_over`; bumps the version. Idempotent.
   */
  freezeRange(moveId: string, owner: string, options?: FreezeOptions): Promise<ChangeResult>;
  /** Undoes {@link freezeRange}: the source serves the range (or pin) again. Idempotent; refused once switched. */
  unfreezeRange(moveId: string, owner: string): Promise<ChangeResult>;
  /**
   * The point of no return, one directory change: the target owns the range (or pin); the
   * source's fence refuses it before the target's accepts it; the move is `switched` with
   * `switchedVersion` set; the directory commits last. Refused unless this move froze the
   * range. Idempotent once switched.
   */
  switchRange(moveId: string, owner: string): Promise<ChangeResult>;

  /** Stores a measurement of the shards (changes no version: nothing routes by it); returns its id. */
  recordStats(input: StatsSnapshotInput): Promise<{ readonly id: number }>;
  /** Stored measurements, oldest first; only the newest `limit` when given. */
  listStats(options?: { readonly limit?: number }): Promise<readonly StatsSnapshotRecord[]>;
}
