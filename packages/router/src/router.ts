// The Router class applications hold: each method checks its arguments and hands over to
// write/, scatter/, reference/ or ids/. One file because it is the one public class (past 400 lines).
import { type DirectoryClient, type DirectoryMap, ShardkitError } from "@shardkit/directory";
import type { Knex } from "knex";
import type { Registry } from "prom-client";
import {
  type ColumnKeyOf,
  type KeyTarget,
  locateKey,
  ownerOfKey,
  resolveDestination,
} from "./destination.js";
import { IdSequences } from "./ids/id-sequences.js";
import { type KeyColumnSource, KeyColumns } from "./keys/key-columns.js";
import { RouterMetrics } from "./metrics/router-metrics.js";
import {
  type ReferencePosition,
  ReferenceTables,
  type WaitForReferenceOptions,
} from "./reference/reference-tables.js";
import {
  optionsOf,
  requireArray,
  requireCount,
  requireFunction,
  requireName,
} from "./router-arguments.js";
import type { RouterContext } from "./router-context.js";
import { RouterError } from "./router-errors.js";
import type {
  InsertOptions,
  InsertResult,
  KeyOptions,
  KeyWriteOptions,
  KeyWriteResult,
  RouterOptions,
  Row,
  ScatterOptions,
  ScatterResult,
  WriteOptions,
  WriteResult,
} from "./router-options.js";
import { Scatter } from "./scatter/scatter.js";
import { wrapShardError } from "./shard-errors.js";
import type { ShardConnections, ShardPools } from "./shard-pools.js";
import { CopyCollisions, isDuplicateKey } from "./write/copy-collisions.js";
import { runFencedBuilder } from "./write/fenced-builder.js";
import { FencedInserts } from "./write/fenced-insert.js";
import { FencedKeyWrites } from "./write/fenced-key-write.js";
import { runFencedStatement } from "./write/fenced-statement.js";
import { fencedByRange, runFencedTransaction } from "./write/fenced-transaction.js";
import { retryFenced } from "./write/retry-fenced.js";
import { RoutingWatch } from "./write/routing-watch.js";

/** Re-read the key columns at most this often while some shard did not answer. */
const KEY_COLUMNS_RETRY_MS = 1000;

/** A router: create one per process with `createRouter` and share it. */
export class Router {
  /** The caching directory client this router follows. */
  readonly directory: DirectoryClient;
  /**
   * The router's Prometheus metrics registry: mount it on the application's own `/metrics`,
   * e.g. `res.type(router.metrics.contentType).send(await router.metrics.metrics())`.
   */
  readonly metrics: Registry;
  readonly #metrics: RouterMetrics;
  readonly #countedReaders = new WeakSet<Knex>();
  readonly #ownsClient: boolean;
  readonly #pools: ShardPools;
  readonly #ctx: RouterContext;
  readonly #ids: IdSequences;
  readonly #inserts: FencedInserts;
  readonly #keyWrites: FencedKeyWrites;
  readonly #collisions: CopyCollisions;
  readonly #scatter: Scatter;
  readonly #unsubscribe: () => void;
  readonly #keySource: KeyColumnSource;
  readonly #columnKeyOf: ColumnKeyOf;
  readonly #routing: RoutingWatch;
  /** The key columns of the directory version keys are routed by (its `map`). */
  #keys: KeyColumns;
  /** The latest read of key columns; the one whose result becomes `#keys`. */
  #reading: Promise<void> = Promise.resolve();
  #readStartedAt = 0;
  #closed = false;
  readonly #sources: ShardPools | undefined;
  readonly #references: ReferenceTables;

