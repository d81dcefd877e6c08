import {
  credentialResolver,
  DirectoryClient,
  MysqlDirectoryStore,
  ShardkitError,
} from "@shardkit/directory";
import Fastify, { type FastifyInstance } from "fastify";
import { bearerToken, isLoopbackHost, tokenChecker } from "./auth/bearer-auth.js";
import { errorAnswer, HttpError } from "./http/http-errors.js";
import { KeyColumnTypes } from "./keys/key-column-types.js";
import { ServiceMetrics } from "./metrics/service-metrics.js";
import { lookupRoutes } from "./routes/lookup-routes.js";
import { mapRoutes } from "./routes/map-routes.js";
import { opsRoutes } from "./routes/ops-routes.js";
import { sourceRoutes } from "./routes/source-routes.js";
import { watchRoute } from "./routes/watch-route.js";
import type { ServiceContext } from "./service-context.js";
import {
  DEFAULT_SERVICE_PORT,
  type DirectoryServiceOptions,
  type ResolvedServiceOptions,
  type ServiceDirectory,
} from "./service-options.js";

/** A directory service: the HTTP app over a caching client of the directory. */
export interface DirectoryService {
  /** The Fastify app (`app.inject()` answers without a socket). */
  readonly app: FastifyInstance;
  /** The caching directory client every answer comes from. */
  readonly client: DirectoryClient;
  /** The service's metrics registry (served at `/metrics`). */
  readonly registry: ServiceMetrics["registry"];
  /** True when no token is required (`insecureNoAuth`). */
  readonly insecure: boolean;
  /** Stops answering, ends waiting watchers, closes the client (and the store it opened). */
  close(): Promise<void>;
}

/** A directory service listening on a socket. */
export interface RunningDirectoryService extends DirectoryService {
  /** Where it listens, e.g. `http://127.0.0.1:7420`. */
  readonly url: string;
}

/**
 * Builds the service without listening: checks the options (a token unless `insecureNoAuth`;
 * none but a loopback host without one), opens the directory and loads the map.
 */
export async function createDirectoryService(
  options: DirectoryServiceOptions,
): Promise<DirectoryService> {
  const resolved = resolveOptions(options);
  const owns = typeof options.directory === "string";
  const directory: ServiceDirectory =
    typeof options.directory === "string"
      ? new MysqlDirectoryStore({
          directory: options.directory,
          ...(options.credentials ? { credentials: options.credentials } : {}),
        })
      : options.directory;
  let client: DirectoryClient;
  try {
    client = await DirectoryClient.open({
      directory,
      pollIntervalMs: resolved.pollIntervalMs,
      heartbeatId: false,
    });
  } catch (error) {
    if (owns) await directory.close();
    throw error;
  }
  let closed!: () => void;
  const closing = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const metrics = new ServiceMetrics(client);
  const ctx: ServiceContext = {
    client,
    directory,
    keyTypes: new KeyColumnTypes(options.credentials ?? credentialResolver()),
    metrics,
    options: resolved,
    closing,
  };
  const app = buildApp(ctx);
  await app.ready();
  return {
    app,
    client,
    registry: metrics.registry,
    insecure: resolved.token === undefined,
    close: async () => {
      closed();
      await app.close();
      await client.close();
      if (owns) await directory.close();
    },
  };
}

/**
 * Starts the directory service (`shardkit directory serve`) and listens on `host:port`.
 *
 * @example
 * const service = await startDirectoryService({
 *   directory: "mysql://root@127.0.0.1:3306/shardkit",
 *   token: process.env.SHARDKIT_SERVICE_TOKEN,
 * });
 * console.log(service.url); // http://127.0.0.1:7420
 */
export async function startDirectoryService(
  options: DirectoryServiceOptions,
): Promise<RunningDirectoryService> {
  const service = await createDirectoryService(options);
  const resolved = resolveOptions(options);
  try {
    await service.app.listen({ host: resolved.host, port: resolved.port });
  } catch (error) {
    await service.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new ShardkitError(
      code === "EADDRINUSE" ? "BAD_ARGUMENT" : "INTERNAL",
      code === "EADDRINUSE"
        ? `port ${resolved.port} on ${resolved.host} is in use; pick another with --port`
        : `cannot listen on ${resolved.host}:${resolved.port} (${(error as Error).message}); check --host and --port`,
      { cause: error, details: { host: resolved.host, port: resolved.port } },
    );
  }
  const address = service.app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : resolved.port;
  const host = resolved.host.includes(":") ? `[${resolved.host}]` : resolved.host;
  return { ...service, url: `http://${host}:${port}` };
}

