import { credentialResolver, DirectoryClient, ShardkitError } from "@shardkit/directory";
import type { SqlRunner } from "@shardkit/directory/internal";
import type { Knex } from "knex";
import { type KeyColumnSource, KeyColumns } from "./keys/key-columns.js";
import { Router } from "./router.js";
import { describeValue, requireCount, requireFunction } from "./router-arguments.js";
import type { RouterOptions } from "./router-options.js";
import { ShardPools } from "./shard-pools.js";

/** How long reading the key columns may wait for one shard before counting it unread. */
const KEY_COLUMNS_TIMEOUT_MS = 5000;

/**
 * Opens a router: follows the directory (loading its map now), reads the key column type of
 * every sharded table from the shards, and opens shard pools on first use. Create one per
 * process and share it.
 *
 * @example
 * const router = await createRouter({ directory: "mysql://root@db:3306/shardkit" });
 * // or through the directory service, without the directory database's credentials:
 * // await createRouter({ directory: "http://directory:7420", token: process.env.SHARDKIT_SERVICE_TOKEN });
 * const user = await router.read(42).from("users").where({ user_id: 42 }).first();
 * await router.write(42, (trx) => trx("users").insert({ user_id: 42, name: "Ada" }));
 */
export async function createRouter(options: RouterOptions): Promise<Router> {
  checkOptions(options);
  const credentials = options.credentials ?? credentialResolver();
  const ownsClient = !(options.directory instanceof DirectoryClient);
  // A URL opens a source the client owns and closes; a source passed in stays the caller's.
  const client =
    options.directory instanceof DirectoryClient
      ? options.directory
      : await DirectoryClient.open({
          directory: options.directory,
          credentials,
          ...(options.pollIntervalMs === undefined
            ? {}
            : { pollIntervalMs: options.pollIntervalMs }),
          ...(options.heartbeatId === undefined ? {} : { heartbeatId: options.heartbeatId }),
          ...(options.token === undefined ? {} : { token: options.token }),
        });
  const pools = new ShardPools(credentials, {
    min: options.pool?.min ?? 0,
    max: options.pool?.max ?? 10,
  });
  const keySource: KeyColumnSource = {
    runner:
      (shard): SqlRunner =>
      async (sql, params) => {
        const bindings = (params ?? []) as readonly Knex.RawBinding[];
        const [rows] = (await pools.get(shard).reader.raw(sql, bindings)) as [object[]];
        return rows;
      },
    probes: new Map(),
    timeoutMs: KEY_COLUMNS_TIMEOUT_MS,
  };
  try {
    const keys = await KeyColumns.read(client.map, keySource);
    // Reference tables' sources get pools of their own (a source's name may be a shard's).
    const sources = new ShardPools(credentials, { min: 0, max: options.pool?.max ?? 10 });
    return new Router(client, ownsClient, pools, keys, keySource, options, sources);
  } catch (error) {
    await pools.closeAll();
    if (ownsClient) await client.close();
    throw error;
  }
}

/** Refuses options of the wrong shape with a BAD_ARGUMENT naming the option and what to pass. */
function checkOptions(options: RouterOptions): void {
  if (typeof options !== "object" || options === null || options.directory === undefined) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      'createRouter() needs { directory }: the directory database URL (e.g. "mysql://root@127.0.0.1:3306/shardkit"), a directory source or a DirectoryClient',
    );
  }
  const directory = options.directory as unknown;
  const isSource =
    typeof directory === "object" &&
    directory !== null &&
    typeof (directory as { snapshot?: unknown }).snapshot === "function";
  if (typeof directory !== "string" && !isSource) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `createRouter() option directory must be a URL string, a directory source or a DirectoryClient, got ${describeValue(directory)}; pass e.g. "mysql://root@127.0.0.1:3306/shardkit"`,
      { details: { argument: "directory" } },
    );
  }
  if (options.credentials !== undefined) {
    requireFunction(
      options.credentials,
      "createRouter() option credentials",
      "(shardName) => password",
      true,
    );
  }
  const pool = options.pool as unknown;
  if (pool !== undefined && (typeof pool !== "object" || pool === null)) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `createRouter() option pool must be an object such as { min: 0, max: 10 }, got ${describeValue(pool)}`,
      { details: { argument: "pool" } },
    );
  }
  requireCount(
    options.pool?.min,
    "createRouter() option pool.min",
    0,
    "{ pool: { min: 0, max: 10 } }",
  );
  requireCount(
    options.pool?.max,
    "createRouter() option pool.max",
    1,
    "{ pool: { min: 0, max: 10 } }",
  );
  if ((options.pool?.min ?? 0) > (options.pool?.max ?? 10)) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `createRouter() option pool.min (${options.pool?.min}) is above pool.max (${options.pool?.max ?? 10}); pass a min no larger than max`,
      { details: { argument: "pool" } },
    );
  }
  requireCount(
    options.pollIntervalMs,
    "createRouter() option pollIntervalMs",
    0,
    "{ pollIntervalMs: 1000 }",
  );
  requireCount(
    options.writeDeadlineMs,
    "createRouter() option writeDeadlineMs",
    0,
    "{ writeDeadlineMs: 5000 }",
  );
  requireCount(
    options.idBlockSize,
    "createRouter() option idBlockSize",
    1,
    "{ idBlockSize: 1000 }",
  );
  const token = options.token as unknown;
  if (token !== undefined && (typeof token !== "string" || token === "")) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `createRouter() option token must be the directory service's token as a non-empty string, got ${describeValue(token)}`,
      { details: { argument: "token" } },
    );
  }
  const heartbeatId = options.heartbeatId as unknown;
  if (
    heartbeatId !== undefined &&
    heartbeatId !== false &&
    (typeof heartbeatId !== "string" || heartbeatId === "")
  ) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `createRouter() option heartbeatId must be a non-empty string or false, got ${describeValue(heartbeatId)}`,
      { details: { argument: "heartbeatId" } },
    );
  }
}
