// Local servers that outlive the process that started them (`shardkit dev up`), found again and
// stopped by their recorded pid from another process (`shardkit dev down`).
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { BackendContext } from "../backend.js";
import { describeError, FleetError, throwIfAborted } from "../errors.js";
import { disown } from "./exit-cleanup.js";
import { type LocalServer, startOne, stopLocalServer } from "./local-backend.js";
import { defaultSearchPath, findMysqlBinaries } from "./mysql-binaries.js";
import { isRunning, signalQuietly } from "./processes.js";
import { pathsOf } from "./server-setup.js";
import { serverProcessesUsing } from "./stale-sweep.js";

/** How long a detached server may take to stop after SIGTERM before it gets SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;

/** A server started by {@link startDetachedServers}: what another process needs to reach and stop it. */
export interface DetachedServer {
  /** `s1`, `s2`, ... in the order the servers were asked for. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Empty: local servers have a passwordless root on 127.0.0.1. */
  readonly password: string;
  /** The server process (mariadbd or mysqld). */
  readonly pid: number;
  /** The server's own folder: datadir, socket, pid file and error log. */
  readonly dir: string;
  readonly datadir: string;
}

/** Options for {@link startDetachedServers}. */
export interface StartDetachedServersOptions {
  /** How many servers; a whole number of at least 1. */
  readonly servers: number;
  /** A folder that does not exist yet; it gets one folder per server (`s1`, `s2`, ...). Keep it short: socket paths are limited to about 100 bytes. */
  readonly dir: string;
  /** Folders searched for mariadbd/mysqld. Default: the entries of PATH, /usr/sbin, /usr/local/mysql/bin. */
  readonly binarySearchPath?: readonly string[];
  /** Extra server options. Default: none. */
  readonly serverArgs?: readonly string[];
  /** Environment PATH is read from for the default search path. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Cancels the start: whatever was started is stopped and removed. Default: none. */
  readonly signal?: AbortSignal;
}

/**
 * Starts local servers that keep running after this process ends (each in its own process
 * group, not stopped by this process's exit handlers). Stop them with
 * {@link stopDetachedServers}, from any process, given what this returns.
 * Only local binaries can do this: a server in a container is removed with its process.
 *
 * @example
 * const servers = await startDetachedServers({ servers: 2, dir: "/tmp/dev-fleet" });
 * // later, in another process:
 * await stopDetachedServers(servers, "/tmp/dev-fleet");
 */
export async function startDetachedServers(
  options: StartDetachedServersOptions,
): Promise<DetachedServer[]> {
  const count = options.servers;
  if (!Number.isInteger(count) || count < 1) {
    throw new FleetError(
      "BAD_OPTIONS",
      `cannot start ${count} servers: ask for a whole number of at least 1`,
    );
  }
  const root = resolve(options.dir);
  if (existsSync(root)) {
    throw new FleetError(
      "BAD_OPTIONS",
      `${root} already exists: detached servers need a new folder; remove it or pick another`,
    );
  }
  const env = options.env ?? process.env;
  const searchPath = options.binarySearchPath ?? defaultSearchPath(env);
  const bin = findMysqlBinaries(searchPath);
  if (!bin) {
    throw new FleetError(
      "NO_BACKEND",
      `no mariadbd or mysqld (with its initialiser) in ${searchPath.join(", ") || "an empty search path"}: install MariaDB or MySQL (e.g. apt-get install mariadb-server or brew install mariadb)`,
    );
  }
  const context: BackendContext = {
    env,
    binarySearchPath: searchPath,
    serverArgs: options.serverArgs ?? [],
    signal: options.signal,
  };
  throwIfAborted(context.signal, "startDetachedServers");
  mkdirSync(root, { recursive: true });
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => startOne(bin, i + 1, context, join(root, `s${i + 1}`))),
  );
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed || context.signal?.aborted) {
    await Promise.allSettled(started.map(stopLocalServer));
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    throwIfAborted(context.signal, "startDetachedServers");
    throw failed?.reason;
  }
  return started.map((server, i) => detach(server, `s${i + 1}`));
}

/** Lets a started server outlive this process: no exit handler kills it, no handle keeps us alive. */
function detach(server: LocalServer, name: string): DetachedServer {
  disown(server.owned);
  server.child.unref();
  return {
    name,
    ...server.address,
    pid: server.child.pid as number,
    dir: server.dir,
    datadir: pathsOf(server.dir).datadir,
  };
}

/** True while the recorded server runs: its pid is alive and is still a server of its datadir (not a reused pid). */
export function detachedServerRunning(server: DetachedServer): boolean {
  return isRunning(server.pid) && serverProcessesUsing(server.dir).includes(server.pid);
}

async function waitGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let running = pids.filter(isRunning);
  while (running.length > 0 && Date.now() < deadline) {
    await sleep(50);
    running = running.filter(isRunning);
  }
  return running;
}

/**
 * Stops servers recorded by {@link startDetachedServers} (SIGTERM to every server process of
 * each datadir, SIGKILL after 10 s; a pid that no longer runs a server of that datadir is never
 * signalled) and removes their folders, then `dir` when given. Safe to call again after a
 * partial stop; rejects with STOP_FAILED after trying all.
 */
export async function stopDetachedServers(
  servers: readonly DetachedServer[],
  dir?: string,
): Promise<void> {
  const failures: string[] = [];
  await Promise.all(
    servers.map(async (server) => {
      // Found by command line rather than trusted by pid: a pid may since belong to another program.
      const pids = serverProcessesUsing(server.dir);
      for (const pid of pids) signalQuietly(pid, "SIGTERM");
      let left = await waitGone(pids, STOP_TIMEOUT_MS);
      for (const pid of left) signalQuietly(pid, "SIGKILL");
      left = await waitGone(left, 5000);
      if (left.length > 0) {
        failures.push(`server ${server.name} (pid ${left.join(", ")}) did not stop`);
        return;
      }
      try {
        await rm(server.dir, { recursive: true, force: true, maxRetries: 3 });
      } catch (error) {
        failures.push(`could not remove ${server.dir}: ${describeError(error)}`);
      }
    }),
  );
  if (dir !== undefined && failures.length === 0) {
    try {
      await rm(resolve(dir), { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      failures.push(`could not remove ${dir}: ${describeError(error)}`);
    }
  }
  if (failures.length > 0) throw new FleetError("STOP_FAILED", failures.join("; "));
}
