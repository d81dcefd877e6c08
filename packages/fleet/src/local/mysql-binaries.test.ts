import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultSearchPath, findMysqlBinaries } from "./mysql-binaries.js";

const root = mkdtempSync(join(tmpdir(), "fleet-binaries-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes an executable shell script `dir/name` that prints `version` for --version. */
function fakeProgram(dir: string, name: string, version = "", executable = true): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\necho '${version}'\n`);
  chmodSync(file, executable ? 0o755 : 0o644);
  return file;
}

describe("findMysqlBinaries", () => {
  it("finds mariadbd in sbin and its installer in the sibling bin", () => {
    const base = join(root, "pkg");
    const server = fakeProgram(join(base, "sbin"), "mariadbd");
    const installDb = fakeProgram(join(base, "bin"), "mariadb-install-db");
    expect(findMysqlBinaries([join(base, "sbin")])).toEqual({
      server,
      installDb,
      flavor: "mariadb",
    });
  });

  it("takes a mysqld that reports MariaDB for MariaDB", () => {
    const dir = join(root, "old-name");
    const server = fakeProgram(dir, "mysqld", "mysqld  Ver 10.11.6-MariaDB-0+deb12u1 for debian");
    const installDb = fakeProgram(dir, "mysql_install_db");
    expect(findMysqlBinaries([dir])).toEqual({ server, installDb, flavor: "mariadb" });
  });

  it("takes MySQL's mysqld for MySQL, which needs no installer", () => {
    const dir = join(root, "mysql", "bin");
    const server = fakeProgram(
      dir,
      "mysqld",
      "mysqld  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)",
    );
    expect(findMysqlBinaries([dir])).toEqual({ server, installDb: undefined, flavor: "mysql" });
  });

  it("prefers mariadbd over mysqld, in search path order", () => {
    const first = join(root, "order", "a");
    const second = join(root, "order", "b");
    fakeProgram(first, "mysqld", "mysqld  Ver 8.0.36 (MySQL Community Server - GPL)");
    const server = fakeProgram(second, "mariadbd");
    fakeProgram(second, "mariadb-install-db");
    expect(findMysqlBinaries([first, second])?.server).toBe(server);
  });

  it("finds nothing on an empty path, without an installer, or where nothing is executable", () => {
    expect(findMysqlBinaries([])).toBeUndefined();
    const lonely = join(root, "lonely", "sbin");
    fakeProgram(lonely, "mariadbd");
    expect(findMysqlBinaries([lonely])).toBeUndefined();
    const plain = join(root, "plain");
    fakeProgram(plain, "mysqld", "mysqld  Ver 8.0.36", false);
    expect(findMysqlBinaries([plain])).toBeUndefined();
  });
});

describe("defaultSearchPath", () => {
  it("is PATH, then /usr/sbin and /usr/local/mysql/bin", () => {
    expect(defaultSearchPath({ PATH: "/a::/b" })).toEqual([
      "/a",
      "/b",
      "/usr/sbin",
      "/usr/local/mysql/bin",
    ]);
    expect(defaultSearchPath({})).toEqual(["/usr/sbin", "/usr/local/mysql/bin"]);
  });
});
