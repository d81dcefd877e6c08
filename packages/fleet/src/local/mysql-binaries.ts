import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { basename, delimiter, dirname, join } from "node:path";

/** The MySQL or MariaDB programs the local backend runs. */
export interface MysqlBinaries {
  /** Path of mariadbd or mysqld. */
  readonly server: string;
  /** Path of mariadb-install-db (or mysql_install_db); undefined for MySQL, which initialises with `mysqld --initialize-insecure`. */
  readonly installDb: string | undefined;
  readonly flavor: "mariadb" | "mysql";
}

/** Where the local backend looks by default: the entries of PATH, then /usr/sbin and /usr/local/mysql/bin. */
export function defaultSearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  return [
    ...(env.PATH ?? "").split(delimiter).filter(Boolean),
    "/usr/sbin",
    "/usr/local/mysql/bin",
  ];
}

function findIn(dirs: readonly string[], names: readonly string[]): string | undefined {
  for (const name of names) {
    for (const dir of dirs) {
      const file = join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not in this folder
      }
    }
  }
  return undefined;
}

/** The output of `<server> --version`, or "" when it cannot run. */
export function serverVersion(server: string): string {
  try {
    return execFileSync(server, ["--version"], {
      encoding: "utf8",
      timeout: 10_000,
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch {
    return "";
  }
}

/**
 * Finds mariadbd or mysqld on `searchPath` and what initialises its data directory, or
 * undefined when there is none (or MariaDB without mariadb-install-db).
 */
export function findMysqlBinaries(
  searchPath: readonly string[] = defaultSearchPath(),
): MysqlBinaries | undefined {
  const server = findIn(searchPath, ["mariadbd", "mysqld"]);
  if (!server) return undefined;
  // On many systems mysqld is MariaDB under its old name.
  const flavor =
    basename(server) === "mariadbd" || /mariadb/i.test(serverVersion(server)) ? "mariadb" : "mysql";
  if (flavor === "mysql") return { server, installDb: undefined, flavor };
  // Packages put the server in sbin and the installer in bin; tarballs put the installer in scripts.
  const base = dirname(dirname(server));
  const installDirs = [dirname(server), join(base, "bin"), join(base, "scripts"), ...searchPath];
  const installDb = findIn(installDirs, ["mariadb-install-db", "mysql_install_db"]);
  return installDb ? { server, installDb, flavor } : undefined;
}
