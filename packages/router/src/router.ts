import {
  type CredentialResolver,
  canonicalKeyBytes,
  credentialResolver,
  DirectoryClient,
  type DirectoryStore,
  FENCE_ERRNO,
  fencedInsertSql,
  formatKeyRange,
  type KeyLocation,
  type KeyRange,
  MysqlDirectoryStore,
  parseKeyRange,
  rangesOverlap,
  redactUrl,
  ShardkitError,
} from "@shardkit/directory";
import type { Knex } from "knex";
import type mysql from "mysql2/promise";
import { FENCE_PARAM, type FenceParams } from "./knex/fenced-mysql-client.js";
import { RouterError, ScatterError, type ShardFailure } from "./router-errors.js";
import {
  type AggregateSpec,
  groupWeightAlias,
  mergeAggregates,
  shardAggregates,
} from "./scatter/aggregates.js";
import {
  mergeSorted,
  mergeSortedArrays,
  type OrderTerm,
  rowComparator,
  stripHelpers,
  weightAlias,
} from "./scatter/row-order.js";
import { type ShardConnections, ShardPools } from "./shard-pools.js";

/** Options for {@link createRouter}. */
export interface RouterOptions {
  /** The directory: its database URL, a store, or a directory client you manage. */
  readonly directory: string | DirectoryStore | DirectoryClient;
  /** Shard passwords. Default: SHARDKIT_SHARD_PASSWORD_<NAME> / SHARDKIT_SHARD_PASSWORD. */
  readonly credentials?: CredentialResolver;
  /** Connection pool per shard. Default `{ min: 0, max: 10 }`. */
  readonly pool?: { readonly min?: number; readonly max?: number };
  /** How often to follow the directory version, in ms; 0 switches polling off. Default 1000. Ignored for a client you pass. */
  readonly pollIntervalMs?: number;
  /** How long a write keeps retrying after the fence refused it, in ms. Default 5000. */
  readonly writeDeadlineMs?: number;
  /** Ids reserved per round trip by {@link Router.nextId}. Default 1000. */
  readonly idBlockSize?: number;
  /** This router's heartbeat id in the directory; false records none. Default `<host>:<pid>:<random>`. */
  readonly heartbeatId?: string | false;
}

/** Options of a single-key operation. */
export interface KeyOptions {
  /** The sharded table whose key function maps the key. Default: the hash key function. */
  readonly table?: string;
}

/** Options of a write. */
export interface WriteOptions extends KeyOptions {
  /** Overrides the router's write deadline for this write, in ms. */
  readonly deadlineMs?: number;
}

/** Options of {@link Router.insert}. */
export interface InsertOptions {
  /** Overrides the router's write deadline for this insert, in ms. */
  readonly deadlineMs?: number;
}

/** One row to insert: column name to value. */
export type Row = Readonly<Record<string, unknown>>;

/** What {@link Router.insert} returns. */
export interface InsertResult {
  readonly affectedRows: number;
  /** The first AUTO_INCREMENT value the insert generated; 0 when none. */
  readonly insertId: number;
}

/** A query run on many shards and merged. */
export interface ScatterOptions {
  /** Builds the query for one shard (without ORDER BY, LIMIT or aggregates: the router adds those). */
  readonly query: (knex: Knex, shard: string) => Knex.QueryBuilder;
  /** Only the shards owning part of this key range. Default: every shard that owns a range. */
  readonly range?: KeyRange | string;
  /** Sort the merged rows (each shard sorts its own; the router merges them in a stream). */
  readonly orderBy?: readonly OrderTerm[];
  readonly limit?: number;
  readonly offset?: number;
  /** Aggregates by output name, e.g. `{ n: { fn: "count" }, total: { fn: "sum", column: "amount" } }`. */
  readonly aggregates?: Readonly<Record<string, AggregateSpec>>;
  /** GROUP BY columns for `aggregates`. */
  readonly groupBy?: readonly string[];
  /** Return the rows of the shards that answered plus the failures, instead of failing. Default false. */
  readonly allowPartial?: boolean;
}

/** What a scatter returns: merged rows and the shards that failed (only with `allowPartial`). */
export interface ScatterResult<T> {
  readonly rows: T[];
  readonly failed: readonly ShardFailure[];
}

