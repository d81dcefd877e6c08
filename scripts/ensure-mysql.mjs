// Makes sure a MySQL or MariaDB server binary is available before tests, the quickstart or
// the benchmarks start local servers. On a Debian machine where we are root it installs
// MariaDB from Debian's packages; anywhere else it says what to install and exits non-zero.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

const names = ["mariadbd", "mysqld"];
const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/mysql/bin"];
const found = dirs.some((d) => d && names.some((n) => existsSync(join(d, n))));

if (found || process.env.SHARDKIT_MYSQL_URLS) process.exit(0);

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (isRoot && existsSync("/usr/bin/apt-get")) {
  console.error(
    "shardkit: no mariadbd or mysqld found; installing mariadb-server from Debian's packages",
  );
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "mariadb-server"], {
    stdio: ["ignore", "ignore", "inherit"],
    env,
  });
  process.exit(0);
}
console.error(
  "shardkit: no MySQL server binary found. Install MariaDB or MySQL (e.g. `sudo apt-get install mariadb-server` or `brew install mysql`), " +
    "or set SHARDKIT_MYSQL_URLS=mysql://root@127.0.0.1:3306 to use servers that already run.",
);
process.exit(1);
