// `shardkit schema apply|diff|migrate`: schema changes on every shard. The work is in
// @shardkit/migrate (schema/); this file parses arguments and words the results.
import { readFileSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import {
  applySchemaChange,
  diffSchemas,
  runKnexMigrations,
  type SchemaApplyEvent,
  type SchemaDiffReport,
} from "@shardkit/migrate";
import { Command, InvalidArgumentError } from "commander";
import { UsageError } from "../cli-errors.js";
import type { CommandContext } from "../command-context.js";
import type { CommandDefinition } from "../command-definition.js";
import { schemaDiffFailure, schemaDiffLines, schemaDiffTables } from "./schema-diff-report.js";

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError("a whole number of at least 1");
  return n;
}

/** Progress for people on a terminal (stderr); nothing otherwise, so stdout stays one document. */
function progress(ctx: CommandContext): (text: string) => void {
  return (text) => {
    if (ctx.io.terminal && !ctx.json) ctx.io.stderr(`${text}\n`);
  };
}

function readSqlFile(ctx: CommandContext, file: string): string {
  try {
    return readFileSync(resolve(ctx.io.cwd, file), "utf8");
  } catch (error) {
    throw new UsageError(
      "BAD_ARGUMENT",
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "unreadable"}); give the path of a file of SQL statements`,
    );
  }
}

const APPLY_HELP = `
Runs the file's statements on every shard in name order (or --parallel n at once), recording
on each shard the change's name and content hash (table shardkit_schema_changes). Run it again
after a failure: shards that have the change are skipped, the failed shard continues from the
statement that failed. A change of the same name with other content is refused.

Example:
  shardkit schema apply migrations/2026-12-add-order-note.sql --parallel 2`;

const MIGRATE_HELP = `
Runs knex's own migrator (migrate.latest) with the knexfile's migrations on every shard in
turn, connecting to each as its registered user through mysql2. Each shard keeps its own
knex_migrations table, so a run after a failure continues where each shard stands.

Example:
  shardkit schema migrate --knexfile ./knexfile.mjs --env production`;

const DIFF_HELP = `
Compares each sharded table's definition (SHOW CREATE TABLE, AUTO_INCREMENT aside) on every
shard with the definition most shards have, and names each difference. Exits 4
(SCHEMA_MISMATCH) when one differs. shardkit doctor runs the same comparison.

Example:
  shardkit schema diff --json`;

/** `shardkit schema apply|diff|migrate`: DDL and knex migrations on every shard, and their differences. */
export const schemaCommand: CommandDefinition = (action) => {
  const schema = new Command("schema").description(
    "apply schema changes to every shard and compare table definitions across shards",
  );
  schema
    .command("apply")
    .description("run a file of DDL on every shard, resumably, recording it on each shard")
    .argument("<file>", "a file of SQL statements separated by ;")
    .option("--name <name>", "the change's name (default: the file's name without extension)")
    .option("--parallel <n>", "shards changed at once", positiveInteger, 1)
    .option(
      "--source <name...>",
      "also run it on these reference tables' source databases (by source name)",
    )
    .addHelpText("after", APPLY_HELP)
    .action(
      action(
        async (ctx, file: string, opts: { name?: string; parallel: number; source?: string[] }) => {
          const text = readSqlFile(ctx, file);
          const name = opts.name ?? basename(file, extname(file));
          const snapshot = await ctx.admin.snapshot();
          const sources = (opts.source ?? []).map((n) => {
            const found = (snapshot.referenceTables ?? []).find((t) => t.source.name === n);
            if (!found) {
              const known = [
                ...new Set((snapshot.referenceTables ?? []).map((t) => t.source.name)),
              ];
              throw new UsageError(
                "BAD_ARGUMENT",
                `no reference table has a source named ${n} (sources: ${known.join(", ") || "none"}); see shardkit reference list`,
              );
            }
            return found.source;
          });
          const say = progress(ctx);
          const result = await applySchemaChange(
            [...snapshot.shards, ...new Map(sources.map((s) => [s.name, s])).values()].map(
              (shard) => ({ shard }),
            ),
            name,
            text,
            {
              credentials: ctx.credentials,
              parallel: opts.parallel,
              onEvent: (e: SchemaApplyEvent) =>
                say(
                  e.event === "shard-started"
                    ? `${e.shard}: running from statement ${e.fromStatement}`
                    : `${e.shard}: ${e.outcome}${e.error ? ` (${e.error})` : ""}`,
                ),
            },
          );
          const { failure, ...data } = result;
          const lines = [
            `schema change ${result.name} (${result.statements} statement(s), hash ${result.hash.slice(0, 12)}):`,
            ...result.shards.map(
              (s) =>
                `  ${s.shard}: ${s.outcome}${s.statementsRun ? `, ${s.statementsRun} statement(s) in ${s.ms} ms` : ""}${s.error ? ` (${s.error})` : ""}`,
            ),
          ];
          return {
            kind: "report",
            text: lines.join("\n"),
            data: { ...data },
            ...(failure ? { failure } : {}),
          };
        },
      ),
    );
  schema
    .command("diff")
    .description("compare every sharded table's definition across shards, naming each difference")
    .addHelpText("after", DIFF_HELP)
    .action(
      action(async (ctx) => {
        const snapshot = await ctx.admin.snapshot();
        const report: SchemaDiffReport = await diffSchemas(
          snapshot.shards,
          await schemaDiffTables(ctx, snapshot),
          ctx.credentials,
        );
        const failure = schemaDiffFailure(report);
        return {
          kind: "report",
          text: schemaDiffLines(report).join("\n"),
          data: { ...report },
          ...(failure ? { failure } : {}),
        };
      }),
    );
  schema
    .command("migrate")
    .description("run the application's knex migrations on every shard in turn")
    .requiredOption("--knexfile <file>", "the knexfile (.js, .cjs or .mjs) with the migrations")
    .option("--env <name>", "the knexfile's environment (default NODE_ENV, else development)")
    .addHelpText("after", MIGRATE_HELP)
    .action(
      action(async (ctx, opts: { knexfile: string; env?: string }) => {
        const snapshot = await ctx.admin.snapshot();
        const say = progress(ctx);
        const result = await runKnexMigrations(
          snapshot.shards,
          resolve(ctx.io.cwd, opts.knexfile),
          {
            credentials: ctx.credentials,
            environment: opts.env ?? (ctx.io.env.NODE_ENV || "development"),
            onShard: (s) => say(`${s.shard}: ${s.outcome}`),
          },
        );
        const { failure, ...data } = result;
        const lines = result.shards.map(
          (s) =>
            `${s.shard}: ${s.outcome}${s.migrations.length ? ` (batch ${s.batch}: ${s.migrations.join(", ")})` : ""}${s.error ? ` (${s.error})` : ""}`,
        );
        return {
          kind: "report",
          text: lines.join("\n"),
          data: { ...data },
          ...(failure ? { failure } : {}),
        };
      }),
    );
  return schema;
};
