import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  type Fleet,
  FleetError,
  type FleetServer,
  findMysqlBinaries,
  fleetRoot,
  startFleet,
  sweepStale,
} from "@shardkit/fleet";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../../..");
const fixture = join(import.meta.dirname, "fixtures/start-and-hang.mjs");

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
function isAlive(pid: number): boolean {
  const stat = spawnSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" });
  const state = stat.stdout.trim();
  return state !== "" && !state.startsWith("Z");
}

/** Waits up to 5 s for every pid to be gone; returns the ones still running. */
async function survivors(pids: readonly number[]): Promise<number[]> {
  const deadline = Date.now() + 5000;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(isAlive);
}

/** PIDs of mysqld/mariadbd processes whose command line names a datadir under `dir`. */
function serversUnder(dir: string): number[] {
  const out = spawnSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" }).stdout;
  return out
    .split("\n")
    .filter((l) => /(mariadbd|mysqld)\s/.test(l) && l.includes(`${dir}/`))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** This process's server directories. */
function myDirs(): string[] {
  if (!existsSync(fleetRoot())) return [];
  return readdirSync(fleetRoot())
    .filter((d) => d.startsWith(`${process.pid}-`))
    .map((d) => join(fleetRoot(), d));
}

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const conn = await mysql.createConnection(url);
  try {
    const [rows] = await conn.query(sql, params);
    return rows as T[];
  } finally {
    await conn.end();
  }
}

async function writeAndRead(server: FleetServer, value: string): Promise<string | undefined> {
  await query(server.url, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))");
  await query(server.url, "INSERT INTO t VALUES (1, ?)", [value]);
  const rows = await query<{ v: string }>(server.url, "SELECT v FROM t WHERE id = 1");
  return rows[0]?.v;
}

/** Starts the fixture in a child process; resolves with it and its server directories. */
async function startChildFleet(servers: number): Promise<{ child: ChildProcess; dirs: string[] }> {
  const child = spawn(process.execPath, [fixture, String(servers)], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolveLine, reject) => {
    child.stdout?.once("data", (d: Buffer) => resolveLine(d.toString().trim()));
    child.once("exit", (code) => reject(new Error(`the child fleet exited early with ${code}`)));
  });
  return { child, dirs: line.split(",").map((name) => join(fleetRoot(), name)) };
}

/** Kills a child fleet that a failed test left behind, and sweeps what it left. */
async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }
  sweepStale();
}

