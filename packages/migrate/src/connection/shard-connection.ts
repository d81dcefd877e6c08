import type { MysqlError, ShardRecord } from "@shardkit/directory";
import { type SqlConnection, wrapMysqlError } from "@shardkit/directory/internal";
import { format } from "mysql2";
import mysql from "mysql2/promise";
import { MoveError } from "../move-error.js";

/** How the mover logs in to a shard: the user and password to use. */
export interface ShardLogin {
  readonly user: string;
  readonly password: string;
  /** Where the password comes from, for the message when the shard refuses the login (never the password). */
  readonly passwordFrom?: string;
}

/** Picks the login for a shard (the registered user and a password from the credentials by default). */
export type ShardLoginResolver = (shard: ShardRecord) => ShardLogin;

/** A connection of the mover to one shard database, with the session settings every mover connection shares. */
export interface ShardConnection extends SqlConnection {
  /** The shard's name. */
  readonly shard: string;
  /** The shard's database. */
  readonly database: string;
  /** Host, port and login, for the binlog client (the password is never printed). */
  readonly options: ShardConnectOptions;
}

/** What mysql2 needs to reach a shard, with the value conversions every mover connection uses. */
export interface ShardConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly connectTimeout: number;
  /** Temporal values as MySQL prints them, so they are written back unchanged. */
  readonly dateStrings: true;
  /** TIMESTAMP values in UTC; every mover session runs with time_zone '+00:00'. */
  readonly timezone: "Z";
  readonly supportBigNumbers: true;
  readonly bigNumberStrings: false;
  readonly jsonStrings: true;
}

// Rows are written back exactly as read: no automatic id for a zero, strict so nothing is cut,
// and foreign keys unchecked because tables are copied (and cleaned) one after another.
const SESSION_SETTINGS =
  "SET SESSION time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', foreign_key_checks = 0";

/**
 * mysql2's placeholder substitution, skipped for a statement without parameters: mysql2 scans
 * every statement for placeholders, which costs a copy chunk's INSERT (megabytes of values
 * escaped already) a pass over its text.
 */
function queryFormat(sql: string, values: unknown): string {
  if (values === undefined || values === null || (Array.isArray(values) && values.length === 0)) {
    return sql;
  }
  return format(sql, values as Parameters<typeof format>[1], false, "Z");
}

/** The mysql2 options of the mover's connections to `shard`. */
export function shardConnectOptions(shard: ShardRecord, login: ShardLogin): ShardConnectOptions {
  return {
    host: shard.host,
    port: shard.port,
    user: login.user,
    password: login.password,
    database: shard.database,
    connectTimeout: 5000,
    dateStrings: true,
    timezone: "Z",
    supportBigNumbers: true,
    bigNumberStrings: false,
    jsonStrings: true,
  };
}

/**
 * Opens one connection to a shard's database; failures become a MysqlError naming the shard,
 * never the password, and a login the server refuses is SHARD_UNAVAILABLE naming the user.
 */
export async function openShardConnection(
  shard: ShardRecord,
  login: ShardLogin,
): Promise<ShardConnection> {
  const options = shardConnectOptions(shard, login);
  const where = `shard ${shard.name} (${shard.host}:${shard.port}/${shard.database})`;
  let raw: mysql.Connection;
  try {
    // No async stack capture per query (`trace`): errors name the shard and statement instead.
    raw = await mysql.createConnection({ ...options, queryFormat, trace: false });
    raw.on("error", () => undefined);
    await raw.query(SESSION_SETTINGS);
  } catch (error) {
    throw loginError(shard, login, where, wrapMysqlError(error, where, undefined, login.password));
  }
  const run = async (sql: string, params?: readonly unknown[]): Promise<unknown> => {
    try {
      // Without parameters the text goes as it is (see queryFormat).
      const [result] = await raw.query(sql, (params ?? []) as unknown[]);
      return result;
    } catch (error) {
      throw wrapMysqlError(error, where, sql, login.password);
    }
  };
  return {
    shard: shard.name,
    database: shard.database,
    options,
    async query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      const rows = await run(sql, params);
      return (Array.isArray(rows) ? rows : [rows]) as T[];
    },
    async execute(sql: string, params?: readonly unknown[]): Promise<number> {
      return ((await run(sql, params)) as { affectedRows?: number }).affectedRows ?? 0;
    },
    async close(): Promise<void> {
      await raw.end().catch(() => raw.destroy());
    },
  };
}

/**
 * A login the shard refused (a wrong password, an unknown user, no access to the database)
 * becomes SHARD_UNAVAILABLE, as the directory reports a shard it cannot log in to, naming the
 * user and where its password comes from; any other failure stays as it is.
 */
function loginError(
  shard: ShardRecord,
  login: ShardLogin,
  where: string,
  error: MysqlError,
): Error {
  const code = error.mysqlCode;
  const at = `${shard.host}:${shard.port}`;
  let advice: string;
  if (code === "ER_ACCESS_DENIED_ERROR") {
    advice = `check that user ${login.user} exists on ${at} and that its password${login.passwordFrom ? ` (from ${login.passwordFrom})` : ""} is the server's`;
  } else if (code === "ER_DBACCESS_DENIED_ERROR") {
    advice = `grant ${login.user} the mover's privileges on ${shard.database} (docs/operations.md, Grants)`;
  } else if (code === "ER_HOST_NOT_PRIVILEGED") {
    advice = `let ${login.user} log in from this host on ${at}`;
  } else {
    return error;
  }
  const reason = error.message.startsWith(`${where}: `)
    ? error.message.slice(where.length + 2)
    : error.message;
  return new MoveError(
    "SHARD_UNAVAILABLE",
    `shard ${shard.name} (${at}/${shard.database}) refused the mover's login as user ${login.user} (${reason}); ${advice}`,
    { details: { shard: shard.name, user: login.user }, cause: error },
  );
}
