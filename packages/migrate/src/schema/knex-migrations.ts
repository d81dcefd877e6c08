import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { CredentialResolver, ShardkitError, ShardRecord } from "@shardkit/directory";
import { wrapMysqlError } from "@shardkit/directory/internal";
import knex, { type Knex } from "knex";
import { MoveError, messageOf } from "../move-error.js";
import { registeredLogins } from "./shard-logins.js";

/** Options of {@link runKnexMigrations}. */
export interface KnexMigrationOptions {
  /** Shard passwords. Default: the environment (`SHARDKIT_SHARD_PASSWORD_<NAME>`, ...). */
  readonly credentials?: CredentialResolver;
  /** The knexfile's environment when it exports several (as `knex --env`). Default NODE_ENV, else `development`. */
  readonly environment?: string;
  /** Called as each shard is done. */
  readonly onShard?: (result: ShardMigrationResult) => void;
}

/** What knex's migrator did on one shard. */
export interface ShardMigrationResult {
  readonly shard: string;
  readonly outcome: "migrated" | "up-to-date" | "failed" | "not-started";
  /** The batch knex recorded (0 when nothing ran). */
  readonly batch: number;
  /** The migrations run on this shard, in order. */
  readonly migrations: readonly string[];
  readonly error?: string;
}

/** The result of {@link runKnexMigrations}: each shard's, and the failure that stopped the run. */
export interface KnexMigrationResult {
  readonly shards: readonly ShardMigrationResult[];
  readonly failure?: ShardkitError;
}

/**
 * Runs an application's own knex migrations (knex's migrator, `migrate.latest()`) on every
 * shard in turn, in name order, each shard connected with its registered login through mysql2.
 * knex records what ran in each shard's own `knex_migrations` table, so a run after a failure
 * continues where each shard stands. The first shard that fails stops the run.
 *
 * @example
 * const r = await runKnexMigrations(snapshot.shards, "./knexfile.mjs");
 */
export async function runKnexMigrations(
  shards: readonly ShardRecord[],
  knexfile: string,
  options: KnexMigrationOptions = {},
): Promise<KnexMigrationResult> {
  const config = await loadKnexfile(knexfile, options.environment);
  const login = registeredLogins(options.credentials);
  const results: ShardMigrationResult[] = [];
  const sorted = [...shards].sort((a, b) => (a.name < b.name ? -1 : 1));
  let failure: ShardkitError | undefined;
  for (const shard of sorted) {
    if (failure) {
      results.push({ shard: shard.name, outcome: "not-started", batch: 0, migrations: [] });
      continue;
    }
    const { user, password } = login(shard);
    const db = knex({
      ...config,
      client: "mysql2",
      connection: { host: shard.host, port: shard.port, user, password, database: shard.database },
      pool: { min: 0, max: 1 },
    });
    let result: ShardMigrationResult;
    try {
      const [batch, log] = (await db.migrate.latest()) as [number, string[]];
      result = {
        shard: shard.name,
        outcome: log.length ? "migrated" : "up-to-date",
        batch: log.length ? batch : 0,
        migrations: log,
      };
    } catch (error) {
      const where = `shard ${shard.name} (${shard.host}:${shard.port}/${shard.database})`;
      const cause = wrapMysqlError(error, where, undefined, password);
      result = {
        shard: shard.name,
        outcome: "failed",
        batch: 0,
        migrations: [],
        error: cause.message,
      };
      const untouched = sorted.slice(sorted.indexOf(shard) + 1).map((s) => s.name);
      failure = new MoveError(
        cause.code,
        `knex migrations failed on shard ${shard.name}: ${cause.message.replace(`${where}: `, "")}; ${untouched.length ? `not started on ${untouched.join(", ")}; ` : ""}fix the migration and run the same command again (knex continues each shard where it stands)`,
        { details: { shard: shard.name }, cause },
      );
    } finally {
      await db.destroy();
    }
    results.push(result);
    options.onShard?.(result);
  }
  return { shards: results, ...(failure ? { failure } : {}) };
}

/** Loads a knexfile (ESM or CommonJS) and picks its environment; migration directories become absolute. */
async function loadKnexfile(file: string, environment?: string): Promise<Knex.Config> {
  const path = resolve(file);
  let loaded: unknown;
  try {
    loaded = await import(pathToFileURL(path).href);
  } catch (error) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `cannot load knexfile ${file} (${messageOf(error).split("\n")[0]}); give the path of a .js, .cjs or .mjs knexfile`,
    );
  }
  let config = (loaded as { default?: unknown }).default ?? loaded;
  if (typeof config === "function") config = await (config as () => unknown)();
  const record = config as Record<string, unknown>;
  if (record && typeof record === "object" && !("client" in record) && !("migrations" in record)) {
    const env = environment ?? process.env.NODE_ENV ?? "development";
    if (!(env in record)) {
      throw new MoveError(
        "BAD_ARGUMENT",
        `knexfile ${file} has no environment ${env} (it has ${Object.keys(record).join(", ") || "none"}); pick one with --env`,
      );
    }
    config = record[env];
  }
  const c = (config ?? {}) as Knex.Config;
  const base = dirname(path);
  const absolute = (d: string) => (isAbsolute(d) ? d : resolve(base, d));
  const directory = c.migrations?.directory ?? "./migrations";
  return {
    ...c,
    migrations: {
      ...c.migrations,
      directory: typeof directory === "string" ? absolute(directory) : directory.map(absolute),
    },
  };
}
