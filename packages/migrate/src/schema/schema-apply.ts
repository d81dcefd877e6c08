import { type CredentialResolver, ShardkitError, type ShardRecord } from "@shardkit/directory";
import {
  openShardConnection,
  type ShardConnection,
  type ShardLoginResolver,
} from "../connection/shard-connection.js";
import { MoveError, messageOf } from "../move-error.js";
import {
  readChangeRecord,
  type SchemaChangeRecord,
  statementsHash,
  writeChangeRecord,
} from "./schema-change-records.js";
import { registeredLogins } from "./shard-logins.js";
import { splitStatements } from "./sql-statements.js";

/** Options of {@link applySchemaChange}. */
export interface SchemaApplyOptions {
  /** Shard passwords. Default: the environment (`SHARDKIT_SHARD_PASSWORD_<NAME>`, ...). */
  readonly credentials?: CredentialResolver;
  /** How many shards run the change at once. Default 1: one after another, in name order. */
  readonly parallel?: number;
  /** Called as each shard starts and ends. */
  readonly onEvent?: (event: SchemaApplyEvent) => void;
  /** Stops before the next statement; the change is resumable. */
  readonly signal?: AbortSignal;
}

/** What a shard did with the change. */
export const SHARD_OUTCOMES = ["applied", "skipped", "failed", "not-started"] as const;
/** One of {@link SHARD_OUTCOMES}: `skipped` had it already, `not-started` was left for a later run. */
export type ShardOutcome = (typeof SHARD_OUTCOMES)[number];

/** One shard's part of a rollout. */
export interface ShardChangeResult {
  readonly shard: string;
  readonly outcome: ShardOutcome;
  /** Statements run by this call (a resumed shard runs only those it had not). */
  readonly statementsRun: number;
  readonly ms: number;
  /** For `failed`: the one-line error. */
  readonly error?: string;
}

/** A progress event of a rollout. */
export type SchemaApplyEvent =
  | { readonly event: "shard-started"; readonly shard: string; readonly fromStatement: number }
  | ({ readonly event: "shard-done" } & ShardChangeResult);

/** The result of {@link applySchemaChange}: every shard's outcome, and the error that stopped it. */
export interface SchemaApplyResult {
  readonly name: string;
  readonly hash: string;
  readonly statements: number;
  readonly shards: readonly ShardChangeResult[];
  /** The first shard's failure, naming it; the rollout stopped there. */
  readonly failure?: ShardkitError;
}

/** A database to run a change on: a shard, or a reference table's source. */
export interface ChangeTarget {
  readonly shard: ShardRecord;
}

interface Plan {
  readonly shard: ShardRecord;
  readonly conn: ShardConnection;
  /** Index of the first statement to run, or null when the shard has the change. */
  readonly from: number | null;
}

/**
 * Runs a file of DDL on every shard, one after another (or `parallel` at once), recording on
 * each shard the change's name, content hash and how far it got. Run again, it skips shards
 * that have the change and continues a shard where it stopped. A shard that fails stops the
 * rollout: no further shard starts, and the result names it. Before anything runs, every shard
 * is reached and its record read: a change of this name recorded with other content is refused
 * as SCHEMA_CHANGE_CONFLICT.
 *
 * @example
 * const r = await applySchemaChange(shards, "add-orders-note", sqlText, { parallel: 2 });
 * if (r.failure) throw r.failure;
 */
export async function applySchemaChange(
  targets: readonly ChangeTarget[],
  name: string,
  sqlText: string,
  options: SchemaApplyOptions = {},
): Promise<SchemaApplyResult> {
  const statements = splitStatements(sqlText);
  if (statements.length === 0) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `change ${name} holds no SQL statement; give a file of DDL`,
    );
  }
  if (!/^[A-Za-z0-9_.-]{1,255}$/.test(name)) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `change name ${JSON.stringify(name)} is not a name; use letters, digits, '.', '_' and '-' (at most 255)`,
    );
  }
  const parallel = options.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `parallel must be a whole number of at least 1, not ${parallel}`,
    );
  }
  const hash = statementsHash(statements);
  const login = registeredLogins(options.credentials);
  const plans = await planShards(targets, name, statements, hash, login);
  try {
    return await runPlans(plans, name, statements, hash, parallel, options);
  } finally {
    await Promise.all(plans.map((p) => p.conn.close()));
  }
}

async function planShards(
  targets: readonly ChangeTarget[],
  name: string,
  statements: readonly string[],
  hash: string,
  login: ShardLoginResolver,
): Promise<Plan[]> {
  const plans: Plan[] = [];
  try {
    for (const { shard } of [...targets].sort((a, b) => (a.shard.name < b.shard.name ? -1 : 1))) {
      const conn = await openShardConnection(shard, login(shard));
      plans.push({ shard, conn, from: null });
      // DDL runs as the application's own would: foreign keys checked, the server's sql_mode.
      await conn.execute("SET SESSION foreign_key_checks = 1, sql_mode = @@GLOBAL.sql_mode");
      const record = await readChangeRecord(conn, name);
      plans[plans.length - 1] = {
        shard,
        conn,
        from: startOf(record, shard.name, statements, hash),
      };
    }
    return plans;
  } catch (error) {
    await Promise.all(plans.map((p) => p.conn.close()));
    throw error;
  }
}

