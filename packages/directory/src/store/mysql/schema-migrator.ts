import { DirectoryError } from "../../errors/directory-error.js";
import { FENCE_TABLE } from "../../fence/ownership-fence.js";
import { mysqlCodeOf, quoteIdentifier, type SqlConnection } from "../../mysql/sql-connection.js";
import type { InitOptions, InitResult } from "../directory-admin.js";
import type { DirectoryConnection } from "./directory-connection.js";
import {
  DIRECTORY_MIGRATIONS,
  DIRECTORY_SCHEMA_VERSION,
  SCHEMA_VERSION_TABLE,
} from "./directory-schema.js";

/** How many foreign tables a NOT_EMPTY refusal names. */
const NAMED_TABLES = 3;

/**
 * Creates the directory database when missing and applies the migrations it lacks, one
 * initialiser at a time. A database that is not yet a directory and holds other tables is
 * refused unless `force`, before anything is created in it.
 */
export async function initDirectory(
  directory: DirectoryConnection,
  options: InitOptions = {},
): Promise<InitResult> {
  return directory.serial(async () => {
    const name = directory.endpoint.database;
    const server = await directory.open({ withoutDatabase: true });
    let created = false;
    try {
      // 1 affected row when created; 0 (and a warning) when it was there already.
      created =
        (await server.execute(`CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(name)}`)) > 0;
    } finally {
      await server.close();
    }
    const conn = await directory.connection();
    const lock = `shardkit_init_${name}`;
    // One initialiser at a time: concurrent `init`s wait rather than race the DDL.
    await conn.query("SELECT GET_LOCK(?, 30)", [lock]);
    try {
      if (!options.force && !(await hasTable(conn, "shardkit_schema_version"))) {
        await refuseForeignTables(conn, directory.location);
      }
      await conn.execute(SCHEMA_VERSION_TABLE);
      const current = await appliedVersion(conn);
      if (current > DIRECTORY_SCHEMA_VERSION) throw schemaTooNew(directory.location, current);
      for (let v = current + 1; v <= DIRECTORY_SCHEMA_VERSION; v++) {
        for (const sql of DIRECTORY_MIGRATIONS[v - 1] ?? []) await applyStatement(conn, sql);
        await conn.execute("INSERT INTO shardkit_schema_version (version) VALUES (?)", [v]);
      }
    } finally {
      await conn.query("SELECT RELEASE_LOCK(?)", [lock]);
    }
    return { schemaVersion: DIRECTORY_SCHEMA_VERSION, created };
  });
}

/** Throws unless the schema on `conn` is the one this code writes: NOT_INITIALIZED or SCHEMA_TOO_NEW. */
export async function checkSchemaVersion(conn: SqlConnection, location: string): Promise<void> {
  let v: number;
  try {
    v = await appliedVersion(conn);
  } catch (error) {
    if (mysqlCodeOf(error) === "ER_NO_SUCH_TABLE") throw notInitialized(location);
    throw error;
  }
  if (v > DIRECTORY_SCHEMA_VERSION) throw schemaTooNew(location, v);
  if (v < DIRECTORY_SCHEMA_VERSION) throw notInitialized(location);
}

/** The error for a database with no (or an older) directory schema. */
export function notInitialized(location: string): DirectoryError {
  return new DirectoryError(
    "NOT_INITIALIZED",
    `no shardkit directory at ${location} (or its schema is older than this shardkit); run shardkit init`,
  );
}

function schemaTooNew(location: string, v: number): DirectoryError {
  return new DirectoryError(
    "SCHEMA_TOO_NEW",
    `the directory at ${location} has schema version ${v}, newer than this shardkit understands (${DIRECTORY_SCHEMA_VERSION}); upgrade shardkit`,
  );
}

/**
 * Runs one migration statement. DDL commits as it goes, so an `init` that died midway runs a
 * migration again: an ADD COLUMN that finds its column is already done (MySQL has no
 * ADD COLUMN IF NOT EXISTS).
 */
async function applyStatement(conn: SqlConnection, sql: string): Promise<void> {
  try {
    await conn.execute(sql);
  } catch (error) {
    if (mysqlCodeOf(error) === "ER_DUP_FIELDNAME" && /\bADD COLUMN\b/i.test(sql)) return;
    throw error;
  }
}

async function appliedVersion(conn: SqlConnection): Promise<number> {
  const [row] = await conn.query<{ v: number | null }>(
    "SELECT MAX(version) AS v FROM shardkit_schema_version",
  );
  return Number(row?.v ?? 0);
}

async function hasTable(conn: SqlConnection, table: string): Promise<boolean> {
  const rows = await conn.query(
    "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
    [table],
  );
  return rows.length > 0;
}

/** Refuses a database holding tables that are not the directory's (a shard's fence counts as foreign). */
async function refuseForeignTables(conn: SqlConnection, location: string): Promise<void> {
  const rows = await conn.query<{ name: string }>(
    `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
       AND (TABLE_NAME NOT LIKE 'shardkit\\_%' OR TABLE_NAME = ?) ORDER BY TABLE_NAME LIMIT ?`,
    [FENCE_TABLE, NAMED_TABLES + 1],
  );
  if (rows.length === 0) return;
  const names = rows.slice(0, NAMED_TABLES).map((r) => r.name);
  const more = rows.length > NAMED_TABLES ? ", ..." : "";
  throw new DirectoryError(
    "NOT_EMPTY",
    `the database at ${location} already holds tables (${names.join(", ")}${more}); use an empty database for the directory, or pass --force to create it there anyway`,
    { details: { tables: names } },
  );
}
