import {
  type BackendContext,
  type BackendServers,
  FLEET_BACKENDS,
  type FleetBackend,
  isFleetBackend,
  type ServerBackend,
} from "./backend.js";
import { containerBackend } from "./container/container-backend.js";
import { envBackend } from "./env/env-backend.js";
import { describeError, FleetError, throwIfAborted } from "./errors.js";
import {
  type FleetServer,
  newDatabaseName,
  runSql,
  type ServerAddress,
  serverUrl,
} from "./fleet-server.js";
import { localBackend } from "./local/local-backend.js";
import { sweepStale } from "./local/stale-sweep.js";

/** Running servers and how to stop them. */
export interface Fleet {
  /** Which backend provided the servers. */
  readonly backend: FleetBackend;
  readonly servers: readonly FleetServer[];
  /**
   * Stops the servers this fleet started, removing their directories, or on servers it did not
   * start (env) drops every database it created. Idempotent; rejects with STOP_FAILED after trying all.
   */
  stop(): Promise<void>;
  /** The same as stop(), for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options for {@link startFleet}. */
export interface StartFleetOptions {
  /** How many servers; a whole number of at least 1. */
  readonly servers: number;
  /** Backends to try, in order. Default: `["env", "local", "container"]`. */
  readonly backends?: readonly FleetBackend[];
  /** Folders searched for mariadbd/mysqld. Default: the entries of PATH, /usr/sbin, /usr/local/mysql/bin. */
  readonly binarySearchPath?: readonly string[];
  /** Extra options for local servers and containers, e.g. `["--sync-binlog=1"]`. Default: none. */
  readonly serverArgs?: readonly string[];
  /** Environment that SHARDKIT_MYSQL_URLS (and, for the default search path, PATH) is read from. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Cancels the start: whatever was started is stopped and startFleet rejects with ABORTED. Default: none. */
  readonly signal?: AbortSignal;
}

const BACKENDS: Record<FleetBackend, ServerBackend> = {
  env: envBackend,
  local: localBackend,
  container: containerBackend,
};

function checkOptions(options: StartFleetOptions): readonly FleetBackend[] {
  const count = options.servers;
  if (!Number.isInteger(count) || count < 1) {
    throw new FleetError(
      "BAD_OPTIONS",
      `cannot start ${count} servers: ask for a whole number of at least 1`,
    );
  }
  const backends = options.backends ?? FLEET_BACKENDS;
  const unknown = backends.filter((b) => !isFleetBackend(b));
  if (backends.length === 0 || unknown.length > 0) {
    throw new FleetError(
      "BAD_OPTIONS",
      `backends must list some of ${FLEET_BACKENDS.join(", ")}; got [${backends.join(", ")}]`,
    );
  }
  return backends;
}

/**
 * Starts `servers` MySQL servers, each with a fresh database, from the first backend available:
 * SHARDKIT_MYSQL_URLS, local mariadbd/mysqld, or containers.
 *
 * @example
 * await using fleet = await startFleet({ servers: 3 });
 * console.log(fleet.servers.map((s) => s.url));
 */
export async function startFleet(options: StartFleetOptions): Promise<Fleet> {
  const backends = checkOptions(options);
  const context: BackendContext = {
    env: options.env ?? process.env,
    binarySearchPath: options.binarySearchPath,
    serverArgs: options.serverArgs ?? [],
    signal: options.signal,
  };
  throwIfAborted(context.signal, "startFleet");
  // Directories of runs that were killed are swept whichever backend serves this time.
  sweepStale();
  const skipped: string[] = [];
  for (const kind of backends) {
    const probe = await BACKENDS[kind].probe(context);
    throwIfAborted(context.signal, "startFleet");
    if (!probe.available) {
      skipped.push(`${kind}: ${probe.reason}`);
      continue;
    }
    return assemble(kind, await probe.start(options.servers), context.signal);
  }
  throw new FleetError(
    "NO_BACKEND",
    "no MySQL server to start or use. Install MariaDB or MySQL (e.g. `apt-get install mariadb-server` or `brew install mariadb`), " +
      "start Docker, or set SHARDKIT_MYSQL_URLS=mysql://user:password@host:port (comma-separated) to use servers that already run. " +
      `Tried ${skipped.join("; ")}.`,
  );
}

/** A database the fleet created, to drop at stop() when the server outlives the fleet. */
interface CreatedDatabase {
  readonly address: ServerAddress;
  readonly database: string;
}

async function assemble(
  backend: FleetBackend,
  provided: BackendServers,
  signal: AbortSignal | undefined,
): Promise<Fleet> {
  const created: CreatedDatabase[] = [];
  const creating = new Set<Promise<unknown>>();
  let stopping: Promise<void> | undefined;

  const createDatabase = async (address: ServerAddress, prefix?: string): Promise<string> => {
    if (stopping) {
      throw new FleetError(
        "STOPPED",
        "this fleet was stopped: start a new one to create databases",
      );
    }
    const database = newDatabaseName(prefix);
    const done = runSql(address, [`CREATE DATABASE \`${database}\``]);
    creating.add(done);
    try {
      await done;
    } catch (error) {
      throw new FleetError(
        "CREATE_FAILED",
        `could not create database ${database} on ${serverUrl(address)}: ${describeError(error)}`,
        { cause: error },
      );
    } finally {
      creating.delete(done);
    }
    created.push({ address, database });
    return serverUrl(address, database);
  };

  const stopNow = async (): Promise<void> => {
    // A database still being created when stop() is called must be dropped too.
    await Promise.allSettled([...creating]);
    const failures: string[] = [];
    if (provided.shared) {
      const dropped = await Promise.allSettled(
        created.map((c) =>
          // A session holding a table open would make DROP wait for its lock indefinitely.
          runSql(c.address, [
            "SET SESSION lock_wait_timeout = 10",
            `DROP DATABASE IF EXISTS \`${c.database}\``,
          ]),
        ),
      );
      dropped.forEach((r, i) => {
        if (r.status === "rejected") {
          failures.push(
            `could not drop database ${created[i]?.database}: ${describeError(r.reason)}`,
          );
        }
      });
    }
    try {
      await provided.release();
    } catch (error) {
      failures.push(`could not stop the ${backend} servers: ${describeError(error)}`);
    }
    if (failures.length > 0) throw new FleetError("STOP_FAILED", failures.join("; "));
  };
  const stop = (): Promise<void> => {
    stopping ??= stopNow();
    return stopping;
  };

  try {
    const servers = await Promise.all(
      provided.addresses.map(async (address, i): Promise<FleetServer> => {
        const url = await createDatabase(address, `s${i + 1}`);
        return Object.freeze({
          name: `s${i + 1}`,
          host: address.host,
          port: address.port,
          user: address.user,
          password: address.password,
          database: new URL(url).pathname.slice(1),
          url,
          adminUrl: serverUrl(address),
          createDatabase: (prefix?: string) => createDatabase(address, prefix),
        });
      }),
    );
    throwIfAborted(signal, "startFleet");
    return Object.freeze({
      backend,
      servers: Object.freeze(servers),
      stop,
      [Symbol.asyncDispose]: stop,
    });
  } catch (error) {
    await stop().catch(() => undefined);
    if (error instanceof FleetError && error.code !== "CREATE_FAILED") throw error;
    throw new FleetError(
      "START_FAILED",
      `could not prepare the ${backend} servers: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
}
