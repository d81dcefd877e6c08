import { MysqlDirectoryStore, parseMysqlUrl, type ShardedTable } from "@shardkit/directory";
import {
  connect,
  type FenceRow,
  readFence,
  type SqlConnection,
} from "@shardkit/directory/internal";
import type { Fleet } from "@shardkit/fleet";
import { expect } from "vitest";

/** Reads a shard database's ownership table, sorted, as plain strings for comparison. */
export async function fenceOf(url: string): Promise<string[]> {
  const conn = await connect(parseMysqlUrl(url));
  try {
    return (await readFence(conn)).map(describeRow).sort();
  } finally {
    await conn.close();
  }
}

/** Runs statements on a database given by URL. */
export async function sql(url: string, ...statements: string[]): Promise<unknown[][]> {
  const conn: SqlConnection = await connect(parseMysqlUrl(url));
  try {
    const out: unknown[][] = [];
    for (const s of statements) out.push(await conn.query(s));
    return out;
  } finally {
    await conn.close();
  }
}

/** The database name of a URL. */
export function databaseOf(url: string): string {
  return parseMysqlUrl(url).database;
}

/** Whether a database of exactly this name (case included) exists on the server of `url`. */
export async function databaseExists(url: string, name: string): Promise<boolean> {
  const conn = await connect(parseMysqlUrl(url), { withoutDatabase: true });
  try {
    const rows = await conn.query(
      "SELECT 1 FROM information_schema.SCHEMATA WHERE BINARY SCHEMA_NAME = ?",
      [name],
    );
    return rows.length > 0;
  } finally {
    await conn.close();
  }
}

function describeRow(r: FenceRow): string {
  const key = r.keyBytes.length ? ` ${Buffer.from(r.keyBytes).toString()}` : "";
  return `${r.kind} ${r.range.start.toString(16)}-${r.range.end.toString(16)}${key} ${r.state}`;
}

/** An endpoint of a URL, ready for addShard. */
export function shardInput(name: string, url: string) {
  return { name, ...parseMysqlUrl(url) };
}

/** What a test directory starts with. */
export interface DirectorySpec {
  /** Shards to register, placed round-robin over the fleet's servers. Default none. */
  readonly shards?: readonly string[];
  /** Run before the tables are declared, on each shard's database URL (to create tables). */
  readonly onShard?: (url: string) => Promise<unknown>;
  /** Sharded tables to declare (unchecked). Default none. */
  readonly tables?: readonly ShardedTable[];
  /** `layoutEven(n)` over the shards when given. */
  readonly layout?: number;
  /** Leave the directory uninitialised. Default false. */
  readonly bare?: boolean;
}

/** A directory of its own: its store, its database URL and its shards' database URLs. */
export interface TestDirectory {
  readonly store: MysqlDirectoryStore;
  readonly url: string;
  readonly shards: Readonly<Record<string, string>>;
}

/**
 * Makes fresh directories on a fleet's servers, each in databases of its own, so every test
 * sets up the state it needs and passes alone. `closeAll` in `afterEach`.
 */
export function directories(fleet: () => Fleet) {
  const open: MysqlDirectoryStore[] = [];
  return {
    async create(spec: DirectorySpec = {}): Promise<TestDirectory> {
      const servers = fleet().servers;
      const [first] = servers;
      if (!first) throw new Error("the fleet has no servers");
      const url = await first.createDatabase("dir");
      const store = new MysqlDirectoryStore({ directory: url });
      open.push(store);
      const shards: Record<string, string> = {};
      if (spec.bare) return { store, url, shards };
      await store.init();
      for (const [i, name] of (spec.shards ?? []).entries()) {
        const server = servers[i % servers.length] ?? first;
        const shardUrl = await server.createDatabase(`shard_${name}`);
        shards[name] = shardUrl;
        await store.addShard(shardInput(name, shardUrl));
        await spec.onShard?.(shardUrl);
      }
      for (const t of spec.tables ?? []) await store.addTable(t, { check: false });
      if (spec.layout) await store.layoutEven(spec.layout);
      return { store, url, shards };
    },
    async closeAll(): Promise<void> {
      await Promise.all(open.splice(0).map((s) => s.close()));
    },
  };
}

/**
 * Runs `op`, expects it to fail with `code` and a one-line message, and checks the directory
 * version did not move. Returns the error.
 */
export async function refused(
  store: MysqlDirectoryStore,
  op: () => Promise<unknown>,
  code: string,
): Promise<Error & { code: string; details: Record<string, unknown> }> {
  const before = await store.version().catch(() => undefined);
  const error = (await op().then(
    () => {
      throw new Error(`expected ${code}, but the operation succeeded`);
    },
    (e: unknown) => e,
  )) as Error & { code: string; details: Record<string, unknown> };
  expect(error.code, error.message).toBe(code);
  expect(error.message).not.toContain("\n");
  expect(await store.version().catch(() => undefined)).toBe(before);
  return error;
}
