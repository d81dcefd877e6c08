import { type CredentialResolver, credentialResolver } from "../../credentials.js";
import { ShardkitError } from "../../errors/shardkit-error.js";
import type { KeyRange } from "../../key-range.js";
import type {
  DirectorySnapshot,
  ReferenceTable,
  RouterHeartbeat,
  ShardedTable,
  ShardRecord,
} from "../../model.js";
import type { MoveEventRecord, MoveRecord } from "../../move-model.js";
import { formatEndpoint, type MysqlEndpoint, parseMysqlUrl } from "../../mysql/mysql-url.js";
import type { SqlConnection } from "../../mysql/sql-connection.js";
import type {
  AddShardInput,
  AddTableOptions,
  ChangeResult,
  CreateMoveInput,
  DirectoryAdmin,
  DoctorReport,
  FreezeOptions,
  InitOptions,
  InitResult,
  MoveEventInput,
  MoveLease,
  MovePatch,
  StatsSnapshotInput,
  StatsSnapshotRecord,
} from "../directory-admin.js";
import type { IdBlock } from "../directory-source.js";
import type { StoreParts } from "./change-transaction.js";
import { DirectoryConnection } from "./directory-connection.js";
import { doctor } from "./fence-doctor.js";
import { createMove, updateMove } from "./move-changes.js";
import { freezeRange, switchRange, unfreezeRange } from "./move-cutover.js";
import { acquireMoveLease, releaseMoveLease, renewMoveLease } from "./move-lease.js";
import { listMoveEvents, listMoves, requireMove } from "./move-records.js";
import { pinKey, unpinKey } from "./pin-changes.js";
import { assignRange, layoutEven, mergeRanges, splitRange } from "./range-changes.js";
import { addReferenceTable, removeReferenceTable } from "./reference-changes.js";
import { checkReservation, listHeartbeats, recordHeartbeat, reserveIds } from "./router-records.js";
import { initDirectory } from "./schema-migrator.js";
import { addShard, removeShard } from "./shard-changes.js";
import { ShardConnections } from "./shard-connections.js";
import { readSnapshot, readVersion } from "./snapshot-reader.js";
import { listStats, recordStats } from "./stats-records.js";
import { addTable, removeTable } from "./table-changes.js";

/** Options for {@link MysqlDirectoryStore}. */
export interface MysqlDirectoryStoreOptions {
  /** The directory database, as a URL (`mysql://user:pass@host:port/db`) or an endpoint. */
  readonly directory: string | MysqlEndpoint;
  /** Resolves shard passwords. Default: {@link credentialResolver} over the environment. */
  readonly credentials?: CredentialResolver;
  /** Milliseconds to wait when connecting to the directory or a shard. Default 5000. */
  readonly connectTimeoutMs?: number;
}

/**
 * The directory stored in a MySQL database: a {@link DirectorySource} for routers and a
 * {@link DirectoryAdmin} for the CLI. Calls run one at a time on one connection.
 *
 * @example
 * const store = new MysqlDirectoryStore({ directory: "mysql://root@127.0.0.1:3306/shardkit" });
 * await store.init();
 */
export class MysqlDirectoryStore implements DirectoryAdmin {
  readonly endpoint: MysqlEndpoint;
  readonly #parts: StoreParts;

