import { type CredentialResolver, shardPasswordVariable } from "../../credentials.js";
import { DirectoryError } from "../../errors/directory-error.js";
import { ensureFence, FENCE_TABLE } from "../../fence/ownership-fence.js";
import type { ShardRecord } from "../../model.js";
import { formatEndpoint, type MysqlEndpoint } from "../../mysql/mysql-url.js";
import {
  connect,
  isConnectError,
  quoteIdentifier,
  type SqlConnection,
} from "../../mysql/sql-connection.js";

/** Opens connections to shards with their resolved passwords; a shard that cannot be reached is SHARD_UNAVAILABLE. */
export class ShardConnections {
  readonly #credentials: CredentialResolver;
  readonly #connectTimeoutMs: number;

  constructor(credentials: CredentialResolver, connectTimeoutMs: number) {
    this.#credentials = credentials;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** The password for shard `name`. */
  password(name: string): string {
    return this.#credentials(name);
  }

  /** A connection to `shard`'s database (the caller closes it); `password` overrides the resolver. */
  async open(shard: ShardRecord, password?: string): Promise<SqlConnection> {
    try {
      return await connect(
        { ...shard, password: password ?? this.#credentials(shard.name) },
        { connectTimeoutMs: this.#connectTimeoutMs },
      );
    } catch (error) {
      throw shardUnavailable(shard.name, error);
    }
  }

  /**
   * Runs `work` on a connection to `shard` and closes it. Losing the shard midway is
   * SHARD_UNAVAILABLE too, never mistaken for losing the directory.
   */
  async with<T>(
    shard: ShardRecord,
    work: (conn: SqlConnection) => Promise<T>,
    password?: string,
  ): Promise<T> {
    const conn = await this.open(shard, password);
    try {
      return await work(conn);
    } catch (error) {
      throw isConnectError(error) ? shardUnavailable(shard.name, error) : error;
    } finally {
      await conn.close();
    }
  }

  /**
   * Makes a new shard ready: creates its database when missing and its ownership fence;
   * refuses a database whose fence already holds rows (it is a shard of some directory).
   */
  async prepare(endpoint: MysqlEndpoint & { readonly name: string }): Promise<void> {
    let server: SqlConnection;
    try {
      server = await connect(endpoint, {
        withoutDatabase: true,
        connectTimeoutMs: this.#connectTimeoutMs,
      });
    } catch (error) {
      throw shardUnavailable(endpoint.name, error);
    }
    try {
      await server.execute(`CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(endpoint.database)}`);
      await server.execute(`USE ${quoteIdentifier(endpoint.database)}`);
      await ensureFence(server);
      const held = await server.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${FENCE_TABLE}`);
      if (Number(held[0]?.n ?? 0) > 0) {
        throw new DirectoryError(
          "SHARD_EXISTS",
          `${formatEndpoint(endpoint)} already holds ownership rows (it is a shard of some directory); register an empty database instead`,
        );
      }
    } finally {
      await server.close();
    }
  }
}

function shardUnavailable(shard: string, error: unknown): DirectoryError {
  return new DirectoryError(
    "SHARD_UNAVAILABLE",
    `cannot reach shard ${shard}: ${(error as Error).message}; check the server runs and its password (${shardPasswordVariable(shard)} or the config's credentials)`,
    { details: { shard }, cause: error },
  );
}
