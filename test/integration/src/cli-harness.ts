import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { main } from "@shardkit/cli";
import { type KeyFunctionName, MysqlDirectoryStore, parseMysqlUrl } from "@shardkit/directory";
import { connect } from "@shardkit/directory/internal";
import type { FleetServer } from "@shardkit/fleet";
import { expect } from "vitest";

/** The repository root, where `npx shardkit` resolves the workspace's bin. */
export const repoRoot = resolve(import.meta.dirname, "../../..");

/** The installed `shardkit` bin. */
export const shardkitBin = resolve(repoRoot, "node_modules/.bin/shardkit");

/** What one run of the CLI printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** SHARDKIT_DIRECTORY for the run; default none. */
  readonly directory?: string;
  /** More environment variables; `undefined` removes one. */
  readonly env?: NodeJS.ProcessEnv;
  /** The working directory (where shardkit.config.json is looked for); default the OS temp dir. */
  readonly cwd?: string;
}

/** Runs `shardkit args` in this process, capturing its output. */
export async function runCli(
  args: readonly string[],
  options: RunCliOptions = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: { SHARDKIT_DIRECTORY: options.directory, ...options.env },
    cwd: options.cwd ?? "/tmp",
  });
  return { code, stdout, stderr };
}

/** Runs a shell command line (for pipes) with SHARDKIT_DIRECTORY set; resolves when it ends. */
export function runShell(line: string, directory: string): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn("sh", ["-c", line], {
      cwd: repoRoot,
      env: { ...process.env, SHARDKIT_DIRECTORY: directory },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

/** A directory of its own for one test: its URL, a store to inspect it, and the CLI bound to it. */
export interface TestDirectory {
  readonly url: string;
  readonly store: MysqlDirectoryStore;
  /** The URLs of the shard databases registered as s1, s2, ... (in `shards` order). */
  readonly shardUrls: readonly string[];
  cli(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliRun>;
  /** Runs with --json, expects success with nothing on stderr, and parses stdout. */
  json<T = unknown>(args: readonly string[]): Promise<T>;
}

/** What a test directory starts with. */
export interface DirectorySetup {
  /** The servers holding shards s1, s2, ... (a server may appear twice). Default: none. */
  readonly shards?: readonly FleetServer[];
  /** Sharded tables to create on every shard and declare: [name, key column, key function]. */
  readonly tables?: readonly (readonly [string, string, KeyFunctionName?])[];
  /** `layout even <n>` when given. */
  readonly layout?: number;
}

/** Creates databases on the fleet and a directory over them, through the CLI itself. */
export class DirectoryFactory {
  readonly #stores: MysqlDirectoryStore[] = [];
  readonly #server: FleetServer;

  /** Directories live on `server`; close() closes every store handed out. */
  constructor(server: FleetServer) {
    this.#server = server;
  }

  async create(setup: DirectorySetup = {}): Promise<TestDirectory> {
    const url = await this.#server.createDatabase("dir");
    const store = new MysqlDirectoryStore({ directory: url });
    this.#stores.push(store);
    const cli = (args: readonly string[], env?: NodeJS.ProcessEnv) =>
      runCli(args, { directory: url, ...(env ? { env } : {}) });
    const json = async <T>(args: readonly string[]): Promise<T> => {
      const r = await cli(["--json", ...args]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as T;
    };
    const dir: TestDirectory = { url, store, shardUrls: [], cli, json };
    await mustRun(dir, ["init"]);
    const shardUrls: string[] = [];
    for (const [i, server] of (setup.shards ?? []).entries()) {
      const shardUrl = await server.createDatabase(`s${i + 1}`);
      shardUrls.push(shardUrl);
      for (const [table, key] of setup.tables ?? []) {
        await sql(shardUrl, `CREATE TABLE ${table} (${key} BIGINT PRIMARY KEY, note VARCHAR(40))`);
      }
      await mustRun(dir, ["shard", "add", `s${i + 1}`, shardUrl]);
    }
    for (const [table, key, keyFunction] of setup.tables ?? []) {
      const how = keyFunction ? ["--key-function", keyFunction] : [];
      await mustRun(dir, ["table", "add", table, "--key", key, ...how]);
    }
    if (setup.layout !== undefined) await mustRun(dir, ["layout", "even", String(setup.layout)]);
    return { ...dir, shardUrls };
  }

  async close(): Promise<void> {
    await Promise.all(this.#stores.map((s) => s.close()));
  }
}

/** Runs statements on the database at `url`, one connection. */
export async function sql(url: string, ...statements: string[]): Promise<void> {
  const conn = await connect(parseMysqlUrl(url));
  try {
    for (const statement of statements) await conn.execute(statement);
  } finally {
    await conn.close();
  }
}

/** Whether the server at `adminUrl` has a database named exactly `name`. */
export async function databaseExists(adminUrl: string, name: string): Promise<boolean> {
  const conn = await connect(parseMysqlUrl(adminUrl));
  try {
    const rows = await conn.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE BINARY SCHEMA_NAME = ?",
      [name],
    );
    return Number(rows[0]?.n) > 0;
  } finally {
    await conn.close();
  }
}

/** Checks a refusal: the status, one line on stderr, and with --json one matching error document. */
export function expectRefusal(r: CliRun, status: number, message: RegExp): void {
  expect(r.code, r.stderr).toBe(status);
  expect(r.stderr.endsWith("\n")).toBe(true);
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(message);
}

async function mustRun(dir: TestDirectory, args: readonly string[]): Promise<void> {
  const r = await dir.cli(args);
  if (r.code !== 0) throw new Error(`setup: shardkit ${args.join(" ")} failed: ${r.stderr}`);
}
