import { startDirectoryService } from "@shardkit/service";
import { Command, Option } from "commander";
import { UsageError } from "../cli-errors.js";
import type { CommandContext } from "../command-context.js";
import type { CommandDefinition } from "../command-definition.js";

const SERVE_HELP = `
Serves the directory over HTTP for programs in any language and for routers that should not
hold the directory database's credentials (createRouter({ directory: "http://...", token })).
Lookups come from the service's memory: while the directory database is down it keeps
answering from the map it holds and says how stale it is (/healthz turns 503 past
--max-map-age-ms). The API is described at /v1/openapi.json and in docs/service.md.

Every route but /healthz needs Authorization: Bearer <token>, the token coming from
SHARDKIT_SERVICE_TOKEN or "service": {"token": "..."} in shardkit.config.json. Without a token
the service refuses to start, unless --insecure-no-auth is given, and that only on a loopback
host. Lookups with a table read the key column's type from a shard, so give the service the
shards' passwords as for any command. Runs until Ctrl-C or SIGTERM.

Examples:
  SHARDKIT_SERVICE_TOKEN=$(openssl rand -hex 32) shardkit directory serve
  shardkit directory serve --host 0.0.0.0 --port 7420      # a token is required here
  shardkit directory serve --insecure-no-auth              # local use only
  curl -H "Authorization: Bearer $SHARDKIT_SERVICE_TOKEN" 'http://127.0.0.1:7420/v1/route?key=42'`;

interface ServeFlags {
  readonly port?: number;
  readonly host?: string;
  readonly insecureNoAuth?: boolean;
  readonly maxMapAgeMs?: number;
}

/** `shardkit directory serve`: the directory service. */
export const directoryCommand: CommandDefinition = (action) =>
  new Command("directory")
    .description("serve the directory over HTTP (the directory service)")
    .addCommand(
      new Command("serve")
        .description("serve lookups, the map, moves, a watch long poll and metrics over HTTP")
        .addOption(
          new Option("--port <port>", "the port to listen on (default 7420)").argParser(port),
        )
        .option("--host <host>", "the address to listen on (default 127.0.0.1)")
        .option("--insecure-no-auth", "serve without a token (loopback hosts only; for local use)")
        .addOption(
          new Option(
            "--max-map-age-ms <ms>",
            "/healthz answers 503 once the directory database has not answered for this long (default 30000)",
          ).argParser(port),
        )
        .addHelpText("after", SERVE_HELP)
        .action(action(async (ctx, flags: ServeFlags) => serve(ctx, flags))),
    );

async function serve(ctx: CommandContext, flags: ServeFlags) {
  const fromEnv = ctx.io.env.SHARDKIT_SERVICE_TOKEN;
  const token = fromEnv ? fromEnv : ctx.config.service?.token;
  if (token && flags.insecureNoAuth) {
    throw new UsageError(
      "BAD_ARGUMENT",
      "--insecure-no-auth serves without a token, but a token is set (SHARDKIT_SERVICE_TOKEN or service.token); drop one of them",
    );
  }
  const service = await startDirectoryService({
    directory: ctx.admin,
    credentials: ctx.credentials,
    ...(token ? { token } : {}),
    ...(flags.insecureNoAuth ? { insecureNoAuth: true } : {}),
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(flags.port === undefined ? {} : { port: flags.port }),
    ...(flags.maxMapAgeMs === undefined ? {} : { maxMapAgeMs: flags.maxMapAgeMs }),
  });
  const started = {
    event: "listening",
    url: service.url,
    directory: ctx.directoryLocation,
    version: service.client.version,
    auth: service.insecure ? "none" : "bearer",
  };
  if (service.insecure) {
    ctx.note(
      "serving WITHOUT authentication (--insecure-no-auth): anyone who can reach this port reads the directory; for local use only",
    );
  }
  if (ctx.json) ctx.line(started);
  else
    ctx.io.stdout(
      `serving directory ${started.directory} (version ${started.version}) at ${service.url}\n`,
    );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (s: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(s);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await service.close();
  return {
    kind: "report" as const,
    text: `stopped (${signal})`,
    data: { event: "stopped", signal, url: service.url },
    line: ctx.json,
  };
}

function port(text: string): number {
  if (!/^\d+$/.test(text.trim())) {
    throw new UsageError(
      "BAD_ARGUMENT",
      `invalid number "${text}": give a whole number such as 7420`,
    );
  }
  return Number(text);
}
