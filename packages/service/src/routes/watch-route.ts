import type { FastifyInstance } from "fastify";
import { HttpError } from "../http/http-errors.js";
import { countParam, type Query } from "../http/query-params.js";
import type { ServiceContext } from "../service-context.js";
import { DEFAULT_WATCH_SECONDS } from "../service-options.js";

/**
 * `GET /v1/watch?since=<version>[&timeout=<seconds>]`: answers at once when the service holds
 * another version than `since`, else as soon as it loads one (it checks the directory every
 * `pollIntervalMs`), else after the timeout with `changed: false`.
 */
export function watchRoute(app: FastifyInstance, ctx: ServiceContext): void {
  const waiters = new Set<() => void>();
  ctx.client.subscribe(() => {
    for (const wake of [...waiters]) wake();
  });
  void ctx.closing.then(() => {
    for (const wake of [...waiters]) wake();
  });

  app.get("/v1/watch", async (request, reply) => {
    const query = request.query as Query;
    if (query.since === undefined) {
      throw new HttpError(400, "BAD_ARGUMENT", "give the version you hold: /v1/watch?since=12");
    }
    const since = countParam(
      query,
      "since",
      { min: 0, max: Number.MAX_SAFE_INTEGER },
      "/v1/watch?since=12",
    ) as number;
    const seconds = countParam(
      query,
      "timeout",
      { min: 0, max: ctx.options.maxWatchSeconds, fallback: DEFAULT_WATCH_SECONDS },
      "/v1/watch?since=12&timeout=30",
    ) as number;
    if (ctx.client.version === since && seconds > 0) {
      ctx.metrics.watcher(1);
      try {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            waiters.delete(done);
            reply.raw.off("close", done);
            resolve();
          };
          const timer = setTimeout(done, seconds * 1000);
          waiters.add(done);
          // The client went away: stop waiting for it.
          reply.raw.once("close", done);
        });
      } finally {
        ctx.metrics.watcher(-1);
      }
    }
    const version = ctx.client.version;
    return { version, changed: version !== since };
  });
}
