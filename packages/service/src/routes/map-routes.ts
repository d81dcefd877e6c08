import { type DirectoryMap, type MoveRecord, ShardkitError } from "@shardkit/directory";
import { encodeSnapshot, type WireSnapshot, wireRange } from "@shardkit/directory/internal";
import type { FastifyInstance } from "fastify";
import type { ServiceContext } from "../service-context.js";

/** A move as the API gives it. */
export function moveJson(m: MoveRecord) {
  return {
    id: m.id,
    kind: m.kind,
    ...wireRange(m.range),
    key: m.keyText,
    keyHex: m.keyBytes === null ? null : Buffer.from(m.keyBytes).toString("hex"),
    source: m.source,
    target: m.target,
    state: m.state,
    failedIn: m.failedIn,
    progress: m.progress,
    error: m.error,
    leaseOwner: m.leaseOwner,
    leaseExpiresAt: m.leaseExpiresAt?.toISOString() ?? null,
    switchedVersion: m.switchedVersion,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
  };
}

/**
 * The map itself, from the service's memory (also while the directory database is down):
 * version, ranges and pins, shards, tables, the whole snapshot; and the moves, read from the
 * database (the last list read when it is down, said by `"cached": true`).
 */
export function mapRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const encoded = new WeakMap<DirectoryMap, WireSnapshot>();
  const wire = (map: DirectoryMap): WireSnapshot => {
    let w = encoded.get(map);
    if (!w) {
      w = encodeSnapshot(map.snapshot);
      encoded.set(map, w);
    }
    return w;
  };
  const freshness = () => {
    const status = ctx.client.status();
    return { version: status.version, staleMs: status.staleMs, reachable: !status.unreachable };
  };

  app.get("/v1/version", async () => freshness());
  app.get("/v1/snapshot", async () => wire(ctx.client.map));
  app.get("/v1/ranges", async () => {
    const w = wire(ctx.client.map);
    return { ...freshness(), version: w.version, ranges: w.ranges, pins: w.pins };
  });
  app.get("/v1/shards", async () => {
    const map = ctx.client.map;
    return { ...freshness(), version: map.version, shards: map.snapshot.shards };
  });
  app.get("/v1/tables", async () => {
    const map = ctx.client.map;
    return { ...freshness(), version: map.version, tables: map.snapshot.tables };
  });

  let lastMoves: readonly MoveRecord[] | undefined;
  const moves = async (): Promise<{ moves: readonly MoveRecord[]; cached: boolean }> => {
    try {
      lastMoves = await ctx.directory.listMoves();
      return { moves: lastMoves, cached: false };
    } catch (error) {
      if (lastMoves && isUnavailable(error)) return { moves: lastMoves, cached: true };
      throw error;
    }
  };
  app.get("/v1/moves", async () => {
    const { moves: list, cached } = await moves();
    return { moves: list.map(moveJson), cached };
  });
  app.get("/v1/moves/:id", async (request) => {
    const { id } = request.params as { id: string };
    try {
      return { move: moveJson(await ctx.directory.getMove(id)), cached: false };
    } catch (error) {
      const found = lastMoves?.find((m) => m.id === id);
      if (found && isUnavailable(error)) return { move: moveJson(found), cached: true };
      throw error;
    }
  });
}

function isUnavailable(error: unknown): boolean {
  return error instanceof ShardkitError && error.code.endsWith("_UNAVAILABLE");
}
