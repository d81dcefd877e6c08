import { credentialResolver, DirectoryClient, ShardkitError } from "@shardkit/directory";
import { Router } from "./router.js";
import type { RouterOptions } from "./router-options.js";

/**
 * Opens a router: follows the directory (loading its map now) and opens shard pools on first
 * use. Create one per process and share it.
 *
 * @example
 * const router = await createRouter({ directory: "mysql://root@db:3306/shardkit" });
 * const user = await router.read(42).from("users").where({ user_id: 42 }).first();
 * await router.write(42, (trx) => trx("users").insert({ user_id: 42, name: "Ada" }));
 */
export async function createRouter(options: RouterOptions): Promise<Router> {
  if (typeof options !== "object" || options === null || options.directory === undefined) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      'createRouter() needs { directory }: the directory database URL (e.g. "mysql://root@127.0.0.1:3306/shardkit"), a directory store or a DirectoryClient',
    );
  }
  const credentials = options.credentials ?? credentialResolver();
  if (options.directory instanceof DirectoryClient) {
    return new Router(options.directory, false, credentials, options);
  }
  // A URL opens a store the client owns and closes; a store passed in stays the caller's.
  const client = await DirectoryClient.open({
    directory: options.directory,
    credentials,
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    ...(options.heartbeatId === undefined ? {} : { heartbeatId: options.heartbeatId }),
  });
  return new Router(client, true, credentials, options);
}
