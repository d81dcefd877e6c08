import { type CredentialResolver, type DirectoryClient, ShardkitError } from "@shardkit/directory";
import type { Knex } from "knex";
import { type KeyTarget, locateKey, resolveDestination } from "./destination.js";
import { IdSequences } from "./ids/id-sequences.js";
import type { RouterContext } from "./router-context.js";
import { RouterError } from "./router-errors.js";
import type {
  InsertOptions,
  InsertResult,
  KeyOptions,
  RouterOptions,
  Row,
  ScatterOptions,
  ScatterResult,
  WriteOptions,
  WriteResult,
} from "./router-options.js";
import { Scatter } from "./scatter/scatter.js";
import { wrapShardError } from "./shard-errors.js";
import { type ShardConnections, ShardPools } from "./shard-pools.js";
import { FencedInserts } from "./write/fenced-insert.js";
import { runFencedStatement } from "./write/fenced-statement.js";
import { runFencedTransaction } from "./write/fenced-transaction.js";
import { retryFenced } from "./write/retry-fenced.js";

/** A router: create one per process with `createRouter` and share it. */
export class Router {
  /** The caching directory client this router follows. */
  readonly directory: DirectoryClient;
  readonly #ownsClient: boolean;
  readonly #pools: ShardPools;
  readonly #ctx: RouterContext;
  readonly #ids: IdSequences;
  readonly #inserts: FencedInserts;
  readonly #scatter: Scatter;
  readonly #unsubscribe: () => void;
  #closed = false;

  /** @internal Use `createRouter`. */
  constructor(
    client: DirectoryClient,
    ownsClient: boolean,
    credentials: CredentialResolver,
    options: RouterOptions,
  ) {
    this.directory = client;
    this.#ownsClient = ownsClient;
    this.#pools = new ShardPools(credentials, {
      min: options.pool?.min ?? 0,
      max: options.pool?.max ?? 10,
    });
    this.#ctx = {
      directory: client,
      writeDeadlineMs: options.writeDeadlineMs ?? 5000,
      connections: (shard) => this.#connections(shard),
      locate: (key, table) => locateKey(client.map, key, table),
      assertOpen: () => this.#assertOpen(),
    };
    this.#ids = new IdSequences(client, options.idBlockSize ?? 1000);
    this.#inserts = new FencedInserts(this.#ctx);
    this.#scatter = new Scatter(this.#ctx);
    this.#unsubscribe = client.subscribe((map) => void this.#pools.follow(map));
  }

  /** Where `key` lives: its keyspace id, the owning range (or pin), the shard and the fence a write checks. */
  locate(key: unknown, options: KeyOptions = {}): KeyTarget {
    return this.#ctx.locate(key, options.table);
  }

  /**
   * knex bound to the shard that owns `key`, for reads: any knex query builder works as
   * usual. Its sessions are READ ONLY; writes go through {@link write} or {@link writeOne}.
   */
  read(key: unknown, options: KeyOptions = {}): Knex {
    return this.readShard(this.locate(key, options).shard);
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
    if (typeof fn !== "function")
      throw new ShardkitError("BAD_ARGUMENT", "write() needs a function (trx) => ... to run");
    return retryFenced(this.#ctx, keys, options, (targets) =>
      runFencedTransaction(this.#connections((targets[0] as KeyTarget).shard), targets, fn),
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
  ): Promise<WriteResult> {
    if (typeof build !== "function")
      throw new ShardkitError("BAD_ARGUMENT", "writeOne() needs a function (knex) => query");
    return retryFenced(this.#ctx, [key], options, (targets) =>
      runFencedStatement(this.#connections((targets[0] as KeyTarget).shard), targets, build),
    );
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
  insert(
    table: string,
    rows: Row | readonly Row[],
    options: InsertOptions = {},
  ): Promise<InsertResult> {
    return this.#inserts.insert(table, rows, options);
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
    const def = this.directory.map.requireTable(table);
    const destinations = resolveDestination(this.directory.map, { kind: "keys", keys, table });
    const results = await Promise.all(
      destinations.map(async ({ shard, targets }) => {
        const knex = this.readShard(shard);
        try {
          return (await build(
            knex(table).whereIn(def.keyColumn, targets.map((t) => t.key) as readonly Knex.Value[]),
            shard,
          )) as T[];
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
  nextId(sequence: string): Promise<number> {
    this.#assertOpen();
    return this.#ids.next(sequence);
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
    if (this.#ownsClient) await this.directory.close();
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
