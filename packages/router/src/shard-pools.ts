import type { CredentialResolver, DirectoryMap, ShardRecord } from "@shardkit/directory";
import knexFactory, { type Knex } from "knex";
import mysqlCore from "mysql2";
import type mysql from "mysql2/promise";
import { createShardKnex } from "./knex/knex-internals.js";

/** Pool sizes per shard. */
export interface PoolSize {
  readonly min: number;
  readonly max: number;
}

/**
 * The connections of one shard, each opened on first use:
 * - `reader`: knex whose sessions are READ ONLY, handed to callers for reads, so that it
 *   cannot become an unfenced write path;
 * - `writer`: knex for fenced transactions (and the one path named unsafe);
 * - `statements`: a mysql2 pool that allows multiple statements, only for the statements
 *   the router composes itself (fence, one write, COMMIT in one round trip);
 * - `scatterReader`: a mysql2 pool whose sessions are READ ONLY, for the SQL a scatter builds
 *   (mysql2 directly, for the column metadata the merge needs).
 */
export class ShardConnections {
  readonly location: string;
  #reader: Knex | undefined;
  #writer: Knex | undefined;
  #statements: mysqlCore.Pool | undefined;
  #statementsPromise: mysql.Pool | undefined;
  #scatterReader: mysqlCore.Pool | undefined;

  constructor(
    readonly shard: ShardRecord,
    private readonly password: string,
    private readonly size: PoolSize,
  ) {
    this.location = locationOf(shard);
  }

  get reader(): Knex {
    this.#reader ??= this.#knex(true);
    return this.#reader;
  }

  get writer(): Knex {
    this.#writer ??= this.#knex(false);
    return this.#writer;
  }

  /** The statements pool through mysql2's promise API, for statements off the hot path. */
  get statements(): mysql.Pool {
    this.#statementsPromise ??= this.#statementsPool().promise();
    return this.#statementsPromise;
  }

  /**
   * Runs one query of the router's own composition on the statements pool and resolves with
   * its result. mysql2's callback API directly: its promise API records a stack trace for every
   * query, which costs a single-row write about a tenth of its time in the router (see
   * docs/decisions.md); the router attaches its own context to failures.
   */
  statement(sql: string, values: readonly unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#statementsPool().query(sql, values as unknown[], (error, result) =>
        error ? reject(error) : resolve(result),
      );
    });
  }

  #statementsPool(): mysqlCore.Pool {
    this.#statements ??= mysqlCore.createPool({
      ...this.#connection(),
      multipleStatements: true,
      connectionLimit: this.size.max,
      maxIdle: this.size.max,
    });
    return this.#statements;
  }

  get scatterReader(): mysqlCore.Pool {
    if (!this.#scatterReader) {
      const pool = mysqlCore.createPool({
        ...this.#connection(),
        // The same value types as the knex pools (mysql2's defaults, spelled out).
        bigNumberStrings: false,
        decimalNumbers: false,
        connectionLimit: this.size.max,
        maxIdle: this.size.max,
      });
      // Queued before the connection's first query, so no scatter runs in a writable session.
      pool.on("connection", (conn) => conn.query("SET SESSION TRANSACTION READ ONLY"));
      this.#scatterReader = pool;
    }
    return this.#scatterReader;
  }

  async close(): Promise<void> {
    await Promise.all([
      this.#reader?.destroy(),
      this.#writer?.destroy(),
      endPool(this.#statements),
      endPool(this.#scatterReader),
    ]).catch(() => undefined);
  }

  #connection() {
    const s = this.shard;
    return {
      host: s.host,
      port: s.port,
      user: s.user,
      password: this.password,
      database: s.database,
      supportBigNumbers: true,
    };
  }

  #knex(readOnly: boolean): Knex {
    return createShardKnex(
      {
        // A fenced transaction sends its check with BEGIN and the first statement in one query.
        connection: readOnly
          ? this.#connection()
          : { ...this.#connection(), multipleStatements: true },
        // Failures reach the caller as rejected promises; knex's own console output would
        // only repeat them.
        log: {
          warn: () => undefined,
          error: () => undefined,
          deprecate: () => undefined,
          debug: () => undefined,
        },
        pool: {
          min: this.size.min,
          max: this.size.max,
          ...(readOnly
            ? {
                afterCreate: (
                  conn: { query(sql: string, cb: (err: Error | null) => void): void },
                  done: (err: Error | null, conn: unknown) => void,
                ) => conn.query("SET SESSION TRANSACTION READ ONLY", (err) => done(err, conn)),
              }
            : {}),
        },
      },
      knexFactory,
    );
  }
}

/** Ends a mysql2 pool opened on first use, if it was. */
function endPool(pool: mysqlCore.Pool | undefined): Promise<void> | undefined {
  return pool && new Promise<void>((resolve) => pool.end(() => resolve()));
}

/** Every shard's connections, reopened when a shard's location changes and closed when it leaves. */
export class ShardPools {
  readonly #byShard = new Map<string, ShardConnections>();

  constructor(
    private readonly credentials: CredentialResolver,
    private readonly size: PoolSize,
  ) {}

  /** The connections of `shard`, as the directory describes it now. */
  get(shard: ShardRecord): ShardConnections {
    const existing = this.#byShard.get(shard.name);
    // The same record (one directory version) needs no comparison.
    if (existing && (existing.shard === shard || existing.location === locationOf(shard)))
      return existing;
    if (existing) void existing.close();
    const fresh = new ShardConnections(shard, this.credentials(shard.name), this.size);
    this.#byShard.set(shard.name, fresh);
    return fresh;
  }

  /** Closes the connections of shards that left the directory or moved. */
  async follow(map: DirectoryMap): Promise<void> {
    const gone: ShardConnections[] = [];
    for (const [name, c] of this.#byShard) {
      const record = map.shard(name);
      if (!record || locationOf(record) !== c.location) {
        this.#byShard.delete(name);
        gone.push(c);
      }
    }
    await Promise.all(gone.map((c) => c.close()));
  }

  async closeAll(): Promise<void> {
    const all = [...this.#byShard.values()];
    this.#byShard.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}

/** Where a shard's pools point; a change means they must be reopened. */
function locationOf(shard: ShardRecord): string {
  return `${shard.user}@${shard.host}:${shard.port}/${shard.database}`;
}
