import { spawnSync } from "node:child_process";
import { MysqlDirectoryStore, parseMysqlUrl } from "@shardkit/directory";
import { connect } from "@shardkit/directory/internal";
import type { FleetServer } from "@shardkit/fleet";
import { type RunningDirectoryService, startDirectoryService } from "@shardkit/service";

/** A directory with two shards (a `users` table keyed by BIGINT on each), four ranges and a pin. */
export interface ServiceWorld {
  readonly store: MysqlDirectoryStore;
  readonly url: string;
  readonly shards: Readonly<Record<string, string>>;
}

/** Builds a {@link ServiceWorld} in fresh databases of `server`. */
export async function serviceWorld(server: FleetServer): Promise<ServiceWorld> {
  const url = await server.createDatabase("dir");
  const store = new MysqlDirectoryStore({ directory: url });
  await store.init();
  const shards: Record<string, string> = {};
  for (const name of ["s1", "s2"]) {
    const shardUrl = await server.createDatabase(`shard_${name}`);
    shards[name] = shardUrl;
    await store.addShard({ name, ...parseMysqlUrl(shardUrl) });
    const conn = await connect(parseMysqlUrl(shardUrl));
    try {
      await conn.query("CREATE TABLE users (user_id BIGINT PRIMARY KEY, name VARCHAR(40))");
      await conn.query(
        "CREATE TABLE handles (handle VARCHAR(16) COLLATE utf8mb4_general_ci PRIMARY KEY)",
      );
    } finally {
      await conn.close();
    }
  }
  await store.addTable({ name: "users", keyColumn: "user_id", keyFunction: "hash" });
  await store.addTable({ name: "handles", keyColumn: "handle", keyFunction: "hash" });
  await store.addTable(
    { name: "events", keyColumn: "id", keyFunction: "identity" },
    { check: false },
  );
  await store.layoutEven(4);
  await store.pinKey("whale", "s1");
  return { store, url, shards };
}

/** The fleet's password for every shard: the test servers share one root login. */
export function passwordsOf(server: FleetServer): () => string {
  return () => server.password;
}

/** Starts a service on a free port with `token`. */
export function serve(
  world: ServiceWorld,
  server: FleetServer,
  token: string | undefined,
  extra: Partial<Parameters<typeof startDirectoryService>[0]> = {},
): Promise<RunningDirectoryService> {
  return startDirectoryService({
    directory: world.url,
    credentials: passwordsOf(server),
    ...(token === undefined ? { insecureNoAuth: true } : { token }),
    port: 0,
    ...extra,
  });
}

/** One HTTP answer: status, the body parsed as JSON (undefined when it is not), text, headers. */
export interface Answer {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON of many shapes; the assertions check it
  readonly body: any;
  readonly text: string;
  readonly headers: Headers;
}

/** One HTTP exchange. */
export async function call(
  base: string,
  path: string,
  init: {
    method?: string;
    token?: string;
    body?: unknown;
    raw?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(base + path, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

/** Whether python3 runs here. */
export function hasPython(): boolean {
  return spawnSync("python3", ["--version"]).status === 0;
}