  /** @internal Use `createRouter`. */
  constructor(
    client: DirectoryClient,
    ownsClient: boolean,
    pools: ShardPools,
    keys: KeyColumns,
    keySource: KeyColumnSource,
    options: RouterOptions,
    sources?: ShardPools,
  ) {
    this.directory = client;
    this.#metrics = new RouterMetrics(client, options.metrics);
    this.metrics = this.#metrics.registry;
    this.#ownsClient = ownsClient;
    this.#pools = pools;
    this.#keys = keys;
    this.#keySource = keySource;
    this.#columnKeyOf = (table, key) => {
      const current = this.#keys;
      if (current.unreadShards.length > 0) this.#readAgainSoon();
      return current.columnKey(table, key);
    };
    const router = this;
    this.#routing = new RoutingWatch(() => this.#refresh());
    this.#ctx = {
      directory: client,
      get map() {
        return router.#keys.map;
      },
      writeDeadlineMs: options.writeDeadlineMs ?? 5000,
      columnKey: this.#columnKeyOf,
      connections: (shard) => this.#connections(shard),
      locate: (key, table) => locateKey(this.#keys.map, key, table, this.#columnKeyOf),
      routing: this.#routing,
      metrics: this.#metrics,
      assertOpen: () => this.#assertOpen(),
    };
    this.#ids = new IdSequences(client, options.idBlockSize ?? 1000);
    this.#collisions = new CopyCollisions(this.#ctx);
    this.#inserts = new FencedInserts(this.#ctx, this.#collisions);
    this.#keyWrites = new FencedKeyWrites(this.#ctx);
    this.#scatter = new Scatter(this.#ctx);
    this.#unsubscribe = client.subscribe((map) => {
      void this.#pools.follow(map);
      this.#follow(map);
    });
    this.#sources = sources;
    this.#references = new ReferenceTables(client, sources ?? pools, (shard) =>
      this.readShard(shard),
    );
    // The directory may have moved while the first key columns were read.
    if (client.map !== keys.map) this.#follow(client.map);
  }

  /**
   * Where `key` lives: its keyspace id, the owning range (or pin), the shard and the fence a
   * write checks. With `{ table }`, the key is routed as the table's key column stores it.
   */
  locate(key: unknown, options?: KeyOptions): KeyTarget {
    return this.#ctx.locate(key, tableOf(optionsOf(options, "locate() options")));
  }

  /**
   * knex bound to the shard that owns `key`, for reads: any knex query builder works as
   * usual. Its sessions are READ ONLY; writes go through {@link write} or {@link writeOne}.
   */
  read(key: unknown, options?: KeyOptions): Knex {
    this.#assertOpen();
    const table = tableOf(optionsOf(options, "read() options"));
    // A read needs only the owner, not the fence bytes a write checks.
    const shard = ownerOfKey(this.#keys.map, key, table, this.#columnKeyOf).shard;
    this.#metrics.query(shard, "read");
    return this.readShard(shard);
  }

  /** Read-only knex bound to one shard by name. */
  readShard(shard: string): Knex {
    requireName(shard, "readShard() shard", "s1");
    const reader = this.#connections(shard).reader;
    if (!this.#countedReaders.has(reader)) {
      // Reads run when the caller awaits the builder: knex says when one fails.
      this.#countedReaders.add(reader);
      reader.on("query-error", (error: unknown) => {
        const code = (error as { code?: unknown }).code;
        this.#metrics.error(shard, "read", typeof code === "string" ? code : "QUERY_FAILED");
      });
    }
    return reader;
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
    options?: WriteOptions,
  ): Promise<T> {
    this.#assertOpen();
    const keys = Array.isArray(key) ? key : [key];
    if (keys.length === 0)
      throw new ShardkitError(
        "BAD_ARGUMENT",
        "write() needs at least one key; pass a key or an array of keys of one shard",
      );
    requireFunction(fn, "write()'s second argument", "(trx) => ... to run in the transaction");
    const opts = writeOptionsOf(options, "write() options");
    // Only the first attempt may check the range row alone: a refused one retries through the
    // fence procedures, which tell a pinned key (or a stale count of them) apart.
    let attempts = 0;
    // Awaited rather than returned: an async function that returns a promise takes two more
    // promise steps to settle, and every single-row write pays for them.
    return await retryFenced(this.#ctx, keys, opts, (targets) =>
      runFencedTransaction(
        this.#connections((targets[0] as KeyTarget).shard),
        targets,
        fn,
        attempts++ === 0 && fencedByRange(this.#ctx, targets, opts.table),
      ),
    );
  }

  /**
   * Runs one write statement on the shard that owns `key`, fenced, in one round trip. An UPDATE
   * or DELETE with only WHERE clauses, or an INSERT of one plain row, for a key whose range holds
   * no pinned key, runs as one autocommit statement that checks the range's fence row itself;
   * any other goes with BEGIN, the fence procedure and COMMIT. Retries on the new owner like
   * {@link write}. Returns the driver's result (affectedRows, insertId, ...). A plain knex insert
   * that meets a move's copy of its row is handled as {@link insert} handles it.
   */
  async writeOne(
    key: unknown,
    build: (knex: Knex) => Knex.QueryBuilder | Knex.Raw,
    options?: WriteOptions,
  ): Promise<WriteResult> {
    this.#assertOpen();
    requireFunction(
      build,
      "writeOne()'s second argument",
      '(knex) => query, e.g. (k) => k("users").insert(row)',
    );
    const opts = writeOptionsOf(options, "writeOne() options");
    let attempts = 0;
    return retryFenced(this.#ctx, [key], opts, async (targets, deadline) => {
      const target = targets[0] as KeyTarget;
      const shard = this.#connections(target.shard);
      try {
        if (attempts++ === 0 && fencedByRange(this.#ctx, targets, opts.table)) {
          const header = await runFencedBuilder(shard, target, build);
          // Nothing changed: refused, or no row matched; the fence procedures tell which.
          if (header && header.affectedRows > 0) return header;
        }
        return await runFencedStatement(shard, targets, build);
      } catch (error) {
        if (!isDuplicateKey(error) || !this.#collisions.holdsCopies(shard.shard.name)) throw error;
        return this.#collisions.writeOverCopies(targets, shard, build, error, deadline);
      }
    });
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
    options?: InsertOptions,
  ): Promise<InsertResult> {
    this.#assertOpen();
    requireName(table, "insert()'s table", "users");
    const opts = optionsOf(options, "insert() options");
    requireCount(opts.deadlineMs, "insert() option deadlineMs", 0, "{ deadlineMs: 2000 }");
    return this.#inserts.insert(table, rows, opts);
  }

  /**
   * Updates the rows of `key` (or of `keys`, which must share one shard) in a sharded table,
   * fenced and retried on the new owner like {@link write}; `options.where` narrows the rows.
   * Keys in ranges without pinned keys take one autocommit statement that checks the shard's
   * fence rows itself. The shard key column cannot change.
   * @example await router.update("orders", 42, { status: "paid" }, { where: { order_id: 7 } })
   */
  update(
    table: string,
    key: unknown,
    changes: Row,
    options?: KeyWriteOptions,
  ): Promise<KeyWriteResult> {
    return this.#keyWrites.update(table, key, changes, options);
  }

  /**
   * Deletes the rows of `key` (or of `keys`, which must share one shard) from a sharded table,
   * fenced like {@link update}; `options.where` narrows the rows.
   * @example await router.delete("orders", 42, { where: { order_id: 7 } })
   */
  delete(table: string, key: unknown, options?: KeyWriteOptions): Promise<KeyWriteResult> {
    return this.#keyWrites.delete(table, key, options);
  }

  /** Runs `fn` in a plain transaction on the owner with NO ownership check. Only for repair tools. */
  async unsafeWriteWithoutFence<T>(
    key: unknown,
    fn: (trx: Knex.Transaction) => Promise<T> | T,
    options?: KeyOptions,
  ): Promise<T> {
    requireFunction(fn, "unsafeWriteWithoutFence()'s second argument", "(trx) => ...");
    const target = this.locate(key, options);
    try {
      return await this.#connections(target.shard).writer.transaction(async (trx) => fn(trx));
    } catch (error) {
      throw wrapShardError(error, target.shard, target.range);
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
    this.#assertOpen();
    requireName(table, "readMany()'s table", "users");
    requireArray(keys, "readMany()'s keys", "[1, 2, 3]");
    requireFunction(build, "readMany()'s third argument", "(qb, shard) => qb");
    const map = this.#keys.map;
    const def = map.requireTable(table);
    const destinations = resolveDestination(map, { kind: "keys", keys, table }, this.#columnKeyOf);
    const results = await Promise.all(
      destinations.map(async ({ shard, targets }) => {
        const knex = this.readShard(shard);
        this.#metrics.query(shard, "read");
        try {
          // The column keys, not the keys as given: "06202" would be compared as a double.
          const values = targets.map((t) => t.columnKey) as readonly Knex.Value[];
          return (await build(knex(table).whereIn(def.keyColumn, values), shard)) as T[];
        } catch (error) {
          throw wrapShardError(error, shard);
        }
      }),
    );
    return results.flat();
  }

  /** Runs a query on every shard (or those owning part of `range`) in parallel and merges the results. */
  scatter<T = Record<string, unknown>>(options: ScatterOptions): Promise<ScatterResult<T>> {
    return this.#scatter.run<T>(options);
  }

  /**
   * The next id of `sequence`, unique across every shard and process. Ids come from blocks
   * reserved in the directory with one statement, so most calls cost no query; they only
   * increase within one router.
   */
  async nextId(sequence: string): Promise<number> {
    this.#assertOpen();
    return this.#ids.next(sequence);
  }

  /**
   * Re-reads the directory now, and the key column types of every sharded table from the
   * shards (call it after changing a key column's type or a table's unique keys); resolves to
   * true when the directory's version moved.
   */
  async refresh(): Promise<boolean> {
    this.#assertOpen();
    this.#collisions.forgetKeys();
    const changed = await this.directory.refresh();
    // The key columns are read again either way: a schema change moves no directory version.
    if (changed) await this.#latestRead();
    else await this.#readKeyColumns(this.directory.map);
    return changed;
  }

  /** Closes every shard pool (and the directory client when the router opened it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    // A read of key columns in flight would open pools again after they are closed.
    await this.#reading;
    await this.#pools.closeAll();
    await this.#sources?.closeAll();
    if (this.#ownsClient) await this.directory.close();
  }

  /**
   * knex on the source database of reference table `table`, for its writes: plain
   * transactions, no fence. Every shard reads its own copy (joins stay on one shard); the
   * copies catch up through `shardkit reference follow`, and {@link waitForReference} waits
   * for them. UNKNOWN_TABLE when `table` is not a reference table.
   */
  reference(table: string): Knex {
    this.#assertOpen();
    requireName(table, "reference() table", "products");
    return this.#references.source(table);
  }

  /** The binlog position of `table`'s source now: after a write, what its copies must reach. */
  referencePosition(table: string): Promise<ReferencePosition> {
    this.#assertOpen();
    return this.#references.position(table);
  }

  /**
   * Waits until every shard's copy of `table` has applied `position` (default: the source's
   * position now), so a write made before is read on every copy; DEADLINE_EXCEEDED after
   * `timeoutMs` (10 s) naming the copies behind.
   */
  waitForReference(
    table: string,
    position?: ReferencePosition,
    options?: WaitForReferenceOptions,
  ): Promise<void> {
    this.#assertOpen();
    return this.#references.wait(table, position, options);
  }

  /** Refreshes the directory and waits until keys are routed by its newest version. */
  async #refresh(): Promise<boolean> {
    const changed = await this.directory.refresh();
    if (this.#keys.map !== this.directory.map) await this.#latestRead();
    return changed;
  }

  /** Waits for the latest read of the key columns (and any started meanwhile). */
  async #latestRead(): Promise<void> {
    for (let reading = this.#reading; ; reading = this.#reading) {
      await reading;
      if (reading === this.#reading) return;
    }
  }

  /**
   * Moves routing to a new directory version: at once when its tables' key columns are known
   * (a split, a move or a pin changes none; a cutover must not wait for the shards to answer),
   * else once they are read. The columns are read again from the shards either way.
   */
  #follow(map: DirectoryMap): void {
    const known = this.#keys.rebind(map);
    if (known) this.#route(known);
    void this.#readKeyColumns(map);
  }

  /** Reads the key columns of `map` from the shards; routing moves to `map` once they are read. */
  #readKeyColumns(map: DirectoryMap): Promise<void> {
    this.#readStartedAt = Date.now();
    const reading = KeyColumns.read(map, this.#keySource).then((keys) => {
      // Only the latest read decides: an older one finishing late must not win.
      if (this.#reading === reading && !this.#closed) this.#route(keys);
    });
    this.#reading = reading;
    return reading;
  }

  /** Routes keys by `keys` from now on; writes waiting for a new version wake when it is one. */
  #route(keys: KeyColumns): void {
    const moved = keys.map !== this.#keys.map;
    this.#keys = keys;
    if (moved) this.#routing.moved();
  }

  /** Reads the key columns again in the background, at most once a second, while a shard did not answer. */
  #readAgainSoon(): void {
    if (Date.now() - this.#readStartedAt < KEY_COLUMNS_RETRY_MS || this.#closed) return;
    void this.#readKeyColumns(this.directory.map);
  }

  #connections(shard: string): ShardConnections {
    this.#assertOpen();
    const record = this.directory.map.shard(shard);
    if (!record) {
      throw new RouterError("NO_OWNER", `unknown shard ${shard}; see shardkit shard list`, {
        details: { shard },
      });
    }
    return this.#pools.get(record);
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new RouterError(
        "ROUTER_CLOSED",
        "the router is closed; create a new one with createRouter()",
      );
  }
}

function tableOf(options: KeyOptions): string | undefined {
  const table = options.table;
  if (table !== undefined) requireName(table, "option table", "users");
  return table;
}

function writeOptionsOf(options: WriteOptions | undefined, what: string): WriteOptions {
  const opts = optionsOf(options, what);
  tableOf(opts);
  requireCount(
    opts.deadlineMs,
    `${what.replace(" options", "")} option deadlineMs`,
    0,
    "{ deadlineMs: 2000 }",
  );
  return opts;
}