/** PIDs of servers and initialisers running in this process's server directories. */
function myServerProcesses(): number[] {
  const out = spawnSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" }).stdout;
  return out
    .split("\n")
    .filter(
      (l) => /mariadbd|mysqld|install-db/.test(l) && l.includes(`${fleetRoot()}/${process.pid}-`),
    )
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

const hasLocal = findMysqlBinaries() !== undefined;

describe.runIf(hasLocal)("local fleet", () => {
  beforeAll(() => {
    // The child fleets run the built package (plain node cannot load the TypeScript source):
    // build it, a no-op when it is current.
    execFileSync(
      process.execPath,
      [join(repoRoot, "node_modules/typescript/bin/tsc"), "-b", "packages/fleet"],
      { cwd: repoRoot, stdio: "inherit" },
    );
  });

  it("starts 3 servers that take writes, and stop() leaves no process and no datadir", async () => {
    const fleet = await startFleet({ servers: 3, backends: ["local"] });
    let pids: number[] = [];
    let dirs: string[] = [];
    try {
      expect(fleet.backend).toBe("local");
      expect(fleet.servers.map((s) => s.name)).toEqual(["s1", "s2", "s3"]);
      expect(new Set(fleet.servers.map((s) => s.port)).size).toBe(3);
      expect(await Promise.all(fleet.servers.map((s, i) => writeAndRead(s, `row-${i}`)))).toEqual([
        "row-0",
        "row-1",
        "row-2",
      ]);
      const settings = await Promise.all(
        fleet.servers.map(async (s) => {
          const [row] = await query<{ id: number; bin: number; fmt: string }>(
            s.adminUrl,
            "SELECT @@server_id AS id, @@log_bin AS bin, @@binlog_format AS fmt",
          );
          return row;
        }),
      );
      expect(new Set(settings.map((x) => x?.id)).size).toBe(3);
      expect(settings.map((x) => [Number(x?.bin), x?.fmt])).toEqual([
        [1, "ROW"],
        [1, "ROW"],
        [1, "ROW"],
      ]);
      dirs = myDirs();
      expect(dirs).toHaveLength(3);
      pids = dirs.flatMap((d) => serversUnder(d));
      expect(pids).toHaveLength(3);
    } finally {
      await fleet.stop();
    }
    expect(await survivors(pids)).toEqual([]);
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);
    await fleet.stop(); // idempotent
    await expect(fleet.servers[0]?.createDatabase()).rejects.toMatchObject({ code: "STOPPED" });
  });

  describe("env backend on a running server", () => {
    let host: Fleet;
    beforeAll(async () => {
      host = await startFleet({ servers: 1, backends: ["local"] });
    });
    afterAll(async () => {
      await host?.stop();
    });

    it("gives each caller fresh databases, reusing one URL for 2 servers, and drops them at stop", async () => {
      const [server] = host.servers;
      if (!server) throw new Error("no host server");
      const fleet = await startFleet({
        servers: 2,
        env: { SHARDKIT_MYSQL_URLS: server.adminUrl },
      });
      let names: string[] = [];
      try {
        expect(fleet.backend).toBe("env");
        const [a, b] = fleet.servers;
        if (!a || !b) throw new Error("too few servers");
        expect([a.port, b.port]).toEqual([server.port, server.port]);
        expect(a.database).not.toBe(b.database);
        const extra = new URL(await a.createDatabase("extra")).pathname.slice(1);
        names = [a.database, b.database, extra];
        expect(await writeAndRead(a, "a")).toBe("a");
        expect(await writeAndRead(b, "b")).toBe("b");
        const tables = await query<{ n: number }>(
          server.adminUrl,
          "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ?",
          [extra],
        );
        expect(Number(tables[0]?.n)).toBe(0);
      } finally {
        await fleet.stop();
      }
      const left = (await query<{ Database: string }>(server.adminUrl, "SHOW DATABASES")).map(
        (r) => r.Database,
      );
      expect(names.filter((n) => left.includes(n))).toEqual([]);
      expect(left).toContain(server.database); // the host server still runs, its own database intact
    });

    it("puts the password in the URLs it hands out and in no error message", async () => {
      const [server] = host.servers;
      if (!server) throw new Error("no host server");
      const password = "s3cret/@:pw";
      await query(server.adminUrl, `CREATE USER 'fleetpw'@'%' IDENTIFIED BY '${password}'`);
      await query(server.adminUrl, "GRANT ALL ON *.* TO 'fleetpw'@'%'");
      const encoded = encodeURIComponent(password);
      const good = `mysql://fleetpw:${encoded}@127.0.0.1:${server.port}`;
      const fleet = await startFleet({ servers: 1, env: { SHARDKIT_MYSQL_URLS: good } });
      try {
        const [s] = fleet.servers;
        expect(s?.password).toBe(password);
        expect(s?.adminUrl).toBe(good);
        expect(await writeAndRead(s as FleetServer, "pw")).toBe("pw");
      } finally {
        await fleet.stop();
      }
      const wrong = `mysql://fleetpw:not-${encoded}@127.0.0.1:${server.port}`;
      const error = await startFleet({ servers: 1, env: { SHARDKIT_MYSQL_URLS: wrong } }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FleetError);
      expect((error as FleetError).code).toBe("START_FAILED");
      expect((error as FleetError).message).toContain("mysql://fleetpw:***@127.0.0.1");
      expect((error as FleetError).message).not.toContain(encoded);
      expect((error as FleetError).message).not.toContain(password);
    });
  });

  it("sweeps datadirs left by a killed run, killing their servers, and leaves live runs alone", async () => {
    let child: ChildProcess | undefined;
    const stale = join(fleetRoot(), "999999999-dead-1");
    try {
      // A child process starts a server, then dies by SIGKILL before it can clean up.
      const started = await startChildFleet(1);
      child = started.child;
      const [orphanDir] = started.dirs;
      if (!orphanDir) throw new Error("the child printed no directory");
      const orphans = serversUnder(orphanDir);
      expect(orphans).toHaveLength(1);
      child.kill("SIGKILL");
      await new Promise((r) => child?.once("exit", r));
      expect(orphans.filter(isAlive)).toHaveLength(1);
      // And a stale datadir with no server, owned by a pid above any kernel's pid_max.
      mkdirSync(join(stale, "data"), { recursive: true });
      writeFileSync(join(stale, "data", "ibdata1"), "x");
      // A live run's directories, as another process running tests would have them.
      const live = await startChildFleet(1);
      try {
        const fleet = await startFleet({ servers: 1, backends: ["local"] });
        await fleet.stop();
        expect(existsSync(stale)).toBe(false);
        expect(existsSync(orphanDir)).toBe(false);
        expect(await survivors(orphans)).toEqual([]);
        expect(live.dirs.filter((d) => existsSync(d))).toEqual(live.dirs);
        expect(live.dirs.flatMap(serversUnder)).toHaveLength(1);
      } finally {
        live.child.kill("SIGTERM");
        await new Promise((r) => live.child.once("exit", r));
      }
      expect(live.dirs.filter((d) => existsSync(d))).toEqual([]);
    } finally {
      await killChild(child);
    }
  });

  it.each(["SIGINT", "SIGTERM"] as const)(
    "stops a process's servers and removes their datadirs on %s",
    async (signal) => {
      let child: ChildProcess | undefined;
      try {
        const started = await startChildFleet(2);
        child = started.child;
        const pids = started.dirs.flatMap(serversUnder);
        expect(pids).toHaveLength(2);
        const exited = new Promise<NodeJS.Signals | null>((r) =>
          child?.once("exit", (_code, sig) => r(sig)),
        );
        child.kill(signal);
        // Killed by the re-raised signal, as a process without handlers would be.
        expect(await exited).toBe(signal);
        expect(await survivors(pids)).toEqual([]);
        expect(started.dirs.filter((d) => existsSync(d))).toEqual([]);
      } finally {
        await killChild(child);
      }
    },
  );

  it("stops what it started when the caller aborts, whenever the abort comes", async () => {
    for (const afterMs of [0, 150, 400, 700]) {
      const error = await startFleet({
        servers: 2,
        backends: ["local"],
        signal: AbortSignal.timeout(afterMs),
      }).then(
        (fleet) => fleet.stop().then(() => "started before the abort"),
        (e: unknown) => e,
      );
      if (error !== "started before the abort") {
        expect(error).toBeInstanceOf(FleetError);
        expect((error as FleetError).code).toBe("ABORTED");
      }
      expect(myDirs()).toEqual([]);
      expect(await survivors(myServerProcesses())).toEqual([]);
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

  it("skips the container backend quickly when no container runtime answers", async () => {
    const t0 = Date.now();
    const result = await startFleet({ servers: 1, backends: ["container"] }).catch(
      (e: unknown) => e,
    );
    if (result instanceof FleetError) {
      expect(result.code).toBe("NO_BACKEND");
      expect(result.message).toMatch(/container: /);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } else {
      // Where a container runtime runs, a container started instead.
      await (result as Fleet).stop();
    }
  });
});
