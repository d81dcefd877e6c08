import {
  columnKey,
  type DirectoryMap,
  formatKeyRange,
  type KeyColumnType,
  type KeyLocation,
  type ShardKey,
  ShardKeyError,
  ShardkitError,
  type ShardRecord,
} from "@shardkit/directory";
import { ksidHex } from "@shardkit/directory/internal";
import type { FastifyInstance } from "fastify";
import { HttpError } from "../http/http-errors.js";
import { type Query, stringParam } from "../http/query-params.js";
import { keyOfWire } from "../keys/wire-key.js";
import type { ServiceContext } from "../service-context.js";

/** A shard's connection details as lookups give them: where it is, never a password. */
export interface ShardConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly state: string;
}

/** One routed key. */
interface Routed {
  readonly ksid: string;
  readonly range: string;
  readonly shard: string;
  readonly pinned: boolean;
}

/** `GET /v1/route` (one key) and `POST /v1/route` (many). */
export function lookupRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get("/v1/route", async (request) => {
    const query = request.query as Query;
    const key = stringParam(query, "key", "/v1/route?key=42");
    if (key === undefined) {
      throw new HttpError(
        400,
        "BAD_ARGUMENT",
        "give the key to route: /v1/route?key=42 (and &table=<name> for a table's key column)",
      );
    }
    const table = stringParam(query, "table", "/v1/route?key=42&table=users");
    const map = ctx.client.map;
    const read = await keyReader(ctx, map, table);
    const routed = route(map, read(key), table);
    if (routed instanceof ShardkitError) throw routed;
    ctx.metrics.lookups("single", 1);
    return {
      version: map.version,
      key,
      ...routed,
      connection: connectionOf(map.shard(routed.shard)),
    };
  });

  app.post("/v1/route", async (request, reply) => {
    const body = request.body as { keys?: unknown; table?: unknown } | null;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new HttpError(
        400,
        "BAD_ARGUMENT",
        'send a JSON object such as {"keys": ["42", 7], "table": "users"}',
      );
    }
    const { keys, table } = body;
    if (!Array.isArray(keys)) {
      throw new HttpError(400, "BAD_ARGUMENT", 'give the keys as an array: {"keys": ["42", 7]}');
    }
    if (keys.length > ctx.options.maxBatchKeys) {
      throw new HttpError(
        400,
        "BAD_ARGUMENT",
        `${keys.length} keys in one request; send at most ${ctx.options.maxBatchKeys} per request`,
      );
    }
    if (table !== undefined && typeof table !== "string") {
      throw new HttpError(
        400,
        "BAD_ARGUMENT",
        'table must be the name of a sharded table, e.g. "table": "users"',
      );
    }
    const map = ctx.client.map;
    const read = await keyReader(ctx, map, table);
    // The answer is written as JSON text: each key's range, shard and pinned flag are one
    // fragment per range, made once per directory version (JSON.stringify of 1000 objects
    // cost more than routing them).
    const parts = new Array<string>(keys.length);
    const shards: Record<string, ShardConnection> = {};
    for (let i = 0; i < keys.length; i++) {
      const key = read(keys[i]);
      let loc: KeyLocation;
      try {
        if (key instanceof ShardkitError) throw key;
        loc = map.lookup(key, table);
      } catch (error) {
        if (!(error instanceof ShardkitError)) throw error;
        parts[i] = JSON.stringify({ error: { code: error.code, message: error.message } });
        continue;
      }
      parts[i] = `{"ksid":"${ksidHex(loc.ksid)}",${fragmentOf(map, loc)}`;
      if (shards[loc.shard] === undefined) shards[loc.shard] = connectionOf(map.shard(loc.shard));
    }
    ctx.metrics.lookups("batch", keys.length);
    return reply
      .type("application/json; charset=utf-8")
      .send(
        `{"version":${map.version},"results":[${parts.join(",")}],"shards":${JSON.stringify(shards)}}`,
      );
  });
}

/** Turns a key as sent into the key to route: as the table's key column stores it when a table is given. */
async function keyReader(
  ctx: ServiceContext,
  map: DirectoryMap,
  table: string | undefined,
): Promise<(sent: unknown) => ShardKey | ShardkitError> {
  if (table === undefined) return keyOfWire;
  if (map.snapshot.ranges.length === 0) return keyOfWire; // NO_LAYOUT is said by the lookup
  const type: KeyColumnType = await ctx.keyTypes.typeOf(map, table);
  return (sent) => {
    const key = keyOfWire(sent);
    return key instanceof ShardKeyError ? key : columnKey(type, key);
  };
}

const rangeTexts = new WeakMap<DirectoryMap, Map<number, string>>();
const fragments = new WeakMap<DirectoryMap, Map<number, string>>();

/** `"range":...,"shard":...,"pinned":...}`: the JSON of a location after its ksid. */
function fragmentOf(map: DirectoryMap, loc: KeyLocation): string {
  const text = () =>
    `"range":${JSON.stringify(rangeText(map, loc))},"shard":${JSON.stringify(loc.shard)},"pinned":${loc.pinned}}`;
  if (loc.pinned) return text();
  let cache = fragments.get(map);
  if (!cache) {
    cache = new Map();
    fragments.set(map, cache);
  }
  let fragment = cache.get(loc.range.start);
  if (fragment === undefined) {
    fragment = text();
    cache.set(loc.range.start, fragment);
  }
  return fragment;
}

/** Where a key lives, or the error that says why it cannot be routed. */
function route(
  map: DirectoryMap,
  key: ShardKey | ShardkitError,
  table: string | undefined,
): Routed | ShardkitError {
  if (key instanceof ShardkitError) return key;
  let loc: KeyLocation;
  try {
    loc = map.lookup(key, table);
  } catch (error) {
    if (error instanceof ShardkitError) return error;
    throw error;
  }
  return {
    ksid: ksidHex(loc.ksid),
    range: rangeText(map, loc),
    shard: loc.shard,
    pinned: loc.pinned,
  };
}

function rangeText(map: DirectoryMap, loc: KeyLocation): string {
  if (loc.pinned) return formatKeyRange(loc.range);
  let texts = rangeTexts.get(map);
  if (!texts) {
    texts = new Map();
    rangeTexts.set(map, texts);
  }
  let text = texts.get(loc.range.start);
  if (text === undefined) {
    text = formatKeyRange(loc.range);
    texts.set(loc.range.start, text);
  }
  return text;
}

/** A shard's connection details; a shard named by a range but not registered is a broken directory. */
export function connectionOf(shard: ShardRecord | undefined): ShardConnection {
  if (!shard) {
    throw new ShardkitError(
      "NO_OWNER",
      "the directory names a shard that is not registered; run shardkit doctor",
    );
  }
  return {
    host: shard.host,
    port: shard.port,
    user: shard.user,
    database: shard.database,
    state: shard.state,
  };
}
