import { encodeHeartbeat } from "@shardkit/directory/internal";
import type { FastifyInstance } from "fastify";
import { HttpError } from "../http/http-errors.js";
import type { ServiceContext } from "../service-context.js";

const MAX_IDS_PER_CALL = 1_000_000;

/**
 * What a router reading the directory through the service writes back: its heartbeat (the
 * version it holds, which moves wait for before cleaning up) and id blocks for `nextId`.
 */
export function sourceRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post("/v1/heartbeats", async (request, reply) => {
    const b = objectBody(
      request.body,
      '{"id": "web-1", "host": "web-1", "pid": 4242, "version": 12}',
    );
    if (
      typeof b.id !== "string" ||
      b.id === "" ||
      b.id.length > 255 ||
      typeof b.host !== "string" ||
      !Number.isSafeInteger(b.pid) ||
      !Number.isSafeInteger(b.version)
    ) {
      throw new HttpError(
        400,
        "BAD_ARGUMENT",
        'a heartbeat is {"id": "<up to 255 characters>", "host": "...", "pid": <integer>, "version": <integer>}',
      );
    }
    await ctx.directory.recordHeartbeat({
      id: b.id,
      host: b.host.slice(0, 255),
      pid: b.pid as number,
      version: b.version as number,
    });
    return reply.code(204).send();
  });

  app.get("/v1/heartbeats", async () => ({
    heartbeats: (await ctx.directory.listHeartbeats()).map(encodeHeartbeat),
  }));

  app.post("/v1/ids", async (request) => {
    const b = objectBody(request.body, '{"sequence": "orders", "count": 1000}');
    const count = b.count;
    if (typeof b.sequence !== "string" || !/^[A-Za-z0-9_.:-]{1,64}$/.test(b.sequence)) {
      throw new HttpError(
        400,
        "BAD_ARGUMENT",
        'sequence must be a name of 1 to 64 letters, digits or _.:-, e.g. {"sequence": "orders", "count": 1000}',
      );
    }
    if (
      typeof count !== "number" ||
      !Number.isSafeInteger(count) ||
      count < 1 ||
      count > MAX_IDS_PER_CALL
    ) {
      throw new HttpError(
        400,
        "BAD_ARGUMENT",
        `count must be a whole number from 1 to ${MAX_IDS_PER_CALL}`,
      );
    }
    return await ctx.directory.reserveIds(b.sequence, count);
  });
}

function objectBody(body: unknown, example: string): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "BAD_ARGUMENT", `send a JSON object such as ${example}`);
  }
  return body as Record<string, unknown>;
}
