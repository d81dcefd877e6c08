import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  FleetError,
  type FleetServer,
  findMysqlBinaries,
  fleetRoot,
  startFleet,
} from "@shardkit/fleet";
import mysql from "mysql2/promise";
import { describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../../..");

/** True while `pid` is a running process (a zombie waiting to be reaped counts as gone). */
function isAlive(pid: number): boolean {
  const stat = spawnSync("ps", ["-o", "stat=", "-p", String(pid)], {
    encoding: "utf8",
  }).stdout.trim();
  return stat !== "" && !stat.startsWith("Z");
}

/** Waits up to 5 s for every pid to be gone; returns the ones still running. */
async function survivors(pids: number[]): Promise<number[]> {
  const deadline = Date.now() + 5000;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(isAlive);
}

/** PIDs of mysqld/mariadbd processes whose command line names a datadir under `dir`. */
function serversUnder(dir: string): number[] {
  const out = spawnSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" }).stdout;
  return out
    .split("\n")
    .filter((l) => /(mariadbd|mysqld)\s/.test(l) && l.includes(dir))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

async function writeAndRead(server: FleetServer, value: string): Promise<string> {
  const conn = await mysql.createConnection(server.url);
  try {
    await conn.query("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))");
    await conn.query("INSERT INTO t VALUES (1, ?)", [value]);
    const [rows] = await conn.query("SELECT v FROM t WHERE id = 1");
    return (rows as { v: string }[])[0]?.v ?? "";
  } finally {
    await conn.end();
  }
}

const hasLocal = findMysqlBinaries() !== undefined;

describe.runIf(hasLocal)("local fleet", () => {
  it("starts 3 servers that take writes, and stop() leaves no process and no datadir", async () => {
    const fleet = await startFleet({ servers: 3, backends: ["local"] });
    let pids: number[] = [];
    let dirs: string[] = [];
    try {
      expect(fleet.backend).toBe("local");
      expect(new Set(fleet.servers.map((s) => s.port)).size).toBe(3);
      expect(await Promise.all(fleet.servers.map((s, i) => writeAndRead(s, `row-${i}`)))).toEqual([
        "row-0",
        "row-1",
        "row-2",
      ]);
      // Each server has its own server id and a row binlog.
      const ids = await Promise.all(
        fleet.servers.map(async (s) => {
          const conn = await mysql.createConnection(s.adminUrl);
          const [rows] = await conn.query(
            "SELECT @@server_id AS id, @@log_bin AS bin, @@binlog_format AS fmt",
          );
          await conn.end();
          return (rows as { id: number; bin: number; fmt: string }[])[0];
        }),
      );
      expect(new Set(ids.map((x) => x?.id)).size).toBe(3);
      expect(ids.every((x) => Number(x?.bin) === 1 && x?.fmt === "ROW")).toBe(true);
      dirs = readdirSync(fleetRoot())
        .filter((d) => d.startsWith(`${process.pid}-`))
        .map((d) => join(fleetRoot(), d));
      expect(dirs).toHaveLength(3);
      pids = dirs.flatMap((d) => serversUnder(d));
      expect(pids).toHaveLength(3);
    } finally {
      await fleet.stop();
    }
    expect(await survivors(pids)).toEqual([]);
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);
    await fleet.stop(); // idempotent
  });

  it("gives each caller fresh databases on servers named in SHARDKIT_MYSQL_URLS and drops them at stop", async () => {
    const host = await startFleet({ servers: 1, backends: ["local"] });
    try {
      const [server] = host.servers;
      const urls = `${server?.adminUrl}`;
      const fleet = await startFleet({ servers: 2, env: { SHARDKIT_MYSQL_URLS: urls } });
      expect(fleet.backend).toBe("env");
      const [a, b] = fleet.servers;
      expect(a?.port).toBe(server?.port);
      expect(a?.database).not.toBe(b?.database);
      const extra = await a?.createDatabase("extra");
      await writeAndRead(a as FleetServer, "x");
      const names = [a?.database, b?.database, new URL(extra ?? "").pathname.slice(1)];
      await fleet.stop();
      const conn = await mysql.createConnection(server?.adminUrl ?? "");
      const [rows] = await conn.query("SHOW DATABASES");
      await conn.end();
      const left = (rows as { Database: string }[]).map((r) => r.Database);
      expect(names.filter((n) => left.includes(n ?? ""))).toEqual([]);
      expect(left).toContain(server?.database); // the host server still runs
    } finally {
      await host.stop();
    }
  });

  it("sweeps datadirs left by a killed run, killing their servers", async () => {
    // A child process starts a server, then dies by SIGKILL before it can clean up.
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, "fixtures/start-and-hang.mjs")],
      {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const line = await new Promise<string>((resolveLine, reject) => {
      child.stdout.on("data", (d: Buffer) => resolveLine(d.toString().trim()));
      child.once("exit", (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const orphanDir = join(fleetRoot(), line);
    expect(existsSync(orphanDir)).toBe(true);
    const orphans = serversUnder(orphanDir);
    expect(orphans).toHaveLength(1);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(orphans.filter(isAlive)).toHaveLength(1);
    // And a stale datadir with no server at all, owned by a pid that cannot exist.
    const stale = join(fleetRoot(), "999999999-dead-1");
    mkdirSync(join(stale, "data"), { recursive: true });
    writeFileSync(join(stale, "data", "junk"), "x");
    const fleet = await startFleet({ servers: 1, backends: ["local"] });
    await fleet.stop();
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(orphanDir)).toBe(false);
    expect(await survivors(orphans)).toEqual([]);
  });

  it("stops its servers when the process is interrupted (SIGINT and SIGTERM)", async () => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const child = spawn(
        process.execPath,
        [join(import.meta.dirname, "fixtures/start-and-hang.mjs"), "2"],
        {
          cwd: repoRoot,
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      const names = await new Promise<string[]>((resolveLine) => {
        child.stdout.on("data", (d: Buffer) => resolveLine(d.toString().trim().split(",")));
      });
      const dirs = names.map((n) => join(fleetRoot(), n));
      const pids = dirs.flatMap(serversUnder);
      expect(pids).toHaveLength(2);
      child.kill(signal);
      const exit = await new Promise<string | null>((r) =>
        child.once("exit", (_code, sig) => r(sig)),
      );
      expect(exit).toBe(signal);
      expect(await survivors(pids)).toEqual([]);
      expect(dirs.filter((d) => existsSync(d))).toEqual([]);
    }
  });
});

describe("no backend", () => {
  it("says how to install MySQL or MariaDB, start Docker or point at running servers", async () => {
    const error = await startFleet({ servers: 1, backends: ["local"], binarySearchPath: [] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FleetError);
    expect((error as FleetError).code).toBe("NO_BACKEND");
    expect((error as FleetError).message).toMatch(/apt-get install mariadb-server/);
    expect((error as FleetError).message).toMatch(/Docker/);
    expect((error as FleetError).message).toMatch(/SHARDKIT_MYSQL_URLS/);
  });

  it("refuses a bad server count and a bad SHARDKIT_MYSQL_URLS without a password in the message", async () => {
    await expect(startFleet({ servers: 0 })).rejects.toMatchObject({ code: "BAD_OPTIONS" });
    const bad = await startFleet({
      servers: 1,
      env: { SHARDKIT_MYSQL_URLS: "postgres://u:topsecret@h/x" },
    }).catch((e: unknown) => e);
    expect((bad as FleetError).code).toBe("BAD_URL");
    expect((bad as Error).message).not.toContain("topsecret");
  });

  it("skips the container backend quickly when no container runtime answers", async () => {
    const t0 = Date.now();
    const error = await startFleet({ servers: 1, backends: ["container"] }).catch(
      (e: unknown) => e,
    );
    // Where Docker runs this starts a container instead; here it must give up cleanly.
    if (error instanceof FleetError) {
      expect(error.code).toBe("NO_BACKEND");
      expect(Date.now() - t0).toBeLessThan(15_000);
    } else {
      await (error as { stop(): Promise<void> }).stop();
    }
  });
});
