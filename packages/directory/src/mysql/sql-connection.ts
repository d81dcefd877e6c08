import mysql from "mysql2/promise";
import { ShardkitError, type ShardkitErrorOptions } from "../errors/shardkit-error.js";
import { formatEndpoint, type MysqlEndpoint, redactSecrets } from "./mysql-url.js";

/** The little of a MySQL connection that shardkit's metadata code needs. */
export interface SqlConnection {
  /** Runs one statement; returns rows for reads, the OK packet (as a one-element array) for writes. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs one write statement and returns the number of affected rows. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  close(): Promise<void>;
}

/** Options for {@link connect}. */
export interface ConnectOptions {
  /** Milliseconds to wait for the TCP connect and handshake. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Connect without selecting the endpoint's database (to create it). Default false. */
  readonly withoutDatabase?: boolean;
}

/** The codes a {@link MysqlError} carries: the server was not reached, or it rejected a statement. */
export type MysqlErrorCode = "MYSQL_UNAVAILABLE" | "MYSQL_ERROR";

/** Options of a {@link MysqlError}: the shared ones plus what the driver reported. */
export interface MysqlErrorOptions extends ShardkitErrorOptions {
  /** The driver's error code, e.g. ER_NO_SUCH_TABLE or ECONNREFUSED. Default: none. */
  readonly mysqlCode?: string;
  /** The server's error number (e.g. 1146); negative or absent for transport failures. Default: none. */
  readonly errno?: number;
}

/** A MySQL failure, wrapped once with the server and statement it came from; never carries a password. */
export class MysqlError extends ShardkitError {
  /** The driver's error code, e.g. ER_NO_SUCH_TABLE or ECONNREFUSED. */
  readonly mysqlCode: string | undefined;
  /** The server's error number (e.g. 1146); negative or undefined for transport failures. */
  readonly errno: number | undefined;
  constructor(code: MysqlErrorCode, message: string, options?: MysqlErrorOptions) {
    super(code, message, options);
    this.name = "MysqlError";
    this.mysqlCode = options?.mysqlCode;
    this.errno = options?.errno;
  }
}

const CONNECT_CODES = new Set([
  "ER_ACCESS_DENIED_ERROR",
  "ER_DBACCESS_DENIED_ERROR",
  "ER_BAD_DB_ERROR",
  "ER_HOST_NOT_PRIVILEGED",
]);

/** True when the error means the server could not be reached, went away, or would not let us in. */
export function isConnectError(error: unknown): boolean {
  if (!(error instanceof MysqlError)) return false;
  const code = error.mysqlCode;
  if (code !== undefined && CONNECT_CODES.has(code)) return true;
  return isTransportFailure(code, error.errno);
}

// Server errors carry a positive errno (and usually an ER_ code); socket errors carry a
// negative errno (-111 for ECONNREFUSED) or none, and a code such as ECONNREFUSED.
function isTransportFailure(code: string | undefined, errno: number | undefined): boolean {
  return !(errno !== undefined && errno > 0) && !code?.startsWith("ER_");
}

/** The driver error code of a wrapped MySQL failure, if any. */
export function mysqlCodeOf(error: unknown): string | undefined {
  return error instanceof MysqlError ? error.mysqlCode : undefined;
}

/** Opens one connection to `endpoint`; failures become a {@link MysqlError} naming the server. */
export async function connect(
  endpoint: MysqlEndpoint,
  options: ConnectOptions = {},
): Promise<SqlConnection> {
  const where = formatEndpoint(options.withoutDatabase ? { ...endpoint, database: "" } : endpoint);
  let raw: mysql.Connection;
  try {
    raw = await mysql.createConnection({
      host: endpoint.host,
      port: endpoint.port,
      user: endpoint.user,
      password: endpoint.password,
      ...(options.withoutDatabase || !endpoint.database ? {} : { database: endpoint.database }),
      connectTimeout: options.connectTimeoutMs ?? 5000,
      supportBigNumbers: true,
      bigNumberStrings: false,
    });
  } catch (error) {
    throw wrapMysqlError(error, where, undefined, endpoint.password);
  }
  // A server that goes away later emits 'error' on the connection; the next query reports it.
  raw.on("error", () => undefined);
  return {
    async query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      try {
        const [rows] = await raw.query(sql, params as unknown[] | undefined);
        return (Array.isArray(rows) ? rows : [rows]) as T[];
      } catch (error) {
        throw wrapMysqlError(error, where, sql, endpoint.password);
      }
    },
    async execute(sql: string, params?: readonly unknown[]): Promise<number> {
      try {
        const [result] = await raw.query(sql, params as unknown[] | undefined);
        return (result as { affectedRows?: number }).affectedRows ?? 0;
      } catch (error) {
        throw wrapMysqlError(error, where, sql, endpoint.password);
      }
    },
    async close(): Promise<void> {
      await raw.end().catch(() => raw.destroy());
    },
  };
}

/** Wraps a driver error: the one place driver failures become shardkit errors. */
export function wrapMysqlError(
  error: unknown,
  where: string,
  sql: string | undefined,
  password = "",
): MysqlError {
  if (error instanceof MysqlError) return error;
  const e = error as {
    code?: string;
    errno?: number;
    message?: string;
    errors?: { message?: string }[];
  };
  // Node reports a refused dual-stack connect as an AggregateError with an empty message.
  const raw = e.message || e.errors?.map((x) => x.message).join("; ") || e.code || String(error);
  const message = redactSecrets(`${where}: ${raw}`, [password]);
  return new MysqlError(
    isTransportFailure(e.code, e.errno) ? "MYSQL_UNAVAILABLE" : "MYSQL_ERROR",
    message,
    {
      details: { server: where, ...(sql ? { sql: sql.slice(0, 200) } : {}) },
      cause: error,
      ...(e.code === undefined ? {} : { mysqlCode: e.code }),
      ...(e.errno === undefined ? {} : { errno: e.errno }),
    },
  );
}

/** Quotes a MySQL identifier (database, table or column) with backticks. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, "``")}\``;
}
