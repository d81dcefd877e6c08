import { defaultSearchPath, findMysqlBinaries } from "./binaries.js";
import { containerRuntimeAvailable, startContainers } from "./container/container-backend.js";
import { parseServerUrls } from "./env/env-backend.js";
import { FleetError } from "./errors.js";
import { type FleetServer, makeFleetServer, runSql, type ServerAddress } from "./fleet-server.js";
import { startLocalServers, stopLocalServer } from "./local/local-backend.js";

/** Ways the fleet can provide servers, tried in this order by default. */
export const FLEET_BACKENDS = ["env", "local", "container"] as const;
/** One of {@link FLEET_BACKENDS}. */
export type FleetBackend = (typeof FLEET_BACKENDS)[number];

/** Running servers and how to stop them. */
export interface Fleet {
  /** Which backend provided the servers. */
  readonly backend: FleetBackend;
  readonly servers: readonly FleetServer[];
  /** Stops every server this fleet started (or drops its databases on servers it did not start); idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options for {@link startFleet}. */
export interface StartFleetOptions {
  /** How many servers, at least 1. */
  readonly servers: number;
  /** Backends to try, in order. Default: env, local, container. */
  readonly backends?: readonly FleetBackend[];
  /** Folders searched for mariadbd/mysqld. Default: PATH, /usr/sbin, /usr/local/mysql/bin. */
  readonly binarySearchPath?: readonly string[];
  /** Extra server options for local servers and containers, e.g. `["--sync-binlog=1"]`. Default none. */
  readonly serverArgs?: readonly string[];
  /** Environment to read SHARDKIT_MYSQL_URLS from. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Starts `servers` MySQL servers, each with a fresh database, from the first backend available:
 * SHARDKIT_MYSQL_URLS, local mariadbd/mysqld binaries, or containers.
 *
 * @example
 * await using fleet = await startFleet({ servers: 3 });
 * console.log(fleet.servers.map((s) => s.url));
 */
export async function startFleet(options: StartFleetOptions): Promise<Fleet> {
  const n = options.servers;
  if (!Number.isInteger(n) || n < 1) {
    throw new FleetError(
      "BAD_OPTIONS",
      `cannot start ${n} servers: ask for a whole number of at least 1`,
    );
  }
  const env = options.env ?? process.env;
  for (const backend of options.backends ?? FLEET_BACKENDS) {
    if (backend === "env") {
      const urls = env.SHARDKIT_MYSQL_URLS?.trim();
      if (!urls) continue;
      return startEnvFleet(parseServerUrls(urls), n);
    }
    if (backend === "local") {
      const bin = findMysqlBinaries(options.binarySearchPath ?? defaultSearchPath(env));
      if (!bin) continue;
      const local = await startLocalServers(bin, n, options.serverArgs);
      return assemble(
        "local",
        local.map((s) => s.address),
        () => Promise.all(local.map(stopLocalServer)),
        false,
      );
    }
    if (backend === "container") {
      if (!(await containerRuntimeAvailable())) continue;
      const containers = await startContainers(n, options.serverArgs);
      return assemble(
        "container",
        containers.map((c) => c.address),
        () => Promise.all(containers.map((c) => c.stop())),
        false,
      );
    }
  }
  throw new FleetError(
    "NO_BACKEND",
    "no MySQL server available: install MariaDB or MySQL (e.g. `apt-get install mariadb-server` or `brew install mysql`), start Docker, or set SHARDKIT_MYSQL_URLS=mysql://user:password@host:port to use running servers",
  );
}

async function startEnvFleet(addresses: ServerAddress[], n: number): Promise<Fleet> {
  // Fewer URLs than servers: reuse them round-robin; each FleetServer still gets its own database.
  const picked = Array.from(
    { length: n },
    (_, i) => addresses[i % addresses.length] as ServerAddress,
  );
  return assemble("env", picked, async () => undefined, true);
}

async function assemble(
  backend: FleetBackend,
  addresses: readonly ServerAddress[],
  stopServers: () => Promise<unknown>,
  dropDatabases: boolean,
): Promise<Fleet> {
  const created: { address: ServerAddress; database: string }[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (dropDatabases) {
        await Promise.all(
          created.map((c) =>
            runSql(c.address, [`DROP DATABASE IF EXISTS \`${c.database}\``]).catch(() => undefined),
          ),
        );
      }
      await stopServers();
    })();
    return stopping;
  };
  try {
    const servers = await Promise.all(
      addresses.map((a, i) => makeFleetServer(`s${i + 1}`, a, created)),
    );
    return { backend, servers, stop, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw new FleetError(
      "START_FAILED",
      `could not prepare the ${backend} servers: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
