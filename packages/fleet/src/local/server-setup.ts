// How one local server's files are laid out, made and started: its paths, the data directory's
// initialisation (mariadb-install-db or mysqld --initialize-insecure) and the server's arguments.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { describeError, FleetError, throwIfAborted } from "../errors.js";
import type { OwnedDir } from "./exit-cleanup.js";
import { type MysqlBinaries, serverVersion } from "./mysql-binaries.js";
import { signalQuietly } from "./processes.js";

/** Servers run as root only with --user=root. */
export const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** Where one server keeps its files. */
export interface ServerPaths {
  readonly dir: string;
  readonly datadir: string;
  readonly tmp: string;
  readonly socket: string;
  readonly pidFile: string;
}

/** The paths of a server kept in `dir`. */
export function pathsOf(dir: string): ServerPaths {
  return {
    dir,
    datadir: join(dir, "data"),
    tmp: join(dir, "tmp"),
    socket: join(dir, "s.sock"),
    pidFile: join(dir, "mysqld.pid"),
  };
}

/** The last `n` lines of `text`, on one line. */
export function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join(" | ");
}

/** Each server gets its own temporary folder: bootstraps running side by side collide in a shared /tmp. */
export function toolEnv(paths: ServerPaths): NodeJS.ProcessEnv {
  return { ...process.env, TMPDIR: paths.tmp };
}

/**
 * Runs an initialiser to completion, registered for cleanup while it runs; rejects with its
 * output's tail. It runs in its own process group: mariadb-install-db is a shell script whose
 * bootstrap server must die with it on abort or timeout.
 */
function runTool(
  file: string,
  args: readonly string[],
  paths: ServerPaths,
  owned: OwnedDir,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: toolEnv(paths),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    owned.process = child;
    let output = "";
    let stoppedBecause: string | undefined;
    const killGroup = (why: string): void => {
      stoppedBecause ??= why;
      signalQuietly(child.pid === undefined ? undefined : -child.pid, "SIGKILL");
    };
    const onAbort = (): void => killGroup("cancelled");
    const timer = setTimeout(() => killGroup(`timed out after ${timeoutMs / 1000} s`), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const settle = (error: Error | undefined): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      owned.process = undefined;
      if (error) reject(error);
      else resolve();
    };
    child.once("error", settle);
    child.once("close", (code, killedBy) => {
      if (code === 0) settle(undefined);
      else {
        const how = stoppedBecause ?? `exited with ${code ?? killedBy}`;
        settle(new Error(`${how}: ${lastLines(output, 4)}`));
      }
    });
  });
}

/** Initialises the server's data directory; START_FAILED (with the tool's output) when that fails. */
export async function initDatadir(
  bin: MysqlBinaries,
  paths: ServerPaths,
  owned: OwnedDir,
  signal: AbortSignal | undefined,
): Promise<void> {
  const user = isRoot ? ["--user=root"] : [];
  const installDb = bin.flavor === "mariadb" ? bin.installDb : undefined;
  try {
    if (installDb) {
      // A tarball's installer in <base>/scripts cannot find the server files by itself.
      const base =
        basename(dirname(installDb)) === "scripts"
          ? [`--basedir=${dirname(dirname(installDb))}`]
          : [];
      await runTool(
        installDb,
        [
          "--no-defaults",
          `--datadir=${paths.datadir}`,
          ...base,
          ...user,
          "--auth-root-authentication-method=normal",
          "--skip-test-db",
        ],
        paths,
        owned,
        signal,
        60_000,
      );
    } else {
      await runTool(
        bin.server,
        [
          "--no-defaults",
          "--initialize-insecure",
          `--datadir=${paths.datadir}`,
          `--tmpdir=${paths.tmp}`,
          ...user,
        ],
        paths,
        owned,
        signal,
        120_000,
      );
    }
  } catch (error) {
    throwIfAborted(signal, "starting a local server");
    throw new FleetError(
      "START_FAILED",
      `could not initialise a data directory in ${paths.datadir} with ${installDb ?? `${bin.server} --initialize-insecure`}: ${describeError(error)}`,
      { cause: error },
    );
  }
}

function mysqlMajorVersion(bin: MysqlBinaries): number {
  return Number(/Ver\s+(\d+)\./.exec(serverVersion(bin.server))?.[1] ?? 8);
}

/**
 * MySQL's --initialize-insecure makes only root@localhost, which TCP clients from 127.0.0.1 do
 * not match under --skip-name-resolve, and accounts cannot be made during initialisation; so
 * each start runs this file, kept out of the binlog. MariaDB's installer makes them itself.
 */
function writeRootGrants(paths: ServerPaths): string {
  const file = join(paths.dir, "root-grants.sql");
  const lines = ["SET SESSION sql_log_bin = 0;"];
  for (const host of ["127.0.0.1", "::1"]) {
    lines.push(
      `CREATE USER IF NOT EXISTS 'root'@'${host}';`,
      `GRANT ALL PRIVILEGES ON *.* TO 'root'@'${host}' WITH GRANT OPTION;`,
    );
  }
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

/** The command line of a server on `port`, logging errors to `errorLog`, plus `extra`. */
export function serverArgs(
  bin: MysqlBinaries,
  paths: ServerPaths,
  port: number,
  errorLog: string,
  extra: readonly string[],
): string[] {
  return [
    "--no-defaults",
    ...(isRoot ? ["--user=root"] : []),
    `--datadir=${paths.datadir}`,
    `--tmpdir=${paths.tmp}`,
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    `--socket=${paths.socket}`,
    `--pid-file=${paths.pidFile}`,
    `--log-error=${errorLog}`,
    // Two servers never share a port, so the port is a server id no other live server has.
    `--server-id=${port}`,
    "--log-bin",
    "--binlog-format=ROW",
    "--skip-name-resolve",
    "--performance-schema=OFF",
    "--innodb-buffer-pool-size=32M",
    ...(bin.flavor === "mysql"
      ? [
          `--init-file=${writeRootGrants(paths)}`,
          "--gtid-mode=ON",
          "--enforce-gtid-consistency=ON",
          // X Protocol would listen on 33060 and /tmp/mysqlx.sock, shared by every server.
          ...(mysqlMajorVersion(bin) >= 8 ? ["--mysqlx=OFF"] : []),
        ]
      : []),
    ...extra,
  ];
}
