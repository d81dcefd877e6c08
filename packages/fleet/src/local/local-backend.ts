import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, realpathSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import mysql from "mysql2/promise";
import type { BackendContext, BackendServers, ServerBackend } from "../backend.js";
import { describeError, FleetError, throwIfAborted } from "../errors.js";
import type { ServerAddress } from "../fleet-server.js";
import { disown, type OwnedDir, own } from "./exit-cleanup.js";
import { defaultSearchPath, findMysqlBinaries, type MysqlBinaries } from "./mysql-binaries.js";
import { signalQuietly } from "./processes.js";
import {
  initDatadir,
  lastLines,
  pathsOf,
  type ServerPaths,
  serverArgs,
  toolEnv,
} from "./server-setup.js";
import { createServerDir, fleetRoot } from "./stale-sweep.js";

/** How long a server may take from spawn to answering `SELECT 1`. */
const READY_TIMEOUT_MS = 30_000;
/** How long a server may take to stop after SIGTERM before it gets SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;
/** Attempts at binding a port another process may take between our probe and the server's bind. */
const PORT_ATTEMPTS = 3;
/** Unix socket paths longer than this do not fit in sockaddr_un on every platform. */
const MAX_SOCKET_PATH = 100;

/** A server this process started, and the directory holding its datadir, socket and logs. */
export interface LocalServer {
  readonly address: ServerAddress;
  readonly dir: string;
  readonly child: ChildProcess;
  readonly owned: OwnedDir;
}

function logTail(file: string, n = 8): string {
  try {
    return lastLines(readFileSync(file, "utf8"), n) || "(empty error log)";
  } catch {
    return "(no error log)";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function sameDir(reported: string, ours: string): boolean {
  const strip = (p: string): string => p.replace(/\/+$/, "");
  let real = ours;
  try {
    real = realpathSync(ours);
  } catch {
    // compare as given
  }
  return strip(reported) === strip(ours) || strip(reported) === strip(real);
}

/** Why a start attempt failed, and whether another port might work. */
class AttemptFailed extends Error {
  constructor(
    message: string,
    readonly portTaken: boolean,
  ) {
    super(message);
  }
}

/**
 * Waits until the server answers a real query and proves it is ours (its datadir), or exits,
 * or the deadline passes. Another server that took the port first must not pass for ours.
 */
async function waitReady(
  child: ChildProcess,
  address: ServerAddress,
  paths: ServerPaths,
  errorLog: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = "";
  let delay = 25;
  let foreign = false;
  while (Date.now() < deadline) {
    throwIfAborted(signal, "starting a local server");
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = logTail(errorLog);
      throw new AttemptFailed(
        `the server on port ${address.port} exited during start-up (${child.exitCode ?? child.signalCode}); its error log ends: ${tail}`,
        foreign || /bind|address already in use/i.test(logTail(errorLog, 20)),
      );
    }
    try {
      const conn = await mysql.createConnection({ ...address, connectTimeout: 2000 });
      try {
        const [rows] = await conn.query("SELECT @@datadir AS datadir");
        const reported = String((rows as { datadir?: unknown }[])[0]?.datadir ?? "");
        if (sameDir(reported, paths.datadir)) return;
        foreign = true;
        lastError = `port ${address.port} is answered by another server (datadir ${reported})`;
      } finally {
        await conn.end().catch(() => conn.destroy());
      }
    } catch (error) {
      lastError = describeError(error);
    }
    await sleep(delay);
    delay = Math.min(delay * 1.5, 500);
  }
  throw new AttemptFailed(
    `the server on port ${address.port} did not answer within ${READY_TIMEOUT_MS / 1000} s (${lastError}); its error log ends: ${logTail(errorLog)}`,
    foreign,
  );
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Stops a server by its pid: SIGTERM (SIGKILL after a timeout), or at once SIGKILL when `force`. */
async function killAndWait(child: ChildProcess, force = false): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(force ? "SIGKILL" : "SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await gone;
  clearTimeout(timer);
}

/**
 * Initialises and starts one server in `dir` (a new directory under the fleet root by default;
 * a given `dir` must not exist yet). Until it returns, the directory is owned by this process:
 * a failure, or this process ending, kills the server and removes it.
 */
export async function startOne(
  bin: MysqlBinaries,
  index: number,
  context: BackendContext,
  dir?: string,
): Promise<LocalServer> {
  const { signal } = context;
  if (dir !== undefined) mkdirSync(dir);
  const paths = pathsOf(dir ?? createServerDir(fleetRoot(), index));
  const owned = own(paths.dir);
  try {
    if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) {
      throw new FleetError(
        "START_FAILED",
        `the socket path ${paths.socket} is longer than ${MAX_SOCKET_PATH} bytes, the most a unix socket allows: set TMPDIR to a shorter folder`,
      );
    }
    mkdirSync(paths.datadir);
    mkdirSync(paths.tmp);
    await initDatadir(bin, paths, owned, signal);
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal, "starting a local server");
      const port = await freePort();
      const address: ServerAddress = { host: "127.0.0.1", port, user: "root", password: "" };
      const errorLog = join(paths.dir, attempt === 1 ? "error.log" : `error-${attempt}.log`);
      // In its own process group, like the initialiser: a terminal's Ctrl+C then reaches only
      // us, and our handler stops the servers rather than each of them reacting on its own.
      const child = spawn(bin.server, serverArgs(bin, paths, port, errorLog, context.serverArgs), {
        stdio: "ignore",
        env: toolEnv(paths),
        detached: true,
      });
      owned.process = child;
      // An 'error' event (the program vanished) must not crash the process; exitCode covers it.
      child.once("error", () => undefined);
      try {
        await waitReady(child, address, paths, errorLog, signal);
        return { address, dir: paths.dir, child, owned };
      } catch (error) {
        // A server that never became ready holds nothing worth a clean shutdown.
        await killAndWait(child, true);
        owned.process = undefined;
        if (error instanceof AttemptFailed) {
          if (error.portTaken && attempt < PORT_ATTEMPTS) continue;
          throw new FleetError("START_FAILED", `could not start ${bin.server}: ${error.message}`);
        }
        throw error;
      }
    }
  } catch (error) {
    const pid = owned.process?.pid;
    signalQuietly(pid === undefined ? undefined : -pid, "SIGKILL");
    await rm(paths.dir, { recursive: true, force: true, maxRetries: 3 });
    disown(owned);
    throw error;
  }
}

