// `shardkit reference add|list|remove|resync|follow`: reference tables, a read copy on every
// shard kept in step with the source. The work is in @shardkit/migrate (reference/).
import {
  formatEndpoint,
  isValidShardName,
  parseMysqlUrl,
  shardPasswordVariable,
} from "@shardkit/directory";
import {
  addReferenceTable,
  type CopySyncResult,
  followReferenceTables,
  listReferenceCopies,
  type ReferenceSyncResult,
  removeReferenceTable,
  resyncReferenceTable,
} from "@shardkit/migrate";
import { Command } from "commander";
import { UsageError } from "../cli-errors.js";
import type { CommandContext } from "../command-context.js";
import type { CommandDefinition } from "../command-definition.js";
import type { CommandResult } from "../output.js";

const ADD_HELP = `
The source is the database holding the one writable copy (a "global" database of your own,
not a shard). Its password comes from SHARDKIT_SHARD_PASSWORD_<SOURCE NAME> (or the config's
credentials), as a shard's; a password in the URL is used now and never stored. The table is
copied to every shard and caught up with the source's binlog; keep the copies in step with
shardkit reference follow.

Example:
  shardkit reference add products --source mysql://app@global-db:3306/global`;

const FOLLOW_HELP = `
Runs until stopped (Ctrl-C): one applier per reference table and shard streams the source's
binlog into the copy, committing the applied position with each change. Tables and shards
added meanwhile are picked up. Run one follower per directory (a second one waits: each copy
is held by one process at a time).

Example:
  shardkit reference follow --json`;

/** Progress on a terminal (stderr); nothing otherwise, so stdout stays one document. */
function progress(ctx: CommandContext): (c: CopySyncResult) => void {
  return (c) => {
    if (ctx.io.terminal && !ctx.json) {
      ctx.io.stderr(
        `${c.table} on ${c.shard}: ${c.ok ? `${c.rowsCopied} rows copied, caught up` : `failed (${c.error})`}\n`,
      );
    }
  };
}

function syncReport(
  head: string,
  result: ReferenceSyncResult,
  extra: Record<string, unknown>,
): CommandResult {
  const lines = [
    head,
    ...result.copies.map(
      (c) =>
        `  ${c.shard}: ${c.ok ? `${c.rowsCopied} rows copied, caught up (lag ${Math.round(c.lagMs ?? 0)} ms)` : `failed (${c.error})`}`,
    ),
  ];
  return {
    kind: "report",
    text: lines.join("\n"),
    data: { ...extra, copies: result.copies },
    ...(result.failure ? { failure: result.failure } : {}),
  };
}