function buildApp(ctx: ServiceContext): FastifyInstance {
  const { options, metrics } = ctx;
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimitBytes,
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  const matches = options.token === undefined ? undefined : tokenChecker(options.token);
  // Callback hooks: cheaper per request than async ones.
  app.addHook("onRequest", (request, reply, done) => {
    if (
      matches === undefined ||
      request.url === "/healthz" ||
      request.url.startsWith("/healthz?")
    ) {
      done();
      return;
    }
    const given = bearerToken(request.headers.authorization);
    if (given !== undefined && matches(given)) {
      done();
      return;
    }
    metrics.authFailure();
    void reply
      .code(401)
      .header("www-authenticate", 'Bearer realm="shardkit"')
      .send({
        error: {
          code: "UNAUTHORIZED",
          message:
            given === undefined
              ? "send the service's token as Authorization: Bearer <token>"
              : "the bearer token is wrong; send the token the service was started with (SHARDKIT_SERVICE_TOKEN)",
        },
      });
  });
  app.addHook("onResponse", (request, reply, done) => {
    metrics.request(request.routeOptions.url ?? "unmatched", request.method, reply.statusCode);
    done();
  });
  // JSON.parse rather than Fastify's prototype-poisoning scan: bodies are only read, never merged.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser(
    "application/json",
    { parseAs: "string", bodyLimit: options.bodyLimitBytes },
    (_request, body, done) => {
      const text = body as string;
      if (text.trim() === "") {
        done(
          new HttpError(
            400,
            "BAD_ARGUMENT",
            'the body is empty; send JSON such as {"keys": ["42"]}',
          ),
        );
        return;
      }
      try {
        done(null, JSON.parse(text));
      } catch {
        done(
          new HttpError(
            400,
            "BAD_ARGUMENT",
            'the body is not valid JSON; send JSON such as {"keys": ["42"]}',
          ),
        );
      }
    },
  );
  app.setErrorHandler(async (error, _request, reply) => {
    const { status, body } = errorAnswer(error, options.bodyLimitBytes);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({
      error: {
        code: "UNKNOWN_ROUTE",
        message: `no route ${request.method} ${request.url.split("?")[0]}; the routes are listed at /v1/openapi.json`,
      },
    }),
  );
  lookupRoutes(app, ctx);
  mapRoutes(app, ctx);
  watchRoute(app, ctx);
  sourceRoutes(app, ctx);
  opsRoutes(app, ctx);
  return app;
}

function resolveOptions(options: DirectoryServiceOptions): ResolvedServiceOptions {
  if (typeof options !== "object" || options === null || options.directory === undefined) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      'the directory service needs { directory }: the directory database URL, e.g. "mysql://root@127.0.0.1:3306/shardkit"',
    );
  }
  const host = options.host ?? "127.0.0.1";
  const token = options.token === "" ? undefined : options.token;
  if (token === undefined && !isLoopbackHost(host)) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `refusing to serve the directory on ${host} without a token: set SHARDKIT_SERVICE_TOKEN (or service.token in shardkit.config.json), or listen on 127.0.0.1`,
      { details: { host } },
    );
  }
  if (token === undefined && options.insecureNoAuth !== true) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      "the directory service needs a token: set SHARDKIT_SERVICE_TOKEN (or service.token in shardkit.config.json), or pass --insecure-no-auth for local use",
    );
  }
  const whole = (
    name: string,
    value: number | undefined,
    fallback: number,
    min: number,
    max: number,
  ) => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ShardkitError(
        "BAD_ARGUMENT",
        `${name} must be a whole number from ${min} to ${max}, got ${value}`,
        {
          details: { argument: name },
        },
      );
    }
    return value;
  };
  return {
    token,
    host,
    port: whole("port", options.port, DEFAULT_SERVICE_PORT, 0, 65535),
    pollIntervalMs: whole("pollIntervalMs", options.pollIntervalMs, 50, 10, 60_000),
    maxMapAgeMs: whole("maxMapAgeMs", options.maxMapAgeMs, 30_000, 1, 86_400_000),
    maxBatchKeys: whole("maxBatchKeys", options.maxBatchKeys, 10_000, 1, 1_000_000),
    bodyLimitBytes: whole("bodyLimitBytes", options.bodyLimitBytes, 1_048_576, 1024, 1_073_741_824),
    maxWatchSeconds: whole("maxWatchSeconds", options.maxWatchSeconds, 300, 1, 3600),
  };
}