/** Stops one server by its PID (SIGTERM, then SIGKILL after 10 s) and removes its directory. */
export async function stopLocalServer(server: LocalServer): Promise<void> {
  await killAndWait(server.child);
  server.owned.process = undefined;
  await rm(server.dir, { recursive: true, force: true, maxRetries: 3 });
  disown(server.owned);
}

async function startLocalServers(
  bin: MysqlBinaries,
  count: number,
  context: BackendContext,
): Promise<BackendServers> {
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => startOne(bin, i + 1, context)),
  );
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.allSettled(started.map(stopLocalServer));
    throw failed.reason;
  }
  return {
    addresses: started.map((s) => s.address),
    shared: false,
    release: async () => {
      const stopped = await Promise.allSettled(started.map(stopLocalServer));
      const failure = stopped.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failure) throw failure.reason;
    },
  };
}

/**
 * Servers run from mariadbd or mysqld found on the search path, each in its own temporary
 * directory on a free port of 127.0.0.1, root with an empty password, row binlog on.
 */
export const localBackend: ServerBackend = {
  kind: "local",
  async probe(context) {
    const searchPath = context.binarySearchPath ?? defaultSearchPath(context.env);
    const bin = findMysqlBinaries(searchPath);
    if (!bin) {
      const where = searchPath.length > 0 ? searchPath.join(", ") : "an empty search path";
      return {
        available: false,
        reason: `no mariadbd or mysqld (with its initialiser) in ${where}`,
      };
    }
    return { available: true, start: (count) => startLocalServers(bin, count, context) };
  },
};