/** `shardkit reference ...`: tables with a read copy on every shard. */
export const referenceCommand: CommandDefinition = (action) => {
  const reference = new Command("reference").description(
    "reference tables: one writable copy in a source database, a read copy on every shard",
  );
  reference
    .command("add")
    .description("declare a reference table and copy it to every shard")
    .argument("<table>", "the table, as named in the source database")
    .requiredOption(
      "--source <url>",
      "mysql://user[:password]@host:port/database of the writable copy",
    )
    .option(
      "--source-name <name>",
      "the source's name, for its password (default: its database name)",
    )
    .addHelpText("after", ADD_HELP)
    .action(
      action(async (ctx, table: string, opts: { source: string; sourceName?: string }) => {
        const endpoint = parseMysqlUrl(opts.source);
        if (!endpoint.database) {
          throw new UsageError(
            "BAD_ARGUMENT",
            `the source URL ${formatEndpoint(endpoint)} names no database; add one, e.g. ${formatEndpoint({ ...endpoint, database: "global" })}`,
          );
        }
        const name =
          opts.sourceName ??
          endpoint.database.replace(/^[^A-Za-z]+/, "").replace(/[^A-Za-z0-9_-]/g, "_");
        if (!isValidShardName(name)) {
          throw new UsageError(
            "BAD_ARGUMENT",
            `source name "${name}" is not a name: give one with --source-name (a letter, then letters, digits, _ or -)`,
          );
        }
        const password = endpoint.password || ctx.credentials(name);
        if (endpoint.password && ctx.credentials(name) !== endpoint.password) {
          ctx.note(
            `the password in the URL was used now and is not stored; set ${shardPasswordVariable(name)} for later commands and the follower`,
          );
        }
        const result = await addReferenceTable(
          ctx.admin,
          {
            table,
            source: {
              name,
              host: endpoint.host,
              port: endpoint.port,
              user: endpoint.user,
              database: endpoint.database,
            },
          },
          {
            credentials: (n) => (n === name ? password : ctx.credentials(n)),
            onCopy: progress(ctx),
          },
        );
        return syncReport(
          `reference table ${table} from source ${name} (${formatEndpoint({ ...endpoint, password: "" })}); directory version ${result.version}`,
          result,
          { table, source: name, version: result.version },
        );
      }),
    );
  reference
    .command("list")
    .description("list each reference table's copy on every shard, with its state and lag")
    .addHelpText("after", "\nExample:\n  shardkit reference list --json")
    .action(
      action(async (ctx) => {
        const snapshot = await ctx.admin.snapshot();
        const copies = await listReferenceCopies(snapshot, { credentials: ctx.credentials });
        return {
          kind: "table",
          rows: copies.map((c) => ({
            table: c.table,
            source: c.source,
            shard: c.shard,
            state: c.state,
            lagMs: c.lagMs,
            rowsCopied: c.rowsCopied,
            readOnly: c.readOnly,
            error: c.error,
          })),
          columns: ["table", "source", "shard", "state", "lagMs", "rowsCopied", "readOnly"],
          empty:
            (snapshot.referenceTables ?? []).length === 0
              ? "no reference tables; declare one with shardkit reference add <table> --source <url>"
              : "no shards registered",
        };
      }),
    );
  reference
    .command("remove")
    .description("forget a reference table: its copies stay on the shards, writable again")
    .addHelpText("after", "\nExample:\n  shardkit reference remove products")
    .argument("<table>", "the reference table")
    .action(
      action(async (ctx, table: string) => {
        const r = await removeReferenceTable(ctx.admin, table, { credentials: ctx.credentials });
        return {
          kind: "report",
          text: `table ${table} is no longer a reference table (its copies stay, writable); directory version ${r.version}${r.unreachable.length ? `; not reached: ${r.unreachable.join(", ")} (drop its shardkit_ro_* triggers there by hand)` : ""}`,
          data: { table, ...r },
        };
      }),
    );
  reference
    .command("resync")
    .description("copy a reference table again from its source, on every shard or one")
    .argument("<table>", "the reference table")
    .option("--shard <name>", "only this shard's copy")
    .addHelpText("after", "\nExample:\n  shardkit reference resync products --shard s3")
    .action(
      action(async (ctx, table: string, opts: { shard?: string }) => {
        const result = await resyncReferenceTable(ctx.admin, table, {
          credentials: ctx.credentials,
          onCopy: progress(ctx),
          ...(opts.shard !== undefined ? { shard: opts.shard } : {}),
        });
        return syncReport(`reference table ${table} copied again:`, result, { table });
      }),
    );
  reference
    .command("follow")
    .description("keep every reference copy in step with its source, until stopped")
    .option("--poll-ms <ms>", "how often the directory is read for new tables and shards", "1000")
    .option("--duration <ms>", "stop after this long (default: until Ctrl-C or SIGTERM)")
    .addHelpText("after", FOLLOW_HELP)
    .action(
      action(async (ctx, opts: { pollMs: string; duration?: string }) => {
        const pollMs = Number(opts.pollMs);
        if (!Number.isInteger(pollMs) || pollMs < 50) {
          throw new UsageError(
            "BAD_ARGUMENT",
            `--poll-ms must be a whole number of ms, at least 50, not ${opts.pollMs}`,
          );
        }
        const duration = opts.duration === undefined ? undefined : Number(opts.duration);
        if (duration !== undefined && (!Number.isInteger(duration) || duration < 1)) {
          throw new UsageError(
            "BAD_ARGUMENT",
            `--duration must be a whole number of ms, not ${opts.duration}`,
          );
        }
        const say = (e: Record<string, unknown>) => {
          if (ctx.json) ctx.line(e);
          else if (e.event !== "lag") ctx.io.stderr(`${describe(e)}\n`);
        };
        const follower = followReferenceTables(ctx.admin, {
          credentials: ctx.credentials,
          pollMs,
          onEvent: (e) => say({ ...e }),
        });
        await new Promise<void>((resolve) => {
          const timer = duration === undefined ? undefined : setTimeout(stop, duration);
          function stop() {
            clearTimeout(timer);
            process.off("SIGINT", stop);
            process.off("SIGTERM", stop);
            resolve();
          }
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
        });
        const copies = follower.copies;
        await follower.stop();
        return {
          kind: "report",
          text: `stopped following ${copies.length} copies`,
          data: { event: "stopped", copies },
          line: ctx.json,
        };
      }),
    );
  return reference;
};

function describe(e: Record<string, unknown>): string {
  const at = `${String(e.table)} on ${String(e.shard)}`;
  if (e.event === "failed")
    return `${at}: failed (${String(e.error)}); retrying in ${String(e.retryInMs)} ms`;
  return `${at}: ${String(e.event)}`;
}
