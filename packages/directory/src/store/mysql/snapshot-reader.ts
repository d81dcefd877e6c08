import { DirectoryError } from "../../errors/directory-error.js";
import { isKeyFunctionName, type KeyFunctionName } from "../../key-function.js";
import type {
  DirectorySnapshot,
  PinnedKey,
  RangeAssignment,
  RangeState,
  ReferenceTable,
  ShardedTable,
  ShardState,
} from "../../model.js";
import type { SqlConnection } from "../../mysql/sql-connection.js";
import { readActiveMoves } from "./move-records.js";

/** Reads the whole directory at one consistent read view of `conn`. */
export async function readSnapshot(conn: SqlConnection): Promise<DirectorySnapshot> {
  await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
  try {
    return await loadSnapshot(conn);
  } finally {
    await conn.query("COMMIT");
  }
}

/** The current version alone. */
export async function readVersion(conn: SqlConnection): Promise<number> {
  const [row] = await conn.query<{ version: number }>(
    "SELECT version FROM shardkit_directory WHERE id = 1",
  );
  return Number(row?.version ?? 0);
}

/** Locks the version row for the caller's transaction (changes run one at a time) and returns it. */
export async function lockVersion(conn: SqlConnection): Promise<number> {
  const [row] = await conn.query<{ version: number }>(
    "SELECT version FROM shardkit_directory WHERE id = 1 FOR UPDATE",
  );
  if (!row) {
    throw new DirectoryError(
      "NOT_INITIALIZED",
      "the directory has no version row; run shardkit init",
    );
  }
  return Number(row.version);
}

/**
 * Reads all directory tables on `conn`, inside the caller's transaction. A table whose key
 * function this code does not know is refused: routing it by another function would send its
 * rows to the wrong shards.
 */
export async function loadSnapshot(
  conn: SqlConnection,
  knownVersion?: number,
): Promise<DirectorySnapshot> {
  const version = knownVersion ?? (await readVersion(conn));
  const shards = await conn.query<{
    name: string;
    host: string;
    port: number;
    user: string;
    database_name: string;
    state: ShardState;
  }>("SELECT name, host, port, user, database_name, state FROM shardkit_shards ORDER BY name");
  const tables = await conn.query<{ name: string; key_column: string; key_function: string }>(
    "SELECT name, key_column, key_function FROM shardkit_tables ORDER BY name",
  );
  const ranges = await conn.query<{
    range_start: number;
    range_end: number;
    shard: string;
    state: RangeState;
  }>("SELECT range_start, range_end, shard, state FROM shardkit_ranges ORDER BY range_start");
  const pins = await conn.query<{
    key_bytes: Buffer;
    key_text: string;
    ksid: number;
    shard: string;
    state: RangeState;
  }>("SELECT key_bytes, key_text, ksid, shard, state FROM shardkit_pins ORDER BY key_bytes");
  const moves = await readActiveMoves(conn);
  const references = await conn.query<{
    name: string;
    source_name: string;
    host: string;
    port: number;
    user: string;
    database_name: string;
  }>(
    "SELECT name, source_name, host, port, user, database_name FROM shardkit_reference_tables ORDER BY name",
  );
  return {
    version,
    shards: shards.map((s) => ({
      name: s.name,
      host: s.host,
      port: Number(s.port),
      user: s.user,
      database: s.database_name,
      state: s.state,
    })),
    tables: tables.map(
      (t): ShardedTable => ({
        name: t.name,
        keyColumn: t.key_column,
        keyFunction: knownKeyFunction(t.name, t.key_function),
      }),
    ),
    ranges: ranges.map(
      (r): RangeAssignment => ({
        range: { start: Number(r.range_start), end: Number(r.range_end) },
        shard: r.shard,
        state: r.state,
      }),
    ),
    pins: pins.map(
      (p): PinnedKey => ({
        keyBytes: new Uint8Array(p.key_bytes),
        keyText: p.key_text,
        ksid: Number(p.ksid),
        shard: p.shard,
        state: p.state,
      }),
    ),
    moves,
    referenceTables: references.map(
      (r): ReferenceTable => ({
        name: r.name,
        source: {
          name: r.source_name,
          host: r.host,
          port: Number(r.port),
          user: r.user,
          database: r.database_name,
          state: "serving",
        },
      }),
    ),
  };
}

function knownKeyFunction(table: string, name: string): KeyFunctionName {
  if (isKeyFunctionName(name)) return name;
  throw new DirectoryError(
    "UNKNOWN_KEY_FUNCTION",
    `table ${table} is sharded by key function "${name.slice(0, 32)}", which this shardkit does not know; upgrade shardkit to read this directory`,
    { details: { table, keyFunction: name } },
  );
}
