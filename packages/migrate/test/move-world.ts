import { MysqlDirectoryStore, parseMysqlUrl, type ShardRecord } from "@shardkit/directory";
import type { Fleet } from "@shardkit/fleet";
import { openShardConnection, type ShardConnection } from "@shardkit/migrate/internal";
import { SCHEMA, TABLES } from "./helpers.js";

/** The user and password the mover logs in with in these tests: only the grants of docs/operations.md. */
export const MOVER = { user: "shardkit_mover", password: "mover-Secret-42" } as const;

/** A directory with shards s1 (-80), s2 (80-) and an empty s3, the two tables on s1 and s2. */
export interface MoveWorld {
  /** The mover's directory admin. */
  readonly admin: MysqlDirectoryStore;
  /** A second store, as an application's router reads the directory. */
  readonly routerSource: MysqlDirectoryStore;
  readonly shards: Readonly<Record<string, ShardRecord>>;
  /** Root connections to each shard, for the tests' own reads. */
  readonly conns: Map<string, ShardConnection>;
  close(): Promise<void>;
}

/**
 * The grants the mover needs (docs/operations.md), given on one server: binlog reading, and
 * per shard database what the mover does there as source and as target.
 */
export function moverGrants(
  sourceDatabases: readonly string[],
  targetDatabases: readonly string[],
): string[] {
  const who = `'${MOVER.user}'@'127.0.0.1'`;
  return [
    `CREATE USER IF NOT EXISTS ${who} IDENTIFIED BY '${MOVER.password}'`,
    `GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO ${who}`,
    // For the replica throttle: find the source's replicas and read their lag (replicated to them).
    `GRANT REPLICA MONITOR ON *.* TO ${who}`,
    ...sourceDatabases.flatMap((db) => [
      `GRANT SELECT, DELETE ON \`${db}\`.* TO ${who}`,
      `GRANT CREATE, INSERT, UPDATE, DELETE ON \`${db}\`.shardkit_move_markers TO ${who}`,
    ]),
    ...targetDatabases.map(
      (db) => `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP ON \`${db}\`.* TO ${who}`,
    ),
  ];
}

/** Builds a {@link MoveWorld} on a fleet of two servers: s1 and the directory on the first, s2 and s3 on the second. */
export async function moveWorld(fleet: Fleet): Promise<MoveWorld> {
  const [one, two] = fleet.servers;
  if (!one || !two) throw new Error("the world needs two servers");
  const directory = await one.createDatabase("dir");
  const admin = new MysqlDirectoryStore({ directory, credentials: () => "" });
  const routerSource = new MysqlDirectoryStore({ directory, credentials: () => "" });
  const conns = new Map<string, ShardConnection>();
  const shards: Record<string, ShardRecord> = {};
  await admin.init();
  for (const [name, server] of [
    ["s1", one],
    ["s2", two],
    ["s3", two],
  ] as const) {
    const endpoint = parseMysqlUrl(await server.createDatabase(`shard_${name}`));
    const { shard } = await admin.addShard({ name, ...endpoint });
    shards[name] = shard;
    const conn = await openShardConnection(shard, { user: shard.user, password: "" });
    conns.set(name, conn);
    if (name !== "s3") for (const sql of SCHEMA) await conn.execute(sql);
  }
  for (const t of TABLES) await admin.addTable(t, { check: false });
  await admin.layoutEven(2, ["s1", "s2"]);
  const dbs = (names: string[]) => names.map((n) => (shards[n] as ShardRecord).database);
  for (const [conn, sources, targets] of [
    [conns.get("s1"), ["s1"], ["s1"]],
    [conns.get("s2"), ["s2", "s3"], ["s2", "s3"]],
  ] as const) {
    for (const sql of moverGrants(dbs([...sources]), dbs([...targets]))) await conn?.execute(sql);
  }
  return {
    admin,
    routerSource,
    shards,
    conns,
    async close() {
      await Promise.all([...conns.values()].map((c) => c.close()));
      await admin.close();
      await routerSource.close();
    },
  };
}
