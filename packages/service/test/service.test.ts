// The directory service against a real directory: every endpoint, authentication, bad input,
// watch, metrics, the Python client, the directory down and the OpenAPI document. One file
// because every part runs against one fleet and one running service, started once.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { DirectoryMap, formatKeyRange, keyRange } from "@shardkit/directory";
import { ksidHex } from "@shardkit/directory/internal";
import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import type { RunningDirectoryService } from "@shardkit/service";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Answer,
  call,
  hasPython,
  type ServiceWorld,
  serve,
  serviceWorld,
} from "./service-fixture.js";

const TOKEN = "s3cret-token-for-tests";
let fleet: Fleet;
let server: FleetServer;
let world: ServiceWorld;
let service: RunningDirectoryService;
const get = (path: string, token: string | null = TOKEN) =>
  call(service.url, path, token === null ? {} : { token });
const post = (path: string, body: unknown) => call(service.url, path, { token: TOKEN, body });

beforeAll(async () => {
  fleet = await startFleet({ servers: 1 });
  server = fleet.servers[0] as FleetServer;
  world = await serviceWorld(server);
  service = await serve(world, server, TOKEN);
});
afterAll(async () => {
  await service?.close();
  await world?.store.close();
  await fleet?.stop();
});

/** Waits until the service holds the directory's current version. */
async function caughtUp(): Promise<number> {
  const version = await world.store.version();
  for (let i = 0; i < 100 && service.client.version !== version; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(service.client.version).toBe(version);
  return version;
}

describe("lookups", () => {
  it("routes one key (GET) and many (POST) as the directory map does, with the shard's connection details", async () => {
    const map = new DirectoryMap(await world.store.snapshot());
    await caughtUp();
    const one = await get("/v1/route?key=42");
    expect(one.status).toBe(200);
    const loc = map.lookup(42);
    expect(one.body).toEqual({
      version: map.version,
      key: "42",
      ksid: "bc58a436",
      range: formatKeyRange(loc.range),
      shard: loc.shard,
      pinned: false,
      connection: {
        host: server.host,
        port: server.port,
        user: expect.any(String),
        database: expect.stringContaining("shard_"),
        state: "serving",
      },
    });
    expect(one.text).not.toMatch(/password/i);
    // A pinned key goes to its pin's shard.
    expect((await get("/v1/route?key=whale")).body).toMatchObject({ shard: "s1", pinned: true });

    const keys = [42, "42", "alice", "", "9007199254740993", { hex: "00010203" }, "whale", -7];
    const many = await post("/v1/route", { keys });
    expect(many.status).toBe(200);
    const expected = [
      42,
      "42",
      "alice",
      "",
      9007199254740993n,
      Buffer.from([0, 1, 2, 3]),
      "whale",
      -7,
    ].map((k) => {
      const l = map.lookup(k);
      return {
        ksid: ksidHex(l.ksid),
        range: formatKeyRange(l.range),
        shard: l.shard,
        pinned: l.pinned,
      };
    });
    expect(many.body.results).toEqual(expected);
    expect(Object.keys(many.body.shards).sort()).toEqual(["s1", "s2"]);
    // A bigint sent as its digits routes as the bigint (an integer's canonical bytes are its digits).
    expect(many.body.results[4].ksid).toBe("36bd75a1");
  });

  it("routes a key with a table as its key column stores it, like the router; a key the column refuses is a 400", async () => {
    const map = new DirectoryMap(await world.store.snapshot());
    expect((await get("/v1/route?key=06202&table=users")).body.ksid).toBe(
      ksidHex(map.lookup(6202).ksid),
    );
    expect((await get("/v1/route?key=Alice&table=handles")).body.ksid).toBe(
      ksidHex(map.lookup("alice").ksid),
    );
    const refused = await get("/v1/route?key=4x&table=users");
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("BAD_SHARD_KEY");
    const batch = await post("/v1/route", {
      keys: ["+42", "4x", 1.5, "9223372036854775808"],
      table: "users",
    });
    expect(batch.status).toBe(200);
    expect(batch.body.results[0].ksid).toBe(ksidHex(map.lookup(42).ksid));
    expect(
      batch.body.results.slice(1).map((r: { error?: { code: string } }) => r.error?.code),
    ).toEqual(["BAD_SHARD_KEY", "BAD_SHARD_KEY", "BAD_SHARD_KEY"]);
    expect((await get("/v1/route?key=1&table=nope")).body.error.code).toBe("UNKNOWN_TABLE");
    // events was declared without a table on the shards: its column type cannot be read.
    const missing = await get("/v1/route?key=1&table=events");
    expect([missing.status, missing.body.error.code]).toEqual([404, "TABLE_NOT_ON_SHARD"]);
  });
});

describe("the map, moves, heartbeats and ids", () => {
  it("serves version, ranges, shards, tables, snapshot and moves", async () => {
    const version = await caughtUp();
    const snap = await world.store.snapshot();
    expect((await get("/v1/version")).body).toMatchObject({ version, reachable: true });
    const ranges = (await get("/v1/ranges")).body;
    expect(
      ranges.ranges.map((r: { range: string; shard: string }) => `${r.range} ${r.shard}`),
    ).toEqual(snap.ranges.map((r) => `${formatKeyRange(r.range)} ${r.shard}`));
    expect(ranges.pins).toEqual([expect.objectContaining({ key: "whale", shard: "s1" })]);
    expect((await get("/v1/shards")).body.shards.map((s: { name: string }) => s.name)).toEqual([
      "s1",
      "s2",
    ]);
    expect(
      (await get("/v1/tables")).body.tables.map((t: { name: string }) => t.name).sort(),
    ).toEqual(["events", "handles", "users"]);
    expect((await get("/v1/snapshot")).body.version).toBe(version);
    const moves = (await get("/v1/moves")).body;
    expect(moves.cached).toBe(false);
    expect((await get("/v1/moves/no-such-move")).body.error.code).toBe("UNKNOWN_MOVE");
  });

  it("shows a move, in the list, by id and in the snapshot", async () => {
    const owner = (await world.store.snapshot()).ranges[0];
    const other = owner?.shard === "s1" ? "s2" : "s1";
    await world.store.createMove({
      id: "svc-move-1",
      kind: "range",
      range: keyRange(0, 0x10000000),
      source: owner?.shard ?? "s1",
      target: other,
    });
    await caughtUp();
    const listed = (await get("/v1/moves")).body.moves;
    expect(listed.map((m: { id: string }) => m.id)).toContain("svc-move-1");
    const one = await get("/v1/moves/svc-move-1");
    expect(one.body.move).toMatchObject({
      id: "svc-move-1",
      range: "-10",
      target: other,
      state: "created",
    });
    expect((await get("/v1/snapshot")).body.moves.map((m: { id: string }) => m.id)).toContain(
      "svc-move-1",
    );
  });

  it("records heartbeats and reserves ids for HTTP directory sources", async () => {
    const hb = await post("/v1/heartbeats", { id: "svc-hb", host: "h", pid: 7, version: 3 });
    expect(hb.status).toBe(204);
    expect((await world.store.listHeartbeats()).find((h) => h.id === "svc-hb")).toMatchObject({
      version: 3,
    });
    expect((await get("/v1/heartbeats")).body.heartbeats).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: "svc-hb", pid: 7 })]),
    );
    const a = (await post("/v1/ids", { sequence: "orders", count: 10 })).body;
    const b = (await post("/v1/ids", { sequence: "orders", count: 10 })).body;
    expect(a.end - a.start).toBe(10);
    expect(b.start).toBeGreaterThanOrEqual(a.end);
  });
});