/** Where a key lives, as the router resolved it. */
export interface KeyTarget extends KeyLocation {
  readonly fence: FenceParams;
}

const MAX_PINNED_KEY_BYTES = 255;
/** Composed INSERT statements kept per router (one per table and column list). */
const MAX_CACHED_INSERTS = 1000;
/** Column types whose order depends on a collation. */
const TEXT_TYPES = new Set([
  "char",
  "varchar",
  "tinytext",
  "text",
  "mediumtext",
  "longtext",
  "enum",
  "set",
  "json",
]);
/** Pages up to this many rows per shard are merged from fetched arrays; larger ones stream. */
const BUFFERED_MERGE_LIMIT = 10_000;

/**
 * Routes queries to the shard that owns each key, fences every write, scatters and merges.
 *
 * @example
 * const router = await createRouter({ directory: "mysql://root@db:3306/shardkit" });
 * const user = await router.read(42).from("users").where({ user_id: 42 }).first();
 * await router.write(42, (trx) => trx("users").insert({ user_id: 42, name: "Ada" }));
 */
export async function createRouter(options: RouterOptions): Promise<Router> {
  const credentials = options.credentials ?? credentialResolver();
  let client: DirectoryClient;
  let owns = false;
  if (options.directory instanceof DirectoryClient) {
    client = options.directory;
  } else {
    client = await DirectoryClient.open({
      directory:
        typeof options.directory === "string"
          ? new MysqlDirectoryStore({ directory: options.directory, credentials })
          : options.directory,
      ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
      ...(options.heartbeatId === undefined ? {} : { heartbeatId: options.heartbeatId }),
    });
    owns = true;
  }
  return new Router(client, owns, credentials, options);
}

/** A router: create one per process with {@link createRouter} and share it. */
export class Router {
  readonly directory: DirectoryClient;
  readonly #ownsClient: boolean;
  readonly #ownsStore: boolean;
  readonly #pools: ShardPools;
  readonly #deadlineMs: number;
  readonly #blockSize: number;
  readonly #sequences = new Map<string, { next: number; end: number; pending?: Promise<void> }>();
  readonly #unsubscribe: () => void;
  readonly #columnTypes = new Map<string, Promise<Map<string, string>>>();
  readonly #insertSql = new Map<string, string>();
  #closed = false;

