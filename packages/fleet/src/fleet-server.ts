import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";

/** One MySQL server of a fleet, with a fresh database of its own. */
export interface FleetServer {
  /** `s1`, `s2`, ... in the order the servers were asked for. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Empty on local servers and containers. */
  readonly password: string;
  /** A fresh, empty database created for this caller on this server. */
  readonly database: string;
  /** `mysql://user[:password]@host:port/database`, the password percent-encoded. */
  readonly url: string;
  /** The same URL without the database path. */
  readonly adminUrl: string;
  /** Creates another fresh database on this server, dropped at stop(); returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
}

/** Where a server listens and how to log in. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** Builds `mysql://user[:password]@host:port[/database]`, percent-encoding the credentials. */
export function serverUrl(address: ServerAddress, database = ""): string {
  const auth = address.password
    ? `${encodeURIComponent(address.user)}:${encodeURIComponent(address.password)}`
    : encodeURIComponent(address.user);
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `mysql://${auth}@${host}:${address.port}${database ? `/${database}` : ""}`;
}

/** A database name no other caller will pick: `sk_<prefix>_<12 hex digits>`, at most 48 characters. */
export function newDatabaseName(prefix = "db"): string {
  const safe = prefix.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 32) || "db";
  return `sk_${safe}_${randomBytes(6).toString("hex")}`;
}

/** Runs statements in order on one short-lived connection. */
export async function runSql(
  address: ServerAddress,
  statements: readonly string[],
  connectTimeout = 5000,
): Promise<void> {
  const conn = await mysql.createConnection({ ...address, connectTimeout });
  try {
    for (const sql of statements) await conn.query(sql);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}
