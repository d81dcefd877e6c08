import type { DirectoryMap } from "@shardkit/directory";
import { resolveDestination } from "../destination.js";
import { isQueryBuilder } from "../knex/knex-internals.js";
import type { RouterMetrics } from "../metrics/router-metrics.js";
import type { RouterContext } from "../router-context.js";
import { RouterError, type ShardFailure } from "../router-errors.js";
import type { ScatterOptions, ScatterResult } from "../router-options.js";
import { scatterFailure } from "../shard-errors.js";
import { scatterAggregates } from "./aggregate-scatter.js";
import { ClauseCache } from "./clause-cache.js";
import { shardCopies } from "./copy-filter.js";
import { type CopyScope, copiesByShard } from "./move-copies.js";
import { queryShape, refusal, summarises } from "./query-shape.js";
import { type RowScatterMemory, scatterRows, TermNeedsCache } from "./row-scatter.js";
import { planScatter, type ScatterPlan } from "./scatter-validation.js";
import { type BuiltQuery, ShardRunner } from "./shard-runner.js";
import type { CollationWeights } from "./text-weights.js";

/**
 * Runs one query on many shards in parallel and merges the answers as one server would have
 * answered the same query over all their rows, or refuses it when it cannot.
 */
export class Scatter {
  readonly #ctx: RouterContext;
  readonly #collations = new Map<string, Promise<CollationWeights>>();
  readonly #memory: RowScatterMemory = {
    termNeeds: new TermNeedsCache(),
    sql: new ClauseCache(),
  };
  /** Each query's shape, by the query function's text. */
  readonly #shapes = new ClauseCache();

  constructor(ctx: RouterContext) {
    this.#ctx = ctx;
  }

  async run<T>(options: ScatterOptions): Promise<ScatterResult<T>> {
    this.#ctx.assertOpen();
    const plan = planScatter(options);
    if (Object.prototype.toString.call(plan.query) === "[object AsyncFunction]") {
      // Awaiting a knex builder runs it, so an async query function has already sent its query
      // by the time it returns.
      throw new RouterError(
        "BAD_ARGUMENT",
        "scatter: query must be a plain function that returns the knex query builder, not an async function; drop async and return knex(table)... without awaiting it",
        { details: { option: "query" } },
      );
    }
    const map = this.#ctx.directory.map;
    const shards = resolveDestination(
      map,
      plan.range === undefined ? { kind: "allShards" } : { kind: "keyRange", range: plan.range },
    ).map((d) => d.shard);

    // Every shard's query is built and checked before any is sent.
    const failed: ShardFailure[] = [];
    const built: BuiltQuery[] = [];
    // Shards holding copies of a moving range's rows; empty unless a move is active.
    const copies = copiesByShard(map);
    for (const shard of shards) {
      const b = this.#build(plan, shard, failed, map, copies.get(shard));
      if (b) built.push(b);
    }
    const metrics = this.#ctx.metrics;
    metrics.fanOut(built.length);
    for (const b of built) metrics.query(b.shard, "scatter");
    const runner = new ShardRunner(plan.allowPartial, failed, this.#collations);
    const connections = (shard: string) => this.#ctx.connections(shard);
    let rows: unknown[];
    try {
      if (failed.length > 0) runner.check(built.length);
      rows = plan.aggregate
        ? await scatterAggregates(runner, plan, plan.aggregate, built, connections)
        : await scatterRows(runner, plan, built, this.#memory, connections);
    } catch (error) {
      countFailures(metrics, failed, error);
      throw error;
    }
    countFailures(metrics, failed, undefined);
    return { rows: rows as T[], failed };
  }

  #build(
    plan: ScatterPlan,
    shard: string,
    failed: ShardFailure[],
    map: DirectoryMap,
    copies: readonly CopyScope[] | undefined,
  ): BuiltQuery | undefined {
    const connections = this.#ctx.connections(shard);
    const knex = connections.reader;
    let qb: unknown;
    try {
      qb = plan.query(knex, shard);
    } catch (error) {
      failed.push({ shard, error: scatterFailure(error, shard) });
      return undefined;
    }
    if (!isQueryBuilder(qb)) {
      // A promise that settles later must not become an unhandled rejection.
      if (qb instanceof Promise) qb.catch(() => undefined);
      throw new RouterError(
        "BAD_ARGUMENT",
        `scatter: query must return a knex query builder such as knex("users").where(...), got ${describe(qb)}; return the builder itself, not a raw query, a promise or its result`,
        { details: { option: "query", shard } },
      );
    }
    const keyColumnOf = (t: string) => map.table(t)?.keyColumn;
    // A table's key column comes from the directory, which may have changed since.
    const shape = this.#shapes.get(
      knex,
      plan.queryText,
      qb,
      () => queryShape(qb, keyColumnOf),
      (s) => s.keyColumn === (s.table === undefined ? undefined : keyColumnOf(s.table)),
    );
    const why = refusal(shape, plan.aggregate !== undefined);
    if (why) {
      throw new RouterError("BAD_ARGUMENT", `scatter: the query ${why}`, {
        details: { option: "query", shard },
      });
    }
    if (!copies) return { shard, connections, knex, qb, shape };
    const groupsRows = plan.aggregate === undefined && summarises(shape);
    return {
      shard,
      connections,
      knex,
      qb,
      shape,
      copies: shardCopies(map, shard, copies, shape, qb, groupsRows, this.#ctx.columnKey),
    };
  }
}

/** Counts each shard's failure, or the scatter's own when no shard failed. */
function countFailures(
  metrics: RouterMetrics,
  failed: readonly ShardFailure[],
  error: unknown,
): void {
  for (const f of failed) metrics.error(f.shard, "scatter", codeOf(f.error));
  if (error !== undefined && failed.length === 0) metrics.error("none", "scatter", codeOf(error));
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : "INTERNAL";
}

function describe(v: unknown): string {
  if (v === undefined || v === null) return String(v);
  if (v instanceof Promise) return "a promise";
  if (typeof v === "object" && (v as { isRawInstance?: unknown }).isRawInstance)
    return "knex.raw(...)";
  return typeof v;
}
