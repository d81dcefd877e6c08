// shardkit dev up/status/down, each in a process of its own, on real local servers: the servers
// outlive dev up, every other command picks up the config it writes, and dev down leaves nothing.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findMysqlBinaries } from "@shardkit/fleet";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, shardkitBin } from "./cli-harness.js";

/** Runs the installed shardkit program in `cwd`, as a user would, without SHARDKIT_DIRECTORY. */
function shardkit(cwd: string, ...args: string[]): Promise<CliRun> {
  const env = { ...process.env };
  delete env.SHARDKIT_DIRECTORY;
  return new Promise((resolve) => {
    execFile(shardkitBin, args, { cwd, env }, (error, stdout, stderr) => {
      const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Server processes (mariadbd/mysqld) whose command line names a path under `dir`. */
async function serversUnder(dir: string): Promise<number[]> {
  const out = await new Promise<string>((resolve) =>
    execFile("ps", ["-eo", "pid=,args="], (_e, stdout) => resolve(stdout)),
  );
  return out
    .split("\n")
    .filter((l) => /(mariadbd|mysqld)\s/.test(l) && l.includes(`${dir}/`))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

interface UpDocument {
  alreadyRunning: boolean;
  directory: string;
  dir: string;
  configFile: string;
  shards: { name: string; url: string; port: number; pid: number }[];
}

describe.runIf(findMysqlBinaries() !== undefined)("shardkit dev", () => {
  let cwd: string;
  let other: string;

  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), "sk-dev-"));
    other = mkdtempSync(join(tmpdir(), "sk-dev-"));
  });

  afterAll(async () => {
    // Whatever a failed test left running is stopped the way a user would.
    for (const dir of [cwd, other]) {
      if (existsSync(join(dir, ".shardkit/dev.json"))) await shardkit(dir, "dev", "down");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("up starts servers that outlive it, later commands use its config, a second up reports it, down leaves nothing", async () => {
    const up = await shardkit(cwd, "dev", "up", "--shards", "3", "--json");
    expect(up.code, up.stderr).toBe(0);
    const fleet = JSON.parse(up.stdout) as UpDocument;
    expect(fleet.alreadyRunning).toBe(false);
    expect(fleet.shards.map((s) => s.name)).toEqual(["s1", "s2", "s3"]);
    expect(JSON.parse(readFileSync(join(cwd, "shardkit.config.json"), "utf8")).directory).toBe(
      fleet.directory,
    );

    // dev up has exited; its servers answer, each shard's database exists.
    for (const shard of fleet.shards) {
      const conn = await mysql.createConnection(shard.url);
      const [rows] = await conn.query("SELECT DATABASE() AS db");
      await conn.end();
      expect((rows as { db: string }[])[0]?.db).toBe("app");
    }
    expect((await serversUnder(fleet.dir)).sort()).toEqual(fleet.shards.map((s) => s.pid).sort());

    // Other commands find the directory through the config file alone.
    const list = await shardkit(cwd, "shard", "list", "--json");
    expect(list.code, list.stderr).toBe(0);
    expect(
      (JSON.parse(list.stdout) as { name: string; port: number }[]).map((s) => s.port),
    ).toEqual(fleet.shards.map((s) => s.port));
    const layout = await shardkit(cwd, "layout", "even", "3");
    expect(layout.code, layout.stderr).toBe(0);

    const again = await shardkit(cwd, "dev", "up", "--json");
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      alreadyRunning: true,
      directory: fleet.directory,
    });
    const againText = await shardkit(cwd, "dev", "up");
    expect(againText.stdout).toMatch(/already running/);

    const status = await shardkit(cwd, "dev", "status", "--json");
    expect(status.code, status.stderr).toBe(0);
    expect(
      (JSON.parse(status.stdout) as { shard: string; state: string }[]).map((s) => s.state),
    ).toEqual(["running", "running", "running"]);

    const down = await shardkit(cwd, "dev", "down", "--json");
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout)).toMatchObject({
      stopped: true,
      servers: 3,
      configRemoved: true,
    });
    expect(await serversUnder(fleet.dir)).toEqual([]);
    expect(existsSync(fleet.dir)).toBe(false);
    expect(existsSync(join(cwd, "shardkit.config.json"))).toBe(false);
    expect(existsSync(join(cwd, ".shardkit"))).toBe(false);

    const after = await shardkit(cwd, "dev", "status", "--json");
    expect(after.code).toBe(3);
    expect(JSON.parse(after.stdout).error.code).toBe("NO_DEV_FLEET");
    const downAgain = await shardkit(cwd, "dev", "down");
    expect(downAgain.code).toBe(0);
    expect(downAgain.stdout).toMatch(/nothing to stop/);
  });

  it("shows a server that died as stopped, refuses dev up over it, and dev down still removes everything", async () => {
    const third = mkdtempSync(join(tmpdir(), "sk-dev-"));
    try {
      const up = await shardkit(third, "dev", "up", "--json");
      expect(up.code, up.stderr).toBe(0);
      const fleet = JSON.parse(up.stdout) as UpDocument;
      const victim = fleet.shards[1] as UpDocument["shards"][number];
      process.kill(victim.pid, "SIGKILL");
      for (let i = 0; i < 100 && (await serversUnder(fleet.dir)).includes(victim.pid); i++)
        await new Promise((r) => setTimeout(r, 50));

      const status = await shardkit(third, "dev", "status", "--json");
      expect(
        (JSON.parse(status.stdout) as { shard: string; state: string }[]).map((s) => s.state),
      ).toEqual(["running", "stopped"]);
      const again = await shardkit(third, "dev", "up", "--json");
      expect(again.code).toBe(4);
      expect(JSON.parse(again.stdout).error.code).toBe("DEV_FLEET_STALE");
      expect(again.stderr).toMatch(/run shardkit dev down/);

      const down = await shardkit(third, "dev", "down");
      expect(down.code, down.stderr).toBe(0);
      expect(await serversUnder(fleet.dir)).toEqual([]);
      expect(existsSync(fleet.dir)).toBe(false);
      expect(existsSync(join(third, ".shardkit"))).toBe(false);
      expect(existsSync(join(third, "shardkit.config.json"))).toBe(false);
    } finally {
      if (existsSync(join(third, ".shardkit/dev.json"))) await shardkit(third, "dev", "down");
      rmSync(third, { recursive: true, force: true });
    }
  });

  it("refuses to replace a config file it did not write, starting nothing", async () => {
    const mine = '{"directory": "mysql://root@127.0.0.1:3306/mine"}\n';
    writeFileSync(join(other, "shardkit.config.json"), mine);
    const up = await shardkit(other, "dev", "up", "--json");
    expect(up.code).toBe(4);
    expect(JSON.parse(up.stdout).error.code).toBe("CONFIG_EXISTS");
    expect(up.stderr).toMatch(/move it away/);
    expect(readFileSync(join(other, "shardkit.config.json"), "utf8")).toBe(mine);
    expect(existsSync(join(other, ".shardkit"))).toBe(false);
  });

  it("refuses a shard count that is not a small whole number", async () => {
    const up = await shardkit(other, "dev", "up", "--shards", "0");
    expect(up.code).toBe(2);
    expect(up.stderr).toMatch(/--shards 0 is not a whole number/);
  });
});
