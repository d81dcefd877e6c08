import { DirectoryError } from "../../errors/directory-error.js";
import { formatEndpoint, type MysqlEndpoint } from "../../mysql/mysql-url.js";
import {
  type ConnectOptions,
  connect,
  isConnectError,
  mysqlCodeOf,
  type SqlConnection,
} from "../../mysql/sql-connection.js";
import { checkSchemaVersion, notInitialized } from "./schema-migrator.js";

/**
 * The store's one connection to the directory database: work runs one call at a time on it,
 * it is checked against the schema before first use, and dropped when the server went away.
 */
export class DirectoryConnection {
  readonly endpoint: MysqlEndpoint;
  /** The directory's location with the password masked. */
  readonly location: string;
  readonly #connectTimeoutMs: number;
  #conn: SqlConnection | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(endpoint: MysqlEndpoint, connectTimeoutMs: number) {
    this.endpoint = endpoint;
    this.location = formatEndpoint(endpoint);
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** A new connection of its own (the caller closes it); `withoutDatabase` to create the database. */
  async open(options: Pick<ConnectOptions, "withoutDatabase"> = {}): Promise<SqlConnection> {
    try {
      return await connect(this.endpoint, {
        ...options,
        connectTimeoutMs: this.#connectTimeoutMs,
      });
    } catch (error) {
      if (mysqlCodeOf(error) === "ER_BAD_DB_ERROR") throw notInitialized(this.location);
      throw new DirectoryError(
        "DIRECTORY_UNAVAILABLE",
        `cannot reach the directory: ${(error as Error).message}; check --directory (or SHARDKIT_DIRECTORY) and that the server runs`,
        { cause: error },
      );
    }
  }

  /** The shared connection, without checking the schema (for `init`). */
  async connection(): Promise<SqlConnection> {
    this.#conn ??= await this.open();
    return this.#conn;
  }

  /** The shared connection, after checking the schema exists and is one this code understands. */
  async ready(): Promise<SqlConnection> {
    if (this.#conn) return this.#conn;
    const conn = await this.connection();
    try {
      await checkSchemaVersion(conn, this.location);
    } catch (error) {
      this.#conn = undefined;
      await conn.close();
      throw error;
    }
    return conn;
  }

  /** Runs `work` after every earlier call finished; a lost server becomes DIRECTORY_UNAVAILABLE. */
  serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(async (error: unknown) => {
      if (isConnectError(error) && this.#conn) {
        const c = this.#conn;
        this.#conn = undefined;
        await c.close();
      }
    });
    return run.catch((error: unknown) => {
      if (isConnectError(error)) {
        throw new DirectoryError(
          "DIRECTORY_UNAVAILABLE",
          `lost the directory at ${this.location}: ${(error as Error).message}; check that the server runs`,
          { cause: error },
        );
      }
      throw error;
    });
  }

  /** Waits for running work, then closes the shared connection. */
  async close(): Promise<void> {
    await this.#queue.catch(() => undefined);
    const conn = this.#conn;
    this.#conn = undefined;
    await conn?.close();
  }
}
