// Keys typed on the command line, read as the router reads them: with --table, as that table's
// key column stores them ("06202" is the integer 6202 in a BIGINT column).
import {
  type CredentialResolver,
  columnKey,
  type DirectoryMap,
  type KeyColumnType,
  parseKeyArgument,
  type ShardedTable,
  type ShardKey,
  ShardKeyError,
  ShardkitError,
} from "@shardkit/directory";
import { connect, readKeyColumnTypes } from "@shardkit/directory/internal";

/** The help text of a command's `--table` option for keys. */
export const TABLE_OPTION_HELP = "read each key as this sharded table's key column stores it";

/**
 * How to read a typed key: as `table`'s key column stores it (its type read from a shard; a
 * key the column would not store as typed is BAD_SHARD_KEY), or without a table as
 * {@link parseKeyArgument} reads it.
 */
export async function keyReader(
  map: DirectoryMap,
  table: string | undefined,
  credentials: CredentialResolver,
): Promise<(key: string) => ShardKey> {
  if (table === undefined) return parseKeyArgument;
  const type = await keyColumnType(map, map.requireTable(table), credentials);
  return (key) => {
    const stored = columnKey(type, key);
    if (stored instanceof ShardKeyError) throw stored;
    return stored;
  };
}

/** The table's key column as the first shard that has it defines it (the router reads every shard). */
async function keyColumnType(
  map: DirectoryMap,
  table: ShardedTable,
  credentials: CredentialResolver,
): Promise<KeyColumnType> {
  const unreachable: string[] = [];
  for (const shard of map.snapshot.shards) {
    let conn: Awaited<ReturnType<typeof connect>>;
    try {
      conn = await connect({ ...shard, password: credentials(shard.name) });
    } catch {
      unreachable.push(shard.name);
      continue;
    }
    try {
      const type = (await readKeyColumnTypes((sql, p) => conn.query(sql, p), [table])).get(
        table.name,
      );
      if (type) return type;
    } finally {
      await conn.close();
    }
  }
  const answered = map.snapshot.shards.length - unreachable.length;
  throw new ShardkitError(
    answered === 0 ? "SHARD_UNAVAILABLE" : "TABLE_NOT_ON_SHARD",
    answered === 0
      ? `no shard answered to read the type of ${table.name}.${table.keyColumn} (${unreachable.join(", ") || "none registered"}); retry when a shard is reachable`
      : `no shard has the key column ${table.name}.${table.keyColumn}; create the table on every shard`,
    { details: { table: table.name } },
  );
}
