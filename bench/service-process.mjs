// A server process for bench/service.bench.mjs, printing its URL on stdout and running until
// SIGTERM: the directory service (BENCH_DIRECTORY, BENCH_TOKEN), or with BENCH_MODE=bare the
// baseline, Fastify alone answering the same routes with fixed JSON of the same size.
import { startDirectoryService } from "@shardkit/service";
import Fastify from "fastify";

/** @type {{ url: string, close(): Promise<unknown> }} */
let server;
if (process.env.BENCH_MODE === "bare") {
  const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
  const single = JSON.parse(/** @type {string} */ (process.env.BENCH_SINGLE));
  const batch = /** @type {string} */ (process.env.BENCH_BATCH);
  app.get("/v1/route", async () => single);
  app.post("/v1/route", async (request, reply) => {
    if (!Array.isArray(/** @type {{ keys?: unknown }} */ (request.body).keys))
      throw new Error("no keys");
    return reply.type("application/json; charset=utf-8").send(batch);
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  server = { url, close: () => app.close() };
} else {
  server = await startDirectoryService({
    directory: /** @type {string} */ (process.env.BENCH_DIRECTORY),
    token: /** @type {string} */ (process.env.BENCH_TOKEN),
    port: 0,
  });
}
process.stdout.write(`${server.url}\n`);
process.on("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