  constructor(
    client: DirectoryClient,
    owns: boolean,
    credentials: CredentialResolver,
    options: RouterOptions,
  ) {
    this.directory = client;
    this.#ownsClient = owns;
    this.#ownsStore = owns && typeof options.directory === "string";
    this.#pools = new ShardPools(credentials, {
      min: options.pool?.min ?? 0,
      max: options.pool?.max ?? 10,
    });
    this.#deadlineMs = options.writeDeadlineMs ?? 5000;
    this.#blockSize = options.idBlockSize ?? 1000;
    this.#unsubscribe = client.subscribe((map) => void this.#pools.follow(map));
  }

  /** Where `key` lives: its keyspace id, the owning range (or pin) and the shard. */
  locate(key: unknown, options: KeyOptions = {}): KeyTarget {
    const loc = this.#owner(key, options);
    const copy = canonicalKeyBytes(key);
    // canonicalKeyBytes already returns a fresh copy: view it rather than copy it again.
    const bytes = Buffer.from(copy.buffer, copy.byteOffset, copy.length);
    return {
      ...loc,
      fence: { ksid: loc.ksid, keyBytes: bytes.length <= MAX_PINNED_KEY_BYTES ? bytes : null },
    };
  }

  /**
   * knex bound to the shard that owns `key`, for reads: any knex query builder works as
   * usual. Its sessions are READ ONLY; writes go through {@link write} or {@link writeOne}.
   */
  read(key: unknown, options: KeyOptions = {}): Knex {
    return this.readShard(this.#owner(key, options).shard);
  }

  /** Read-only knex bound to one shard by name. */
  readShard(shard: string): Knex {
    return this.#connections(shard).reader;
  }

  /**
   * Runs `fn` in a transaction on the shard that owns `key` (or all of `keys`, which must
   * share one shard). The transaction first checks the ownership fence; when the shard
   * refuses, the router refreshes the directory and retries on the new owner until the
   * deadline. `fn` never runs on a shard that does not own the key.
   */
  async write<T>(
    key: unknown,
    fn: (trx: Knex.Transaction) => Promise<T> | T,
    options: WriteOptions = {},
  ): Promise<T> {
    this.#assertOpen();
    const keys = Array.isArray(key) ? key : [key];
    if (keys.length === 0)
      throw new ShardkitError("BAD_ARGUMENT", "write() needs at least one key");
    return this.#retryFenced(keys, options, (targets) =>
      this.#fenced((targets[0] as KeyTarget).shard, targets, fn),
    );
  }

  /**
   * Runs one write statement on the shard that owns `key`, fenced, in one round trip:
   * BEGIN with the fence check, the statement and COMMIT go to MySQL together. Retries on the
   * new owner like {@link write}. Returns the driver's result (affectedRows, insertId, ...).
   */
  async writeOne(
    key: unknown,
    build: (knex: Knex) => Knex.QueryBuilder | Knex.Raw,
    options: WriteOptions = {},
  ): Promise<mysql.ResultSetHeader> {
    return this.#retryFenced([key], options, (targets) => this.#oneRoundTrip(targets, build));
  }

  /**
   * Inserts rows into a sharded table on the shard that owns them; each row's key is its
   * value of the table's key column, and all rows must live on one shard. Fenced and retried
   * on the new owner like {@link write}.
   *
   * One row of a hash-keyed table whose range holds no pinned key is one autocommit
   * statement: the INSERT reads the shard's ownership row itself, with a shared lock, and
   * inserts nothing when the shard does not serve the range. Other inserts take the path of
   * {@link writeOne}.
   */
  async insert(
    table: string,
    rows: Row | readonly Row[],
    options: InsertOptions = {},
  ): Promise<InsertResult> {
    this.#assertOpen();
    const def = this.directory.map.requireTable(table);
    const list: readonly Row[] = Array.isArray(rows) ? rows : [rows as Row];
    if (list.length === 0)
      throw new ShardkitError("BAD_ARGUMENT", "insert() needs at least one row");
    const keys = list.map((row, i) => {
      const key = row[def.keyColumn];
      if (key === undefined || key === null) {
        throw new ShardkitError(
          "BAD_ARGUMENT",
          `row ${i + 1} has no value for ${table}.${def.keyColumn}, the table's shard key; give every row its key (router.nextId() hands out unique ones)`,
        );
      }
      return key;
    });
    const only = list[0] as Row;
    // Only the first attempt may take the one-statement path: when it is refused, the retry
    // goes through the fence procedure, which says why.
    let firstAttempt = true;
    return this.#retryFenced(keys, { ...options, table }, async (targets) => {
      const target = targets[0] as KeyTarget;
      const oneStatement =
        firstAttempt &&
        list.length === 1 &&
        def.keyFunction === "hash" &&
        !target.pinned &&
        hasPlainValues(only) &&
        !this.directory.map.hasPinnedKeysIn(target.range);
      firstAttempt = false;
      if (oneStatement) return this.#fencedInsert(target, table, only);
      const header = await this.#oneRoundTrip(targets, (k) => k(table).insert(list));
      return { affectedRows: header.affectedRows, insertId: header.insertId };
    });
  }

  /** Runs `fn` in a plain transaction on the owner with NO ownership check. Only for repair tools. */
  async unsafeWriteWithoutFence<T>(
    key: unknown,
    fn: (trx: Knex.Transaction) => Promise<T> | T,
    options: KeyOptions = {},
  ): Promise<T> {
    const target = this.locate(key, options);
    try {
      return await this.#connections(target.shard).writer.transaction(async (trx) => fn(trx));
    } catch (error) {
      throw this.#wrap(error, target.shard, target.range);
    }
  }

  /**
   * Reads the rows of many keys from a sharded table: keys are grouped by shard and each
   * shard runs one `WHERE <key column> IN (...)` query, in parallel; rows are concatenated.
   */
  async readMany<T = Record<string, unknown>>(
    table: string,
    keys: readonly unknown[],
    build: (qb: Knex.QueryBuilder, shard: string) => Knex.QueryBuilder = (qb) => qb,
  ): Promise<T[]> {
    const def = this.directory.map.requireTable(table);
    const byShard = new Map<string, unknown[]>();
    for (const k of keys) {
      const shard = this.#owner(k, { table }).shard;
      const list = byShard.get(shard) ?? [];
      list.push(k);
      byShard.set(shard, list);
    }
    const results = await Promise.all(
      [...byShard].map(async ([shard, shardKeys]) => {
        const knex = this.readShard(shard);
        try {
          return (await build(
            knex(table).whereIn(def.keyColumn, shardKeys as readonly Knex.Value[]),
            shard,
          )) as T[];
        } catch (error) {
          throw this.#wrap(error, shard);
        }
      }),
    );
    return results.flat();
  }

  /** Runs a query on every shard (or those owning part of `range`) in parallel and merges the results. */
  async scatter<T = Record<string, unknown>>(options: ScatterOptions): Promise<ScatterResult<T>> {
    this.#assertOpen();
    const shards = this.#scatterShards(options.range);
    const offset = options.offset ?? 0;
    const limit = options.limit;
    const perShardLimit = limit === undefined ? undefined : limit + offset;
    const failed: ShardFailure[] = [];
    let rows: Record<string, unknown>[];

    if (options.aggregates) {
      const groupBy = options.groupBy ?? [];
      const parts = await this.#eachShard(shards, failed, async (shard, knex) => {
        const qb = options.query(knex, shard);
        const text = await this.#needsWeight(knex, qb, groupBy);
        qb.clearSelect();
        groupBy.forEach((c, i) => {
          qb.select(c);
          if (text[i]) qb.select(knex.raw("WEIGHT_STRING(??) AS ??", [c, groupWeightAlias(i)]));
        });
        for (const a of shardAggregates(options.aggregates ?? {})) {
          qb.select(
            knex.raw(
              `${a.sql}(${a.column ? "??" : "*"}) AS ??`,
              a.column ? [a.column, a.alias] : [a.alias],
            ),
          );
        }
        if (groupBy.length > 0) qb.groupBy([...groupBy]);
        return (await qb) as Record<string, unknown>[];
      });
      rows = mergeAggregates(parts, options.aggregates, groupBy).map(stripHelpers);
      if (options.orderBy) rows.sort(rowComparator(options.orderBy));
      rows = rows.slice(offset, limit === undefined ? undefined : offset + limit);
    } else if (options.orderBy && options.orderBy.length > 0) {
      const terms = options.orderBy;
      const compare = rowComparator(terms);
      // Bounded pages are fetched whole (at most limit + offset rows a shard) and merged in
      // memory; larger or unbounded ones stream, one pending row per shard.
      const buffered = perShardLimit !== undefined && perShardLimit <= BUFFERED_MERGE_LIMIT;
      const sources = await this.#eachShard(shards, failed, async (shard, knex) => {
        const qb = options.query(knex, shard);
        const text = await this.#needsWeight(
          knex,
          qb,
          terms.map((t) => t.column),
        );
        if (!hasColumns(qb)) qb.select("*");
        terms.forEach((t, i) => {
          if (text[i]) qb.select(knex.raw("WEIGHT_STRING(??) AS ??", [t.column, weightAlias(i)]));
          qb.orderBy(t.column, t.order ?? "asc");
        });
        if (perShardLimit !== undefined) qb.limit(perShardLimit);
        if (buffered) return (await qb) as Record<string, unknown>[];
        const it = qb.stream()[Symbol.asyncIterator]() as AsyncIterator<Record<string, unknown>>;
        // Fail now, not mid-merge, when the shard cannot run the query at all.
        let pending: IteratorResult<Record<string, unknown>> | undefined = await it.next();
        return {
          next: async () => {
            const p = pending;
            pending = undefined;
            return p ?? it.next();
          },
        } as AsyncIterator<Record<string, unknown>>;
      });
      if (buffered) {
        rows = mergeSortedArrays(sources as Record<string, unknown>[][], compare, offset, limit);
      } else {
        const iterators = sources as AsyncIterator<Record<string, unknown>>[];
        rows = [];
        try {
          for await (const row of mergeSorted(iterators, compare, offset, limit)) rows.push(row);
        } finally {
          // Read what each shard still sends (at most limit + offset rows, by its LIMIT) so
          // every connection goes back to its pool idle.
          await Promise.all(
            iterators.map(async (it) => {
              for (let r = await it.next(); !r.done; r = await it.next()) {
                // discard
              }
            }),
          ).catch(() => undefined);
        }
      }
      rows = rows.map(stripHelpers);
    } else {
      const parts = await this.#eachShard(shards, failed, async (shard, knex) => {
        const qb = options.query(knex, shard);
        if (perShardLimit !== undefined) qb.limit(perShardLimit);
        return (await qb) as Record<string, unknown>[];
      });
      rows = parts.flat().slice(offset, limit === undefined ? undefined : offset + limit);
    }

    if (failed.length > 0 && !options.allowPartial) throw new ScatterError(failed);
    return { rows: rows as T[], failed };
  }

  /**
   * The next id of `sequence`, unique across every shard and process. Ids come from blocks
   * reserved in the directory with one statement, so most calls cost no query; they only
   * increase within one router.
   */
  async nextId(sequence: string): Promise<number> {
    this.#assertOpen();
    let state = this.#sequences.get(sequence);
    if (!state) {
      state = { next: 0, end: 0 };
      this.#sequences.set(sequence, state);
    }
    while (state.next >= state.end) {
      if (!state.pending) {
        const s = state;
        s.pending = this.directory.store
          .reserveIds(sequence, this.#blockSize)
          .then((block) => {
            s.next = block.start;
            s.end = block.end;
          })
          .finally(() => {
            s.pending = undefined;
          });
      }
      await state.pending;
    }
    return state.next++;
  }

  /** Re-reads the directory now; resolves to true when its version moved. */
  refresh(): Promise<boolean> {
    return this.directory.refresh();
  }

  /** Closes every shard pool (and the directory client when the router opened it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    await this.#pools.closeAll();
    if (this.#ownsClient) {
      await this.directory.close();
      if (this.#ownsStore) await this.directory.store.close();
    }
  }

  /** Locates the keys, runs `attempt` on their shard, and on a fence refusal refreshes and retries until the deadline. */
  async #retryFenced<T>(
    keys: readonly unknown[],
    options: WriteOptions,
    attempt: (targets: readonly KeyTarget[]) => Promise<T>,
  ): Promise<T> {
    this.#assertOpen();
    const deadlineMs = options.deadlineMs ?? this.#deadlineMs;
    const deadline = Date.now() + deadlineMs;
    let delay = 10;
    for (let tries = 1; ; tries++) {
      const targets = keys.map((k) => this.locate(k, options));
      const first = targets[0] as KeyTarget;
      const other = targets.find((t) => t.shard !== first.shard);
      if (other) {
        throw new RouterError(
          "CROSS_SHARD",
          `the keys of one write live on different shards (${first.shard} and ${other.shard}); write them separately or pin them together`,
          { shard: first.shard, otherShard: other.shard },
        );
      }
      try {
        return await attempt(targets);
      } catch (error) {
        if (!isFenceError(error)) throw this.#wrap(error, first.shard, first.range);
        if (Date.now() + delay > deadline) {
          throw new RouterError(
            "DEADLINE_EXCEEDED",
            `shard ${first.shard} refused the write for range ${formatKeyRange(first.range)} ${tries} time(s) and no new owner was found within ${deadlineMs} ms; check shardkit ranges and shardkit doctor`,
            {
              shard: first.shard,
              range: formatKeyRange(first.range),
              cause: fencedError(error, first),
            },
          );
        }
        await this.directory.refresh().catch(() => undefined);
        await sleep(delay);
        delay = Math.min(delay * 2, 200);
      }
    }
  }

  /**
   * For each column, whether ORDER BY / GROUP BY on it needs MySQL's collation weight to merge
   * exactly: text columns do; numbers, dates and bytes compare correctly in JavaScript. Column
   * types are read once per table from information_schema; unknown columns get the weight.
   */
  async #needsWeight(
    knex: Knex,
    qb: Knex.QueryBuilder,
    columns: readonly string[],
  ): Promise<boolean[]> {
    const table = (qb as unknown as { _single?: { table?: unknown } })._single?.table;
    if (typeof table !== "string" || columns.length === 0) return columns.map(() => true);
    let types = this.#columnTypes.get(table);
    if (!types) {
      types = knex
        .select("COLUMN_NAME as name", "DATA_TYPE as type")
        .from("information_schema.COLUMNS")
        .whereRaw("TABLE_SCHEMA = DATABASE()")
        .andWhere("TABLE_NAME", table)
        .then(
          (rows: { name: string; type: string }[]) =>
            new Map(rows.map((r) => [r.name.toLowerCase(), r.type.toLowerCase()])),
        );
      types.catch(() => this.#columnTypes.delete(table));
      this.#columnTypes.set(table, types);
    }
    const known = await types.catch(() => new Map<string, string>());
    return columns.map((c) => {
      const type = known.get(c.replace(/^.*\./, "").toLowerCase());
      return type === undefined || TEXT_TYPES.has(type);
    });
  }

  /** Where `key` lives, without the fence parameters that only writes need. */
  /**
   * The fence of every key, one statement and COMMIT, sent as one multi-statement query.
   * MySQL stops at the first failing statement, so a refused fence (which rolls back) never
   * runs the statement, and a failed statement never commits.
   */
  async #oneRoundTrip(
    targets: readonly KeyTarget[],
    build: (knex: Knex) => Knex.QueryBuilder | Knex.Raw,
  ): Promise<mysql.ResultSetHeader> {
    const fences = distinctFences(targets);
    const shard = this.#connections((targets[0] as KeyTarget).shard);
    const { sql, bindings } = build(shard.writer).toSQL().toNative();
    const calls = fences.map((_, i) =>
      i === 0 ? "CALL shardkit_begin_fenced(?, ?)" : "CALL shardkit_fence(?, ?)",
    );
    const conn = await shard.statements.getConnection();
    try {
      const [results] = await conn.query(`${calls.join("; ")}; ${sql}; COMMIT`, [
        ...fences.flatMap((f) => [f.ksid, f.keyBytes]),
        ...(bindings as unknown[]),
      ]);
      return (results as unknown[])[fences.length] as mysql.ResultSetHeader;
    } catch (error) {
      if (!isFenceError(error)) await conn.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      conn.release();
    }
  }

  /** One row, inserted by a statement that checks the range's fence row itself (autocommit). */
  async #fencedInsert(target: KeyTarget, table: string, row: Row): Promise<InsertResult> {
    const columns = Object.keys(row).filter((c) => row[c] !== undefined);
    const cacheKey = `${table}\u0000${columns.join("\u0000")}`;
    let sql = this.#insertSql.get(cacheKey);
    if (sql === undefined) {
      sql = fencedInsertSql(table, columns, quoteIdentifier);
      if (this.#insertSql.size >= MAX_CACHED_INSERTS) this.#insertSql.clear();
      this.#insertSql.set(cacheKey, sql);
    }
    const bindings = columns.map((c) => row[c]);
    bindings.push(target.range.start, target.fence.ksid, target.fence.ksid);
    const [result] = await this.#connections(target.shard).statements.query(sql, bindings);
    const header = result as mysql.ResultSetHeader;
    if (header.affectedRows === 0) {
      throw new FenceRefusal(
        `shardkit fence: shard ${target.shard} does not serve range ${formatKeyRange(target.range)} for this key (not owned, frozen for a cutover, or holding a pinned key)`,
      );
    }
    return { affectedRows: header.affectedRows, insertId: header.insertId };
  }

  #owner(key: unknown, options: KeyOptions): KeyLocation {
    const map = this.directory.map;
    let loc: KeyLocation;
    try {
      loc = map.lookup(key, options.table);
    } catch (error) {
      if (error instanceof ShardkitError && error.code === "NO_LAYOUT") {
        throw new RouterError("NO_OWNER", `no shard owns any key yet: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
    if (!map.shard(loc.shard)) {
      throw new RouterError(
        "NO_OWNER",
        `the directory names shard ${loc.shard} as owner, but it is not registered; run shardkit doctor`,
        { shard: loc.shard, range: formatKeyRange(loc.range) },
      );
    }
    return loc;
  }

  #connections(shard: string): ShardConnections {
    this.#assertOpen();
    const record = this.directory.map.shard(shard);
    if (!record) {
      throw new RouterError("NO_OWNER", `unknown shard ${shard}; see shardkit shard list`, {
        shard,
      });
    }
    return this.#pools.get(record);
  }

  async #fenced<T>(
    shard: string,
    targets: readonly KeyTarget[],
    fn: (trx: Knex.Transaction) => Promise<T> | T,
  ): Promise<T> {
    const knex = this.#connections(shard).writer;
    const [first, ...rest] = distinctFences(targets) as [FenceParams, ...FenceParams[]];
    return knex.transaction(
      async (trx) => {
        for (const f of rest) await trx.raw("CALL shardkit_fence(?, ?)", [f.ksid, f.keyBytes]);
        return fn(trx);
      },
      { [FENCE_PARAM]: first } as Knex.TransactionConfig,
    );
  }

  #scatterShards(range: KeyRange | string | undefined): string[] {
    const map = this.directory.map;
    const r = typeof range === "string" ? parseKeyRange(range) : range;
    const names = new Set<string>();
    for (const a of map.snapshot.ranges) if (!r || rangesOverlap(a.range, r)) names.add(a.shard);
    if (!r) for (const p of map.snapshot.pins) names.add(p.shard);
    return [...names].sort();
  }

  async #eachShard<R>(
    shards: readonly string[],
    failed: ShardFailure[],
    run: (shard: string, knex: Knex) => Promise<R>,
  ): Promise<R[]> {
    const settled = await Promise.allSettled(shards.map((s) => run(s, this.readShard(s))));
    const out: R[] = [];
    settled.forEach((res, i) => {
      if (res.status === "fulfilled") out.push(res.value);
      else {
        const error = this.#wrap(res.reason, shards[i] as string);
        failed.push({
          shard: shards[i] as string,
          error: error instanceof Error ? error : new Error(String(error)),
        });
      }
    });
    return out;
  }

  /** The one place driver failures on a shard become SHARD_UNAVAILABLE; other errors pass as they are. */
  #wrap(error: unknown, shard: string, range?: KeyRange): unknown {
    if (error instanceof RouterError) return error;
    if (isTransportError(error)) {
      const where = range ? ` for range ${formatKeyRange(range)}` : "";
      return new RouterError(
        "SHARD_UNAVAILABLE",
        `shard ${shard} is unavailable${where}: ${redactUrl(String((error as Error)?.message ?? error))}`,
        { shard, ...(range ? { range: formatKeyRange(range) } : {}), cause: error },
      );
    }
    return error;
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new RouterError(
        "ROUTER_CLOSED",
        "the router is closed; create a new one with createRouter()",
      );
  }
}

/** The one-statement insert found the fence closed: handled like the procedures' refusal. */
class FenceRefusal extends Error {
  readonly errno = FENCE_ERRNO;
}

function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll("`", "``")}\``;
}

/** Values the driver binds as they are; anything else (knex.raw, objects) goes through knex. */
function hasPlainValues(row: Row): boolean {
  for (const c in row) {
    const v = row[c];
    if (
      v === null ||
      v === undefined ||
      typeof v === "string" ||
      typeof v === "number" ||
      typeof v === "bigint" ||
      typeof v === "boolean" ||
      v instanceof Date ||
      v instanceof Uint8Array
    )
      continue;
    return false;
  }
  return true;
}

/** The fence checks a write needs: one per distinct key. */
function distinctFences(targets: readonly KeyTarget[]): FenceParams[] {
  const seen = new Set<string>();
  const out: FenceParams[] = [];
  for (const t of targets) {
    const id = `${t.fence.ksid}:${t.fence.keyBytes?.toString("hex") ?? ""}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(t.fence);
  }
  return out;
}

function isFenceError(error: unknown): boolean {
  return (error as { errno?: number } | null)?.errno === FENCE_ERRNO;
}

function fencedError(error: unknown, target: KeyTarget): RouterError {
  return new RouterError(
    "FENCED",
    `shard ${target.shard} refused the key: ${(error as Error).message}`,
    {
      shard: target.shard,
      range: formatKeyRange(target.range),
      cause: error,
    },
  );
}

function isTransportError(error: unknown): boolean {
  const e = error as { errno?: number; code?: string; fatal?: boolean } | null;
  if (!e) return false;
  if (e.fatal) return true;
  return (
    (typeof e.code === "string" &&
      /^(ECONN|ETIMEDOUT|EHOST|ENOTFOUND|PROTOCOL_|EPIPE)/.test(e.code)) ||
    e.code === "ER_ACCESS_DENIED_ERROR"
  );
}

function hasColumns(qb: Knex.QueryBuilder): boolean {
  const statements = (qb as unknown as { _statements?: { grouping?: string }[] })._statements ?? [];
  return statements.some((s) => s.grouping === "columns");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
