import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";

/** One MySQL server of a fleet, with a fresh database of its own. */
export interface FleetServer {
  /** `s1`, `s2`, ... */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** A fresh, empty database created for this caller. */
  readonly database: string;
  /** `mysql://user[:password]@host:port/database`. */
  readonly url: string;
  /** The same URL without the database. */
  readonly adminUrl: string;
  /** Creates another fresh database on this server (dropped at stop when the server outlives the fleet); returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
}

/** Where a server listens and how to log in. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** Builds `mysql://user[:password]@host:port[/database]`. */
export function serverUrl(a: ServerAddress, database = ""): string {
  const auth = a.password
    ? `${encodeURIComponent(a.user)}:${encodeURIComponent(a.password)}`
    : encodeURIComponent(a.user);
  return `mysql://${auth}@${a.host}:${a.port}${database ? `/${database}` : ""}`;
}

/** Runs statements on one short-lived connection. */
export async function runSql(
  a: ServerAddress,
  statements: readonly string[],
  connectTimeout = 5000,
): Promise<void> {
  const conn = await mysql.createConnection({ ...a, connectTimeout });
  try {
    for (const sql of statements) await conn.query(sql);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/**
 * Wraps an address as a {@link FleetServer} with a fresh database; every database it creates
 * is recorded in `created` so a backend that does not own the server can drop them.
 */
export async function makeFleetServer(
  name: string,
  address: ServerAddress,
  created: { address: ServerAddress; database: string }[],
): Promise<FleetServer> {
  const createDatabase = async (prefix = "db"): Promise<string> => {
    const safe = prefix.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 32);
    const database = `sk_${safe}_${randomBytes(4).toString("hex")}`;
    await runSql(address, [`CREATE DATABASE \`${database}\``]);
    created.push({ address, database });
    return serverUrl(address, database);
  };
  const url = await createDatabase(name);
  const database = new URL(url).pathname.slice(1);
  return {
    name,
    ...address,
    database,
    url,
    adminUrl: serverUrl(address),
    createDatabase,
  };
}
