// The OpenAPI 3.1 description of the directory service, served at /v1/openapi.json. A test
// (packages/service/test/openapi.test.ts) sends a request to every operation and checks each
// answer against the schema given here for its status, so this document cannot drift.

const ksid = { type: "string", pattern: "^[0-9a-f]{8}$", description: "keyspace id, 8 hex digits" };
const rangeText = {
  type: "string",
  description: "a key range in Vitess notation: -40, 40-80, 80-",
};
const integer = { type: "integer", minimum: 0 };
const wireRange = {
  range: rangeText,
  start: { ...integer, description: "first keyspace id of the range" },
  end: {
    ...integer,
    description: "end of the range, exclusive; 4294967296 for the keyspace's end",
  },
};
const obj = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
});
const nullable = (schema: object) => ({ oneOf: [schema, { type: "null" }] });
const freshness = {
  version: integer,
  staleMs: { ...integer, description: "ms since the directory database last answered" },
  reachable: { type: "boolean", description: "whether the last check of the database succeeded" },
};
const connection = obj({
  host: { type: "string" },
  port: integer,
  user: { type: "string" },
  database: { type: "string" },
  state: { type: "string", enum: ["serving", "draining"] },
});
const shard = obj({ name: { type: "string" }, ...connection.properties });
const table = obj({
  name: { type: "string" },
  keyColumn: { type: "string" },
  keyFunction: { type: "string" },
});
const rangeState = { type: "string", enum: ["serving", "frozen", "moving"] };
const range = obj({ ...wireRange, shard: { type: "string" }, state: rangeState });
const pin = obj({
  key: { type: "string", description: "the key as written when pinned" },
  keyHex: { type: "string", description: "its canonical bytes as hex" },
  ksid,
  shard: { type: "string" },
  state: rangeState,
});
const activeMove = obj({
  id: { type: "string" },
  kind: { type: "string", enum: ["range", "key"] },
  ...wireRange,
  keyHex: nullable({ type: "string" }),
  source: { type: "string" },
  target: { type: "string" },
  state: { type: "string" },
});
const move = obj({
  id: { type: "string" },
  kind: { type: "string", enum: ["range", "key"] },
  ...wireRange,
  key: nullable({ type: "string" }),
  keyHex: nullable({ type: "string" }),
  source: { type: "string" },
  target: { type: "string" },
  state: { type: "string" },
  failedIn: nullable({ type: "string" }),
  progress: { type: "object" },
  error: nullable({ type: "string" }),
  leaseOwner: nullable({ type: "string" }),
  leaseExpiresAt: nullable({ type: "string", format: "date-time" }),
  switchedVersion: nullable(integer),
  createdAt: { type: "string", format: "date-time" },
  updatedAt: { type: "string", format: "date-time" },
});
const routed = obj({
  ksid,
  range: rangeText,
  shard: { type: "string" },
  pinned: { type: "boolean" },
});
const error = obj({
  error: obj({
    code: { type: "string", description: "a shardkit error code (docs/service.md)" },
    message: { type: "string", description: "one line saying what to do" },
  }),
});
const heartbeat = obj({
  id: { type: "string" },
  host: { type: "string" },
  pid: { type: "integer" },
  version: integer,
});
const key = {
  oneOf: [
    { type: "string" },
    { type: "integer", minimum: -9007199254740991, maximum: 9007199254740991 },
    obj({ hex: { type: "string", pattern: "^([0-9a-fA-F]{2})*$" } }),
  ],
  description:
    "a string, an integer within 2^53 - 1, or bytes as {hex}; bigints as their decimal digits in a string",
};

const json = (schema: object) => ({ content: { "application/json": { schema } } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: "refused", ...json(error) }]));
const ok = (schema: object, description = "ok") => ({ "200": { description, ...json(schema) } });
const query = (name: string, required: boolean, schema: object, description: string) => ({
  name,
  in: "query",
  required,
  schema,
  description,
});
const op = (operationId: string, summary: string, responses: object, extra: object = {}) => ({
  operationId,
  summary,
  ...extra,
  responses: { ...responses, ...errors(401) },
});