describe("authentication", () => {
  it("refuses a missing or wrong token with 401 and counts it; /healthz needs none", async () => {
    const before = await authFailures();
    const missing = await get("/v1/route?key=1", null);
    const wrong = await get("/v1/route?key=1", "not-the-token");
    const prefix = await get("/v1/version", TOKEN.slice(0, -1));
    for (const r of [missing, wrong, prefix]) {
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe("UNAUTHORIZED");
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    expect((await call(service.url, "/metrics")).status).toBe(401);
    expect(await authFailures()).toBe(before + 4);
    expect((await get("/healthz", null)).status).toBe(200);
  });

  it("refuses to start without a token unless told, and never on a non-loopback host", async () => {
    await expect(serve(world, server, undefined, { insecureNoAuth: false })).rejects.toMatchObject({
      code: "BAD_ARGUMENT",
      message: expect.stringMatching(/SHARDKIT_SERVICE_TOKEN.*--insecure-no-auth/),
    });
    await expect(serve(world, server, undefined, { host: "0.0.0.0" })).rejects.toMatchObject({
      code: "BAD_ARGUMENT",
      message: expect.stringMatching(
        /refusing to serve the directory on 0\.0\.0\.0 without a token/,
      ),
    });
    const open = await serve(world, server, undefined);
    try {
      expect(open.insecure).toBe(true);
      expect((await call(open.url, "/v1/route?key=42")).body.ksid).toBe("bc58a436");
    } finally {
      await open.close();
    }
  });
});

async function authFailures(): Promise<number> {
  const text = (await get("/metrics")).text;
  return Number(/^shardkit_service_auth_failures_total (\d+)/m.exec(text)?.[1]);
}

describe("bad input", () => {
  it("answers every bad request with a 4xx JSON error and keeps serving", async () => {
    const big = JSON.stringify({ keys: Array.from({ length: 200_000 }, (_, i) => `key-${i}`) });
    const cases: [string, Promise<Answer>, number][] = [
      ["missing key", get("/v1/route"), 400],
      ["key given twice", get("/v1/route?key=1&key=2"), 400],
      ["a key of the wrong type", post("/v1/route", { keys: [true, null, [1], { a: 1 }] }), 200],
      ["keys not an array", post("/v1/route", { keys: "42" }), 400],
      ["a body that is not an object", post("/v1/route", [1, 2]), 400],
      ["a table that is not a string", post("/v1/route", { keys: [1], table: 7 }), 400],
      ["too many keys", post("/v1/route", { keys: Array.from({ length: 10_001 }, () => 1) }), 400],
      [
        "a huge body",
        call(service.url, "/v1/route", {
          token: TOKEN,
          raw: big,
          headers: { "content-type": "application/json" },
        }),
        413,
      ],
      [
        "invalid JSON",
        call(service.url, "/v1/route", {
          token: TOKEN,
          raw: "{keys:",
          headers: { "content-type": "application/json" },
        }),
        400,
      ],
      [
        "an empty body",
        call(service.url, "/v1/route", {
          token: TOKEN,
          raw: "",
          headers: { "content-type": "application/json" },
        }),
        400,
      ],
      [
        "not JSON",
        call(service.url, "/v1/route", {
          token: TOKEN,
          raw: "keys=1",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        }),
        415,
      ],
      ["an unknown route", get("/v1/nope"), 404],
      [
        "an unknown method",
        call(service.url, "/v1/ranges", { token: TOKEN, method: "DELETE" }),
        404,
      ],
      ["a bad since", get("/v1/watch?since=abc"), 400],
      ["a negative since", get("/v1/watch?since=-1"), 400],
      ["no since", get("/v1/watch"), 400],
      ["a watch timeout too long", get("/v1/watch?since=1&timeout=100000"), 400],
      ["a bad heartbeat", post("/v1/heartbeats", { id: 5 }), 400],
      ["a bad id count", post("/v1/ids", { sequence: "orders", count: 0 }), 400],
      ["a bad sequence", post("/v1/ids", { sequence: "", count: 1 }), 400],
    ];
    for (const [what, pending, status] of cases) {
      const r = await pending;
      expect(r.status, what).toBe(status);
      if (status === 200) {
        for (const entry of r.body.results) expect(entry.error.code, what).toBe("BAD_SHARD_KEY");
        continue;
      }
      expect(r.body, what).toEqual({
        error: { code: expect.any(String), message: expect.any(String) },
      });
      expect(r.body.error.message, what).not.toContain("\n");
    }
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/v1/route?key=42")).body.ksid).toBe("bc58a436");
    expect((await get("/metrics")).text).not.toMatch(/status="5\d\d"/);
  });
});

describe("watch", () => {
  it("answers at once when the caller is behind, and within 100 ms of a change otherwise", async () => {
    const version = await caughtUp();
    const behind = await get(`/v1/watch?since=${version - 1}`);
    expect(behind.body).toEqual({ version, changed: true });
    const idle = await get(`/v1/watch?since=${version}&timeout=0`);
    expect(idle.body).toEqual({ version, changed: false });

    const watching = get(`/v1/watch?since=${version}`).then((r) => ({ r, at: performance.now() }));
    await new Promise((r) => setTimeout(r, 200));
    expect(await watchers()).toBe(1);
    await world.store.splitRange(keyRange(0x40000000, 0x80000000));
    const changedAt = performance.now();
    const { r, at } = await watching;
    expect(r.body).toEqual({ version: version + 1, changed: true });
    expect(at - changedAt).toBeLessThan(100);
    expect(await watchers()).toBe(0);
  });
});

async function watchers(): Promise<number> {
  return Number(/^shardkit_service_watchers (\d+)/m.exec((await get("/metrics")).text)?.[1]);
}

describe("metrics", () => {
  it("counts requests by route and status, and lookups", async () => {
    await get("/v1/route?key=7");
    await get("/v1/no-such-route");
    await post("/v1/route", { keys: [1, 2, 3] });
    const text = (await get("/metrics")).text;
    expect(text).toMatch(
      /shardkit_service_requests_total\{route="\/v1\/route",method="GET",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /shardkit_service_requests_total\{route="unmatched",method="GET",status="404"\} \d+/,
    );
    expect(
      Number(/shardkit_service_lookups_total\{kind="batch"\} (\d+)/.exec(text)?.[1]),
    ).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/^shardkit_service_directory_version \d+/m);
    expect(text).toMatch(/^shardkit_service_directory_reachable 1/m);
  });
});

describe.skipIf(!hasPython())("a client in another language", () => {
  it("routes the keyspace test vectors of docs/keyspace.md with Python's standard library", async () => {
    const root = resolve(import.meta.dirname, "../../..");
    // Asynchronously: the service answering the script runs in this process.
    const run = await new Promise<{ status: number; stdout: string; stderr: string }>((done) => {
      execFile(
        "python3",
        ["examples/directory_client.py", "--url", service.url, "--vectors", "docs/keyspace.md"],
        { cwd: root, env: { ...process.env, SHARDKIT_SERVICE_TOKEN: TOKEN }, timeout: 30_000 },
        (error, stdout, stderr) =>
          done({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ vectors: 28, mismatches: 0 });
  });
});

describe("the directory database down", () => {
  it("keeps answering from the cached map, says how stale it is, and /healthz turns 503", async () => {
    const lonely = await startFleet({ servers: 1 });
    let down: RunningDirectoryService | undefined;
    try {
      const srv = lonely.servers[0] as FleetServer;
      const w = await serviceWorld(srv);
      await w.store.close();
      down = await serve(w, srv, TOKEN, { maxMapAgeMs: 300 });
      const before = await call(down.url, "/v1/route?key=42", { token: TOKEN });
      expect((await call(down.url, "/healthz")).status).toBe(200);
      await call(down.url, "/v1/moves", { token: TOKEN });
      await lonely.stop();
      await new Promise((r) => setTimeout(r, 500));
      const after = await call(down.url, "/v1/route?key=42", { token: TOKEN });
      expect(after.status).toBe(200);
      expect(after.body).toEqual(before.body);
      const version = (await call(down.url, "/v1/version", { token: TOKEN })).body;
      expect(version.reachable).toBe(false);
      expect(version.staleMs).toBeGreaterThanOrEqual(300);
      const health = await call(down.url, "/healthz");
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({
        status: "stale",
        reachable: false,
        ageMs: expect.any(Number),
      });
      expect(health.body.ageMs).toBeGreaterThanOrEqual(300);
      expect((await call(down.url, "/v1/ranges", { token: TOKEN })).status).toBe(200);
      expect((await call(down.url, "/v1/moves", { token: TOKEN })).body.cached).toBe(true);
    } finally {
      await down?.close();
      await lonely.stop();
    }
  });
});

describe("the OpenAPI document", () => {
  it("is served, and every operation's real answers match the schema given for their status", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const doc = (await get("/v1/openapi.json")).body;
    expect(doc.openapi).toBe("3.1.0");
    await caughtUp();
    // A move of its own, so that every answer is seen when this test runs alone.
    const owner = (await world.store.snapshot()).ranges.at(-1);
    const moveId = "svc-move-openapi";
    await world.store.createMove({
      id: moveId,
      kind: "range",
      range: keyRange(0xf0000000, 0x100000000),
      source: owner?.shard ?? "s2",
      target: owner?.shard === "s1" ? "s2" : "s1",
    });
    await caughtUp();
    const version = service.client.version;
    // [method, documented path, the request]: each operation answered, and answers that refuse.
    const exchanges: [string, string, () => ReturnType<typeof call>][] = [
      ["get", "/v1/route", () => get("/v1/route?key=42")],
      ["get", "/v1/route", () => get("/v1/route?key=4x&table=users")],
      ["get", "/v1/route", () => get("/v1/route?key=1&table=nope")],
      [
        "post",
        "/v1/route",
        () => post("/v1/route", { keys: [1, "a", { hex: "ff" }, 1.5], table: undefined }),
      ],
      ["post", "/v1/route", () => post("/v1/route", { keys: "x" })],
      ["get", "/v1/version", () => get("/v1/version")],
      ["get", "/v1/ranges", () => get("/v1/ranges")],
      ["get", "/v1/shards", () => get("/v1/shards")],
      ["get", "/v1/tables", () => get("/v1/tables")],
      ["get", "/v1/snapshot", () => get("/v1/snapshot")],
      ["get", "/v1/moves", () => get("/v1/moves")],
      ["get", "/v1/moves/{id}", () => get(`/v1/moves/${moveId}`)],
      ["get", "/v1/moves/{id}", () => get("/v1/moves/unknown")],
      ["get", "/v1/watch", () => get(`/v1/watch?since=${version}&timeout=0`)],
      ["get", "/v1/watch", () => get("/v1/watch?since=x")],
      ["get", "/v1/heartbeats", () => get("/v1/heartbeats")],
      [
        "post",
        "/v1/heartbeats",
        () => post("/v1/heartbeats", { id: "oa", host: "h", pid: 1, version }),
      ],
      ["post", "/v1/heartbeats", () => post("/v1/heartbeats", {})],
      ["post", "/v1/ids", () => post("/v1/ids", { sequence: "oa", count: 5 })],
      ["post", "/v1/ids", () => post("/v1/ids", { sequence: "oa", count: -1 })],
      ["get", "/metrics", () => get("/metrics")],
      ["get", "/v1/openapi.json", () => get("/v1/openapi.json")],
      ["get", "/healthz", () => get("/healthz", null)],
      ["get", "/v1/ranges", () => get("/v1/ranges", "wrong")],
    ];
    const seen = new Set<string>();
    for (const [method, path, send] of exchanges) {
      const r = await send();
      const response = doc.paths[path]?.[method]?.responses?.[String(r.status)];
      expect(response, `${method} ${path} answered ${r.status}, not documented`).toBeDefined();
      seen.add(`${method} ${path}`);
      const content = response.content ?? {};
      const type = (r.headers.get("content-type") ?? "").split(";")[0] as string;
      if (r.status === 204) continue;
      expect(Object.keys(content), `${method} ${path} ${r.status} ${type}`).toContain(type);
      if (type !== "application/json") continue;
      const validate = ajv.compile(content[type].schema);
      expect(
        validate(r.body),
        `${method} ${path} ${r.status}: ${ajv.errorsText(validate.errors)}`,
      ).toBe(true);
    }
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((m) => `${m} ${path}`),
    );
    expect([...seen].sort()).toEqual(documented.sort());
  });
});
