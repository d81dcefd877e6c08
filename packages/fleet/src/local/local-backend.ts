import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import type { MysqlBinaries } from "../binaries.js";
import { FleetError } from "../errors.js";
import type { ServerAddress } from "../fleet-server.js";

const run = promisify(execFile);

/** The folder holding every local server's directory; each is named `<owner pid>-<random>-<n>`. */
export function fleetRoot(): string {
  return join(tmpdir(), "shardkit-fleet");
}

/** A local server this process started. */
export interface LocalServer {
  readonly address: ServerAddress;
  readonly dir: string;
  readonly child: ChildProcess;
}

// Servers of this process, killed by the signal and exit handlers if stop() never runs.
const live = new Set<LocalServer>();
let handlersInstalled = false;

function killProcess(child: ChildProcess): void {
  try {
    if (child.pid && child.exitCode === null && child.signalCode === null)
      process.kill(child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function killNow(server: LocalServer): void {
  killProcess(server.child);
  rmSync(server.dir, { recursive: true, force: true });
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    for (const s of live) killNow(s);
    live.clear();
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      for (const s of live) killNow(s);
      live.clear();
      // Let the signal do what it would have done without us.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes server directories whose owning process is gone, killing a server still running in one. */
export function sweepStale(root = fleetRoot()): string[] {
  if (!existsSync(root)) return [];
  const swept: string[] = [];
  for (const name of readdirSync(root)) {
    const owner = Number(name.split("-")[0]);
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
    const dir = join(root, name);
    try {
      const pid = Number(readFileSync(join(dir, "mysqld.pid"), "utf8").trim());
      if (pid > 0 && isAlive(pid)) process.kill(pid, "SIGKILL");
    } catch {
      // no pid file: the server never started or already wrote nothing
    }
    rmSync(dir, { recursive: true, force: true });
    swept.push(dir);
  }
  return swept;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 8): string {
  try {
    return lastLines(readFileSync(file, "utf8"), lines);
  } catch {
    return "(no error log)";
  }
}

function lastLines(text: string, n = 3): string {
  return text.trim().split("\n").slice(-n).join(" | ");
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** Each server gets its own temporary folder: bootstraps running side by side collide in a shared /tmp. */
function serverEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, TMPDIR: join(dir, "tmp") };
}

async function initDatadir(bin: MysqlBinaries, datadir: string, dir: string): Promise<void> {
  const user = isRoot ? ["--user=root"] : [];
  const env = serverEnv(dir);
  try {
    if (bin.flavor === "mariadb" && bin.installDb) {
      await run(
        bin.installDb,
        [
          "--no-defaults",
          `--datadir=${datadir}`,
          ...user,
          "--auth-root-authentication-method=normal",
          "--skip-test-db",
        ],
        { timeout: 60_000, env },
      );
    } else {
      await run(
        bin.server,
        ["--no-defaults", "--initialize-insecure", `--datadir=${datadir}`, ...user],
        {
          timeout: 120_000,
          env,
        },
      );
    }
  } catch (error) {
    throw new FleetError(
      "START_FAILED",
      `could not initialise a data directory in ${dir} with ${bin.installDb ?? bin.server}: ${lastLines((error as { stderr?: string }).stderr ?? (error as Error).message)}`,
      { cause: error },
    );
  }
}

function serverArgs(bin: MysqlBinaries, dir: string, port: number, serverId: number): string[] {
  return [
    "--no-defaults",
    ...(isRoot ? ["--user=root"] : []),
    `--datadir=${join(dir, "data")}`,
    `--tmpdir=${join(dir, "tmp")}`,
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    `--socket=${join(dir, "s.sock")}`,
    `--pid-file=${join(dir, "mysqld.pid")}`,
    `--log-error=${join(dir, "error.log")}`,
    `--server-id=${serverId}`,
    "--log-bin",
    "--binlog-format=ROW",
    "--skip-name-resolve",
    "--performance-schema=OFF",
    "--innodb-buffer-pool-size=32M",
    ...(bin.flavor === "mysql"
      ? ["--mysqlx=OFF", "--gtid-mode=ON", "--enforce-gtid-consistency=ON"]
      : []),
  ];
}

/** Waits until a real query answers, or the server exits, or the deadline passes. */
async function waitReady(
  child: ChildProcess,
  address: ServerAddress,
  dir: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new FleetError(
        "START_FAILED",
        `the server on port ${address.port} exited during start-up (${child.exitCode ?? child.signalCode}): ${tail(join(dir, "error.log"))}`,
      );
    }
    try {
      const conn = await mysql.createConnection({ ...address, connectTimeout: 2000 });
      try {
        await conn.query("SELECT 1");
        return;
      } finally {
        await conn.end().catch(() => conn.destroy());
      }
    } catch (error) {
      lastError = (error as Error).message;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new FleetError(
    "START_FAILED",
    `the server on port ${address.port} did not answer within ${timeoutMs / 1000} s (${lastError}): ${tail(join(dir, "error.log"))}`,
  );
}

async function startOne(
  bin: MysqlBinaries,
  root: string,
  index: number,
  extraArgs: readonly string[],
): Promise<LocalServer> {
  const dir = join(root, `${process.pid}-${randomBytes(3).toString("hex")}-${index}`);
  mkdirSync(join(dir, "data"), { recursive: true });
  mkdirSync(join(dir, "tmp"), { recursive: true });
  try {
    await initDatadir(bin, join(dir, "data"), dir);
    // A port found free can be taken before the server binds it: try a few.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const address: ServerAddress = { host: "127.0.0.1", port, user: "root", password: "" };
      const serverId = 1000 + ((port * 7 + index) % 4_000_000);
      const child = spawn(bin.server, [...serverArgs(bin, dir, port, serverId), ...extraArgs], {
        stdio: "ignore",
        env: serverEnv(dir),
      });
      const server: LocalServer = { address, dir, child };
      live.add(server);
      child.once("exit", () => live.delete(server));
      try {
        await waitReady(child, address, dir, 30_000);
        return server;
      } catch (error) {
        killProcess(child);
        live.delete(server);
        const bindFailed = /bind|address already in use/i.test(tail(join(dir, "error.log"), 20));
        if (!bindFailed || attempt >= 3) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Starts `n` local servers in parallel; on any failure stops the ones that started and rethrows. */
export async function startLocalServers(
  bin: MysqlBinaries,
  n: number,
  extraArgs: readonly string[] = [],
): Promise<LocalServer[]> {
  installHandlers();
  const root = fleetRoot();
  mkdirSync(root, { recursive: true });
  sweepStale(root);
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => startOne(bin, root, i + 1, extraArgs)),
  );
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(started.map(stopLocalServer));
    throw failed.reason;
  }
  return started;
}

/** Stops one server by its PID (SIGTERM, SIGKILL after 10 s) and removes its directory. */
export async function stopLocalServer(server: LocalServer): Promise<void> {
  const { child } = server;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
  live.delete(server);
  await rm(server.dir, { recursive: true, force: true });
}
