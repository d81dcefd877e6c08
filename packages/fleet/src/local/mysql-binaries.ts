import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** The MySQL or MariaDB programs the local backend runs. */
export interface MysqlBinaries {
  /** mariadbd or mysqld. */
  readonly server: string;
  /** mariadb-install-db or mysql_install_db; undefined for MySQL, which initialises with `mysqld --initialize-insecure`. */
  readonly installDb: string | undefined;
  readonly flavor: "mariadb" | "mysql";
}

/** Where to look by default: PATH, then /usr/sbin and /usr/local/mysql/bin. */
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
        // not here
      }
    }
  }
  return undefined;
}

/** Finds mariadbd or mysqld (and the matching initialiser) on the search path, or undefined. */
export function findMysqlBinaries(
  searchPath: readonly string[] = defaultSearchPath(),
): MysqlBinaries | undefined {
  const server = findIn(searchPath, ["mariadbd", "mysqld"]);
  if (!server) return undefined;
  let flavor: "mariadb" | "mysql" = server.endsWith("mariadbd") ? "mariadb" : "mysql";
  if (flavor === "mysql") {
    try {
      // On many systems mysqld is MariaDB under its old name.
      if (
        /mariadb/i.test(execFileSync(server, ["--version"], { encoding: "utf8", timeout: 10_000 }))
      )
        flavor = "mariadb";
    } catch {
      // keep the guess
    }
  }
  const installDirs = [...searchPath, "/usr/bin", "/usr/local/mysql/scripts"];
  const installDb =
    flavor === "mariadb"
      ? findIn(installDirs, ["mariadb-install-db", "mysql_install_db"])
      : undefined;
  if (flavor === "mariadb" && !installDb) return undefined;
  return { server, installDb, flavor };
}