  constructor(options: MysqlDirectoryStoreOptions) {
    this.endpoint =
      typeof options.directory === "string" ? parseMysqlUrl(options.directory) : options.directory;
    if (!this.endpoint.database) {
      throw new ShardkitError(
        "BAD_URL",
        `the directory URL ${formatEndpoint(this.endpoint)} names no database; add one, e.g. mysql://root@127.0.0.1:3306/shardkit`,
      );
    }
    const timeout = options.connectTimeoutMs ?? 5000;
    this.#parts = {
      directory: new DirectoryConnection(this.endpoint, timeout),
      shards: new ShardConnections(options.credentials ?? credentialResolver(), timeout),
    };
  }

  /** The directory's location with the password masked. */
  get location(): string {
    return this.#parts.directory.location;
  }

  init(options?: InitOptions): Promise<InitResult> {
    return initDirectory(this.#parts.directory, options);
  }

  version(): Promise<number> {
    return this.#read(readVersion);
  }

  snapshot(): Promise<DirectorySnapshot> {
    return this.#read(readSnapshot);
  }

  addShard(input: AddShardInput): Promise<ChangeResult & { shard: ShardRecord }> {
    return addShard(this.#parts, input);
  }

  removeShard(name: string): Promise<ChangeResult> {
    return removeShard(this.#parts, name);
  }

  addTable(table: ShardedTable, options?: AddTableOptions): Promise<ChangeResult> {
    return addTable(this.#parts, table, options);
  }

  removeTable(name: string): Promise<ChangeResult> {
    return removeTable(this.#parts, name);
  }

  addReferenceTable(table: ReferenceTable): Promise<ChangeResult> {
    return addReferenceTable(this.#parts, table);
  }

  removeReferenceTable(name: string): Promise<ChangeResult> {
    return removeReferenceTable(this.#parts, name);
  }

  layoutEven(n: number, shards?: readonly string[]): Promise<ChangeResult> {
    return layoutEven(this.#parts, n, shards);
  }

  splitRange(
    range: KeyRange,
    at?: number,
  ): Promise<ChangeResult & { ranges: [KeyRange, KeyRange] }> {
    return splitRange(this.#parts, range, at);
  }

  mergeRanges(a: KeyRange, b: KeyRange): Promise<ChangeResult & { range: KeyRange }> {
    return mergeRanges(this.#parts, a, b);
  }

  pinKey(key: unknown, shard: string): Promise<ChangeResult> {
    return pinKey(this.#parts, key, shard);
  }

  unpinKey(key: unknown): Promise<ChangeResult> {
    return unpinKey(this.#parts, key);
  }

  assignRange(range: KeyRange, from: string, to: string): Promise<ChangeResult> {
    return assignRange(this.#parts, range, from, to);
  }

  async reserveIds(sequence: string, count: number): Promise<IdBlock> {
    checkReservation(sequence, count);
    return this.#read((conn) => reserveIds(conn, sequence, count));
  }

  doctor(options?: { readonly dryRun?: boolean }): Promise<DoctorReport> {
    return doctor(this.#parts, options);
  }

  createMove(input: CreateMoveInput): Promise<ChangeResult & { move: MoveRecord }> {
    return createMove(this.#parts, input);
  }

  getMove(id: string): Promise<MoveRecord> {
    return this.#read((conn) => requireMove(conn, id));
  }

  listMoves(): Promise<MoveRecord[]> {
    return this.#read(listMoves);
  }

  listMoveEvents(id: string): Promise<MoveEventRecord[]> {
    return this.#read((conn) => listMoveEvents(conn, id));
  }

  acquireMoveLease(id: string, owner: string, ttlMs: number): Promise<MoveRecord> {
    return this.#read((conn) => acquireMoveLease(conn, id, owner, ttlMs));
  }

  renewMoveLease(id: string, owner: string, ttlMs: number): Promise<MoveLease> {
    return this.#read((conn) => renewMoveLease(conn, id, owner, ttlMs));
  }

  releaseMoveLease(id: string, owner: string): Promise<void> {
    return this.#read((conn) => releaseMoveLease(conn, id, owner));
  }

  updateMove(
    id: string,
    owner: string,
    patch: MovePatch,
    event?: MoveEventInput,
  ): Promise<ChangeResult & { move: MoveRecord }> {
    return updateMove(this.#parts, id, owner, patch, event);
  }

  freezeRange(moveId: string, owner: string, options?: FreezeOptions): Promise<ChangeResult> {
    return freezeRange(this.#parts, moveId, owner, options);
  }

  unfreezeRange(moveId: string, owner: string): Promise<ChangeResult> {
    return unfreezeRange(this.#parts, moveId, owner);
  }

  switchRange(moveId: string, owner: string): Promise<ChangeResult> {
    return switchRange(this.#parts, moveId, owner);
  }

  recordHeartbeat(heartbeat: Omit<RouterHeartbeat, "lastSeen">): Promise<void> {
    return this.#read((conn) => recordHeartbeat(conn, heartbeat));
  }

  listHeartbeats(): Promise<RouterHeartbeat[]> {
    return this.#read(listHeartbeats);
  }

  async recordStats(input: StatsSnapshotInput): Promise<{ readonly id: number }> {
    return { id: await this.#read((conn) => recordStats(conn, input)) };
  }

  listStats(options?: { readonly limit?: number }): Promise<StatsSnapshotRecord[]> {
    return this.#read((conn) => listStats(conn, options?.limit));
  }

  close(): Promise<void> {
    return this.#parts.directory.close();
  }

  /** Runs one call on the directory connection once the schema checks out. */
  #read<T>(work: (conn: SqlConnection) => Promise<T>): Promise<T> {
    const { directory } = this.#parts;
    return directory.serial(async () => work(await directory.ready()));
  }
}