/** Where a shard starts: null when it has the change; refused when it holds other content under the name. */
function startOf(
  record: SchemaChangeRecord | null,
  shard: string,
  statements: readonly string[],
  hash: string,
): number | null {
  if (!record) return 0;
  if (record.state === "applied") {
    if (record.hash === hash) return null;
    throw new MoveError(
      "SCHEMA_CHANGE_CONFLICT",
      `shard ${shard} already applied a change named ${record.name} with other content (hash ${record.hash.slice(0, 12)}, this file ${hash.slice(0, 12)}); give the new change another name with --name`,
      { details: { shard, name: record.name, recordedHash: record.hash, hash } },
    );
  }
  const done = record.statementsDone;
  if (done <= statements.length && statementsHash(statements.slice(0, done)) === record.doneHash) {
    return done;
  }
  throw new MoveError(
    "SCHEMA_CHANGE_CONFLICT",
    `shard ${shard} ran ${done} statement(s) of a change named ${record.name} that are not this file's first ${done}; restore the file as it was, or finish the change on ${shard} by hand and apply the rest under another name`,
    { details: { shard, name: record.name, statementsDone: done } },
  );
}

async function runPlans(
  plans: readonly Plan[],
  name: string,
  statements: readonly string[],
  hash: string,
  parallel: number,
  options: SchemaApplyOptions,
): Promise<SchemaApplyResult> {
  const results = new Map<string, ShardChangeResult>();
  let failed: { result: ShardChangeResult; cause: unknown } | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < plans.length && !options.signal?.aborted) {
      const plan = plans[next++] as Plan;
      const { result, cause } = await runOne(plan, name, statements, hash, options);
      results.set(plan.shard.name, result);
      options.onEvent?.({ event: "shard-done", ...result });
      if (result.outcome === "failed" && failed === undefined) failed = { result, cause };
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, plans.length) }, worker));
  let failure = failed && failureOf(name, failed.result, failed.cause, plans, results);
  if (failure === undefined && options.signal?.aborted) {
    failure = new MoveError(
      "MOVE_CANCELLED",
      `schema change ${name} stopped before every shard had it; run the same command again to continue`,
    );
  }
  const shards = plans.map(
    (p) =>
      results.get(p.shard.name) ?? {
        shard: p.shard.name,
        outcome: "not-started" as const,
        statementsRun: 0,
        ms: 0,
      },
  );
  return {
    name,
    hash,
    statements: statements.length,
    shards,
    ...(failure ? { failure } : {}),
  };
}

async function runOne(
  plan: Plan,
  name: string,
  statements: readonly string[],
  hash: string,
  options: SchemaApplyOptions,
): Promise<{ result: ShardChangeResult; cause?: unknown }> {
  const started = Date.now();
  const shard = plan.shard.name;
  if (plan.from === null) return { result: { shard, outcome: "skipped", statementsRun: 0, ms: 0 } };
  options.onEvent?.({ event: "shard-started", shard, fromStatement: plan.from + 1 });
  let done = plan.from;
  const record = (
    state: SchemaChangeRecord["state"],
    error: string | null,
  ): SchemaChangeRecord => ({
    name,
    hash,
    statements: statements.length,
    statementsDone: done,
    doneHash: statementsHash(statements.slice(0, done)),
    state,
    error,
  });
  try {
    await writeChangeRecord(plan.conn, record("applying", null));
    for (; done < statements.length; ) {
      if (options.signal?.aborted) {
        throw new MoveError("MOVE_CANCELLED", `stopped before statement ${done + 1}`);
      }
      await plan.conn.execute(statements[done] as string);
      done++;
      await writeChangeRecord(plan.conn, record("applying", null));
    }
    await writeChangeRecord(plan.conn, record("applied", null));
    const ms = Date.now() - started;
    return { result: { shard, outcome: "applied", statementsRun: done - plan.from, ms } };
  } catch (error) {
    const message = `statement ${done + 1} of ${statements.length}: ${messageOf(error)}`;
    await writeChangeRecord(plan.conn, record("failed", message)).catch(() => undefined);
    const ms = Date.now() - started;
    return {
      result: { shard, outcome: "failed", statementsRun: done - plan.from, ms, error: message },
      cause: error,
    };
  }
}

function failureOf(
  name: string,
  result: ShardChangeResult,
  cause: unknown,
  plans: readonly Plan[],
  results: ReadonlyMap<string, ShardChangeResult>,
): ShardkitError {
  const shard = result.shard;
  const code = cause instanceof ShardkitError ? cause.code : "INTERNAL";
  const untouched = plans.map((p) => p.shard.name).filter((s) => s !== shard && !results.has(s));
  return new MoveError(
    code,
    `schema change ${name} failed on shard ${shard} at ${result.error}; ${untouched.length ? `not started on ${untouched.join(", ")}; ` : ""}fix the cause on ${shard} and run the same command again to continue there`,
    { details: { shard, name }, cause },
  );
}