/** The OpenAPI 3.1 document of the service's API. */
export const OPENAPI_DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "shardkit directory service",
    version: "1",
    description:
      "The shardkit directory over HTTP: where keys live, the map, moves, and a long-poll watch. Every error is {error: {code, message}}. Every route but /healthz needs Authorization: Bearer <token>.",
  },
  components: {
    securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    schemas: { Error: error },
  },
  security: [{ bearer: [] }],
  paths: {
    "/v1/route": {
      get: op(
        "routeKey",
        "Where one key lives",
        {
          ...ok(
            obj({
              version: integer,
              key: { type: "string" },
              ...routed.properties,
              connection,
            }),
          ),
          ...errors(400, 404, 503),
        },
        {
          parameters: [
            query("key", true, { type: "string" }, "the key, as text (integers in decimal)"),
            query(
              "table",
              false,
              { type: "string" },
              "route the key as this table's key column stores it",
            ),
          ],
        },
      ),
      post: op(
        "routeKeys",
        "Where many keys live (up to maxBatchKeys, default 10000)",
        {
          ...ok(
            obj({
              version: integer,
              results: {
                type: "array",
                items: { oneOf: [routed, error] },
                description: "one per key, in order; a key that cannot be routed is an error entry",
              },
              shards: { type: "object", additionalProperties: connection },
            }),
          ),
          ...errors(400, 404, 413, 415, 503),
        },
        {
          requestBody: {
            required: true,
            ...json(
              obj({ keys: { type: "array", items: key }, table: { type: "string" } }, ["keys"]),
            ),
          },
        },
      ),
    },
    "/v1/version": { get: op("version", "The version held", ok(obj(freshness))) },
    "/v1/ranges": {
      get: op(
        "ranges",
        "Every range and pinned key",
        ok(
          obj({
            ...freshness,
            ranges: { type: "array", items: range },
            pins: { type: "array", items: pin },
          }),
        ),
      ),
    },
    "/v1/shards": {
      get: op(
        "shards",
        "Every shard, without secrets",
        ok(obj({ ...freshness, shards: { type: "array", items: shard } })),
      ),
    },
    "/v1/tables": {
      get: op(
        "tables",
        "Every sharded table",
        ok(obj({ ...freshness, tables: { type: "array", items: table } })),
      ),
    },
    "/v1/snapshot": {
      get: op(
        "snapshot",
        "The whole map at one version (what HTTP directory sources read)",
        ok(
          obj({
            version: integer,
            shards: { type: "array", items: shard },
            tables: { type: "array", items: table },
            ranges: { type: "array", items: range },
            pins: { type: "array", items: pin },
            moves: { type: "array", items: activeMove },
          }),
        ),
      ),
    },
    "/v1/moves": {
      get: op(
        "moves",
        "Every move, newest first (the last list read while the database is down, cached: true)",
        {
          ...ok(obj({ moves: { type: "array", items: move }, cached: { type: "boolean" } })),
          ...errors(503),
        },
      ),
    },
    "/v1/moves/{id}": {
      get: op(
        "move",
        "One move",
        { ...ok(obj({ move, cached: { type: "boolean" } })), ...errors(404, 503) },
        { parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }] },
      ),
    },
    "/v1/watch": {
      get: op(
        "watch",
        "Long poll: answers when the version moves past since, or after timeout seconds",
        { ...ok(obj({ version: integer, changed: { type: "boolean" } })), ...errors(400) },
        {
          parameters: [
            query("since", true, integer, "the version the caller holds"),
            query("timeout", false, integer, "seconds to wait, default 30"),
          ],
        },
      ),
    },
    "/v1/heartbeats": {
      get: op(
        "heartbeats",
        "Router heartbeats, newest first",
        ok(
          obj({
            heartbeats: {
              type: "array",
              items: obj({
                ...heartbeat.properties,
                lastSeen: { type: "string", format: "date-time" },
              }),
            },
          }),
        ),
      ),
      post: op(
        "recordHeartbeat",
        "Records a router's heartbeat: the version it holds",
        { "204": { description: "recorded" }, ...errors(400, 503) },
        { requestBody: { required: true, ...json(heartbeat) } },
      ),
    },
    "/v1/ids": {
      post: op(
        "reserveIds",
        "Reserves a block of ids of a sequence: [start, end)",
        { ...ok(obj({ start: integer, end: integer })), ...errors(400, 409, 503) },
        {
          requestBody: {
            required: true,
            ...json(obj({ sequence: { type: "string" }, count: { type: "integer", minimum: 1 } })),
          },
        },
      ),
    },
    "/metrics": {
      get: op("metrics", "Prometheus metrics", {
        "200": {
          description: "text format",
          content: { "text/plain": { schema: { type: "string" } } },
        },
      }),
    },
    "/v1/openapi.json": { get: op("openapi", "This document", ok({ type: "object" })) },
    "/healthz": {
      get: {
        operationId: "health",
        summary: "Directory reachable and the age of the map; 503 when older than maxMapAgeMs",
        security: [],
        responses: Object.fromEntries(
          ["200", "503"].map((status) => [
            status,
            {
              description: status === "200" ? "fresh" : "stale",
              ...json(
                obj(
                  {
                    status: { type: "string", enum: ["ok", "stale"] },
                    version: integer,
                    reachable: { type: "boolean" },
                    ageMs: integer,
                    maxAgeMs: integer,
                    loadedAt: { type: "string", format: "date-time" },
                    lastContactAt: { type: "string", format: "date-time" },
                    lastError: { type: "string" },
                  },
                  [
                    "status",
                    "version",
                    "reachable",
                    "ageMs",
                    "maxAgeMs",
                    "loadedAt",
                    "lastContactAt",
                  ],
                ),
              ),
            },
          ]),
        ),
      },
    },
  },
} as const;
