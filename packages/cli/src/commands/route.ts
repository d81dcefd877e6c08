import {
  type CredentialResolver,
  columnKey,
  DirectoryMap,
  formatKeyRange,
  type KeyColumnType,
  parseKeyArgument,
  type ShardedTable,
  ShardKeyError,
  ShardkitError,
} from "@shardkit/directory";
import { connect, readKeyColumnTypes } from "@shardkit/directory/internal";
import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";
import { ksidHex } from "../directory-fields.js";

/** `shardkit route <key...>`: which shard owns each key. */
export const routeCommand: CommandDefinition = (action) =>
  new Command("route")
    .description("show which shard owns each key (keys that look like options go after --)")
    .argument("<key...>", "one or more keys")
    .option(
      "--table <table>",
      "read each key as this sharded table's key column stores it, and use its key function (default: hash)",
    )
    .action(
      action(async ({ admin, credentials }, keys: string[], opts: { table?: string }) => {
        const map = new DirectoryMap(await admin.snapshot());
        // With a table, a key is routed as its key column stores it ("06202" is 6202 in a BIGINT).
        const type =
          opts.table === undefined
            ? undefined
            : await keyColumnType(map, map.requireTable(opts.table), credentials);
        const rows = keys.map((key) => {
          const routed = type ? columnKey(type, key) : parseKeyArgument(key);
          if (routed instanceof ShardKeyError) throw routed;
          const loc = map.lookup(routed, opts.table);
          return {
            key,
            ksid: ksidHex(loc.ksid),
            range: formatKeyRange(map.ownerOf(loc.ksid).range),
            shard: loc.shard,
            pinned: loc.pinned,
          };
        });
        return {
          kind: "table",
          rows,
          columns: ["key", "ksid", "range", "shard", "pinned"],
          empty: "",
        };
      }),
    );

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
