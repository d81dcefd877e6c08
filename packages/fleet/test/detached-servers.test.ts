import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type DetachedServer,
  detachedServerRunning,
  FleetError,
  findMysqlBinaries,
  startDetachedServers,
  stopDetachedServers,
} from "@shardkit/fleet";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../../..");
const fixture = join(import.meta.dirname, "fixtures/start-detached.mjs");

/** PIDs of mysqld/mariadbd processes whose command line names a path under `dir`. */
function serversUnder(dir: string): number[] {
  const out = spawnSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" }).stdout;
  return out
    .split("\n")
    .filter((l) => /(mariadbd|mysqld)\s/.test(l) && l.includes(`${dir}/`))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

async function selectOne(server: DetachedServer): Promise<unknown> {
  const { host, port, user, password } = server;
  const conn = await mysql.createConnection({ host, port, user, password, connectTimeout: 3000 });
  try {
    const [rows] = await conn.query("SELECT 1 AS one");
    return (rows as { one: unknown }[])[0]?.one;
  } finally {
    await conn.end();
  }
}

describe.runIf(findMysqlBinaries() !== undefined)("detached local servers", () => {
  let base: string;
  let started: DetachedServer[] = [];
  let dir: string;

  beforeAll(() => {
    // The child runs the built package: build it, a no-op when it is current.
    execFileSync(
      process.execPath,
      [join(repoRoot, "node_modules/typescript/bin/tsc"), "-b", "packages/fleet"],
      { cwd: repoRoot, stdio: "inherit" },
    );
    base = mkdtempSync(join(tmpdir(), "sk-det-"));
    dir = join(base, "fleet");
  });

  afterAll(async () => {
    await stopDetachedServers(started, dir).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  });

  it("outlive the process that started them, and another process stops them by pid, leaving nothing", async () => {
    const out = execFileSync(process.execPath, [fixture, dir, "2"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    // The child has exited: its servers still answer.
    started = JSON.parse(out.trim()) as DetachedServer[];
    expect(started.map((s) => s.name)).toEqual(["s1", "s2"]);
    expect(started.map(detachedServerRunning)).toEqual([true, true]);
    expect(await Promise.all(started.map(selectOne))).toEqual([1, 1]);
    expect(serversUnder(dir).sort()).toEqual(started.map((s) => s.pid).sort());

    await stopDetachedServers(started, dir);
    expect(serversUnder(dir)).toEqual([]);
    expect(started.map(detachedServerRunning)).toEqual([false, false]);
    expect(existsSync(dir)).toBe(false);
    // Stopping again finds nothing to do.
    await stopDetachedServers(started, dir);
  });

  it("refuses a folder that exists, starting nothing", async () => {
    const error = await startDetachedServers({ servers: 1, dir: base }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FleetError);
    expect((error as FleetError).code).toBe("BAD_OPTIONS");
    expect(serversUnder(base)).toEqual([]);
  });
});
