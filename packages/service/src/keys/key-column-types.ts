import {
  type CredentialResolver,
  type DirectoryMap,
  type KeyColumnType,
  ShardkitError,
  type TextComparison,
} from "@shardkit/directory";
import { connect, readKeyColumnTypes } from "@shardkit/directory/internal";

/**
 * The key column type of each sharded table, read from the first shard that answers and has
 * it (as the router reads them), kept until the table's definition in the directory changes.
 * Lookups with a table route the key as that column stores it, exactly as the router does.
 */
export class KeyColumnTypes {
  readonly #credentials: CredentialResolver;
  readonly #types = new Map<
    string,
    { readonly def: string; readonly type: Promise<KeyColumnType> }
  >();
  readonly #probes = new Map<string, Promise<TextComparison>>();

  constructor(credentials: CredentialResolver) {
    this.#credentials = credentials;
  }

  /** The type of `table`'s key column as a shard defines it; UNKNOWN_TABLE, TABLE_NOT_ON_SHARD or SHARD_UNAVAILABLE. */
  typeOf(map: DirectoryMap, table: string): Promise<KeyColumnType> {
    const def = map.requireTable(table);
    const signature = `${def.keyColumn} ${def.keyFunction}`;
    const cached = this.#types.get(table);
    if (cached && cached.def === signature) return cached.type;
    const type = this.#read(map, table);
    this.#types.set(table, { def: signature, type });
    // A failed read is tried again by the next lookup.
    type.catch(() => {
      if (this.#types.get(table)?.type === type) this.#types.delete(table);
    });
    return type;
  }

  async #read(map: DirectoryMap, name: string): Promise<KeyColumnType> {
    const table = map.requireTable(name);
    const unreachable: string[] = [];
    for (const shard of map.snapshot.shards) {
      let conn: Awaited<ReturnType<typeof connect>>;
      try {
        conn = await connect({ ...shard, password: this.#credentials(shard.name) });
      } catch {
        unreachable.push(shard.name);
        continue;
      }
      try {
        const types = await readKeyColumnTypes(
          (sql, p) => conn.query(sql, p),
          [table],
          this.#probes,
        );
        const type = types.get(name);
        if (type) return type;
      } finally {
        await conn.close();
      }
    }
    const answered = map.snapshot.shards.length - unreachable.length;
    throw new ShardkitError(
      answered === 0 ? "SHARD_UNAVAILABLE" : "TABLE_NOT_ON_SHARD",
      answered === 0
        ? `no shard answered to read the type of ${name}.${table.keyColumn} (${unreachable.join(", ") || "none registered"}), so keys of ${name} cannot be routed as the column stores them; give the service the shards' passwords, or retry when a shard is reachable`
        : `no shard has the key column ${name}.${table.keyColumn}; create the table on every shard`,
      { details: { table: name } },
    );
  }
}
