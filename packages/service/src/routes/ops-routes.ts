import type { FastifyInstance } from "fastify";
import { OPENAPI_DOCUMENT } from "../openapi/openapi-document.js";
import type { ServiceContext } from "../service-context.js";

/** `/healthz` (no token needed), `/metrics` and `/v1/openapi.json`. */
export function opsRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get("/healthz", async (_request, reply) => {
    const s = ctx.client.status();
    const healthy = s.staleMs <= ctx.options.maxMapAgeMs;
    return reply.code(healthy ? 200 : 503).send({
      status: healthy ? "ok" : "stale",
      version: s.version,
      reachable: !s.unreachable,
      ageMs: s.staleMs,
      maxAgeMs: ctx.options.maxMapAgeMs,
      loadedAt: s.loadedAt.toISOString(),
      lastContactAt: s.lastContactAt.toISOString(),
      ...(s.lastError === undefined ? {} : { lastError: s.lastError.split("\n")[0] }),
    });
  });

  app.get("/metrics", async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });

  app.get("/v1/openapi.json", async () => OPENAPI_DOCUMENT);
}
