// `shardkit dev`: a local fleet that outlives the command. `up` starts detached servers, creates
// the directory, registers the shards and writes the config file; `status` looks at them; `down`
// stops them and removes every file `up` made.
import { randomBytes } from "node:crypto";
import { rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type CredentialResolver, MysqlDirectoryStore, ShardkitError } from "@shardkit/directory";
import {
  type DetachedServer,
  detachedServerRunning,
  FleetError,
  startDetachedServers,
  stopDetachedServers,
} from "@shardkit/fleet";
import {
  configIsForeign,
  type DevPaths,
  type DevState,
  readDevState,
  removeDevConfig,
  removeDevState,
  writeDevConfig,
  writeDevState,
} from "./dev-state.js";

/** The directory database `dev up` creates on the first server. */
export const DEV_DIRECTORY_DATABASE = "shardkit_directory";
/** The application database `dev up` registers as the shard on every server. */
export const DEV_SHARD_DATABASE = "app";

/** Options for {@link devUp}. */
export interface DevUpOptions {
  /** How many servers (and shards). Default 2. */
  readonly shards?: number;
  /** Passwords for the directory store (none are needed on local servers). */
  readonly credentials: CredentialResolver;
  /** Told what is happening while servers start. */
  readonly onProgress?: (message: string) => void;
}

/** What `dev up` found or did. */
export interface DevUpResult {
  /** True when a dev fleet was running already and nothing was started. */
  readonly alreadyRunning: boolean;
  readonly state: DevState;
}

/** One server of a dev fleet as `dev status` sees it. */
export interface DevServerStatus {
  readonly shard: string;
  readonly port: number;
  readonly pid: number;
  readonly running: boolean;
  readonly url: string;
}

function urlOf(server: DetachedServer, database: string): string {
  return `mysql://${encodeURIComponent(server.user)}@${server.host}:${server.port}/${database}`;
}

function isRunning(state: DevState): boolean {
  return state.servers.every(detachedServerRunning);
}

/**
 * Starts a dev fleet (or reports the one running): `shards` detached local servers, a directory
 * on the first, each server's `app` database registered as shard s1, s2, ..., and the config
 * file pointing at the directory. A failure stops and removes whatever it had started.
 */
export async function devUp(paths: DevPaths, options: DevUpOptions): Promise<DevUpResult> {
  const count = options.shards ?? 2;
  const existing = readDevState(paths);
  if (existing) {
    if (isRunning(existing)) return { alreadyRunning: true, state: existing };
    throw new ShardkitError(
      "DEV_FLEET_STALE",
      `a dev fleet is recorded in ${paths.stateFile} but its servers are not running (stopped or the machine restarted): run shardkit dev down to remove its data, then shardkit dev up`,
      { details: { stateFile: paths.stateFile } },
    );
  }
  if (configIsForeign(paths.configFile)) {
    throw new ShardkitError(
      "CONFIG_EXISTS",
      `${paths.configFile} exists and was not written by shardkit dev up: move it away, or run shardkit dev up in another folder`,
      { details: { configFile: paths.configFile } },
    );
  }
  const dir = join(tmpdir(), "shardkit-dev", randomBytes(4).toString("hex"));
  options.onProgress?.(`starting ${count} local MySQL servers in ${dir}`);
  let servers: DetachedServer[];
  try {
    servers = await startDetachedServers({ servers: count, dir });
  } catch (error) {
    if (!(error instanceof FleetError)) throw error;
    throw new ShardkitError("SERVERS_NOT_STARTED", error.message, { cause: error });
  }
  const first = servers[0] as DetachedServer;
  const state: DevState = {
    version: 1,
    startedAt: new Date().toISOString(),
    dir,
    configFile: paths.configFile,
    directory: urlOf(first, DEV_DIRECTORY_DATABASE),
    servers,
    shards: servers.map((s) => ({ name: s.name, url: urlOf(s, DEV_SHARD_DATABASE) })),
  };
  // Recorded before anything else can fail, so dev down can always find the servers.
  writeDevState(paths, state);
  try {
    options.onProgress?.("creating the directory and registering the shards");
    const store = new MysqlDirectoryStore({
      directory: state.directory,
      credentials: options.credentials,
    });
    try {
      await store.init();
      for (const [i, shard] of state.shards.entries()) {
        const server = servers[i] as DetachedServer;
        await store.addShard({
          name: shard.name,
          host: server.host,
          port: server.port,
          user: server.user,
          password: server.password,
          database: DEV_SHARD_DATABASE,
        });
      }
    } finally {
      await store.close();
    }
    writeDevConfig(paths.configFile, state.directory);
  } catch (error) {
    await stopDetachedServers(servers, dir).catch(() => undefined);
    removeDevState(paths);
    throw error;
  }
  return { alreadyRunning: false, state };
}

/** The recorded dev fleet and whether each server runs; NO_DEV_FLEET when none is recorded. */
export function devStatus(paths: DevPaths): { state: DevState; servers: DevServerStatus[] } {
  const state = readDevState(paths);
  if (!state) throw noFleet(paths);
  return {
    state,
    servers: state.servers.map((s, i) => ({
      shard: s.name,
      port: s.port,
      pid: s.pid,
      running: detachedServerRunning(s),
      url: state.shards[i]?.url ?? urlOf(s, DEV_SHARD_DATABASE),
    })),
  };
}

/** What `dev down` did: undefined when no dev fleet was recorded. */
export interface DevDownResult {
  readonly state: DevState;
  /** Whether the config file `dev up` wrote was removed (a file the user took over is kept). */
  readonly configRemoved: boolean;
}

/** Stops the dev fleet's servers, removes their folders, the state file and the config file `dev up` wrote. */
export async function devDown(paths: DevPaths): Promise<DevDownResult | undefined> {
  const state = readDevState(paths);
  if (!state) return undefined;
  await stopDetachedServers(state.servers, state.dir);
  try {
    rmdirSync(dirname(state.dir)); // shardkit-dev/, when no other dev fleet is in it
  } catch {
    // another folder's dev fleet runs
  }
  const configRemoved = removeDevConfig(state.configFile);
  removeDevState(paths);
  return { state, configRemoved };
}

function noFleet(paths: DevPaths): ShardkitError {
  return new ShardkitError(
    "NO_DEV_FLEET",
    `no dev fleet is recorded in ${paths.stateFile}: start one with shardkit dev up`,
    { details: { stateFile: paths.stateFile } },
  );
}
