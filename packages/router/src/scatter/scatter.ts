import type { Knex } from "knex";
import { resolveDestination } from "../destination.js";
import { isQueryBuilder } from "../knex/knex-internals.js";
import type { RouterContext } from "../router-context.js";
import { RouterError, ScatterError, type ShardFailure } from "../router-errors.js";
import type { ScatterOptions, ScatterResult } from "../router-options.js";
import { scatterFailure } from "../shard-errors.js";
import type { ShardConnections } from "../shard-pools.js";
import {
  type MergedRow,
  type MergedTable,
  mergeAggregates,
  type PlannedAggregate,
} from "./aggregates.js";
import { havingWeight, satisfies } from "./having.js";
import { isKeyColumn, type QueryShape, queryShape, refusal } from "./query-shape.js";
import {
  mergedColumn,
  requireMergeable,
  type ShardAnswer,
  textCollations,
} from "./result-columns.js";
import {
  mergeSorted,
  mergeSortedArrays,
  rowComparator,
  type SortKey,
  stripHelpers,
} from "./row-order.js";
import { type AggregatePlan, planScatter, type ScatterPlan } from "./scatter-validation.js";
import { aggregateShardSql, orderHelper, rowShardSql } from "./shard-query.js";
import { openStream, type RowStream, readAll, type ShardSql } from "./shard-reads.js";
import { type CollationWeights, probeCollation } from "./text-weights.js";

/** Pages up to this many rows per shard are merged from fetched arrays; larger ones stream. */
const BUFFERED_MERGE_LIMIT = 10_000;

type Row = Record<string, unknown>;

/** One shard's query, built and checked, not yet sent. */
interface BuiltQuery {
  readonly shard: string;
  readonly connections: ShardConnections;
  readonly knex: Knex;
  readonly qb: Knex.QueryBuilder;
  readonly shape: QueryShape;
}

/**
 * Runs one query on many shards in parallel and merges the answers as one server would have
 * answered the same query over all their rows, or refuses it when it cannot.
 */
export class Scatter {
  readonly #ctx: RouterContext;
  readonly #collations = new Map<string, Promise<CollationWeights>>();

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
    const shards = resolveDestination(
      this.#ctx.directory.map,
      plan.range === undefined ? { kind: "allShards" } : { kind: "keyRange", range: plan.range },
    ).map((d) => d.shard);

    // Every shard's query is built and checked before any is sent.
    const failed: ShardFailure[] = [];
    const built: BuiltQuery[] = [];
    for (const shard of shards) {
      const b = this.#build(plan, shard, failed);
      if (b) built.push(b);
    }
    if (failed.length > 0 && (!plan.allowPartial || built.length === 0))
      throw new ScatterError(failed);

    const rows = plan.aggregate
      ? await this.#aggregate(plan, plan.aggregate, built, failed)
      : await this.#rows(plan, built, failed);
    return { rows: rows as T[], failed };
  }

  #build(plan: ScatterPlan, shard: string, failed: ShardFailure[]): BuiltQuery | undefined {
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
    const map = this.#ctx.directory.map;
    const shape = queryShape(qb, (t) => map.table(t)?.keyColumn);
    const why = refusal(shape, plan.aggregate !== undefined);
    if (why) {
      throw new RouterError("BAD_ARGUMENT", `scatter: the query ${why}`, {
        details: { option: "query", shard },
      });
    }
    return { shard, connections, knex, qb, shape };
  }

  async #rows(
    plan: ScatterPlan,
    built: readonly BuiltQuery[],
    failed: ShardFailure[],
  ): Promise<Row[]> {
    const { offset, limit } = plan;
    const perShardLimit = limit === undefined ? undefined : limit + offset;
    const sql = new Map(
      built.map((b) => [b.shard, rowShardSql(b.knex, b.qb, b.shape, plan.orderBy, perShardLimit)]),
    );
    const page = (rows: Row[]) =>
      rows.slice(offset, limit === undefined ? undefined : offset + limit);
    if (plan.orderBy.length === 0) {
      const answers = await this.#readAll(plan, built, failed, (b) => sql.get(b.shard) as ShardSql);
      return page(answers.flatMap((a) => a.rows as Row[]));
    }
    // Bounded pages are fetched whole (at most limit + offset rows a shard) and merged in
    // memory; larger or unbounded ones stream, one pending row per shard.
    if (perShardLimit !== undefined && perShardLimit <= BUFFERED_MERGE_LIMIT) {
      const answers = await this.#readAll(plan, built, failed, (b) => sql.get(b.shard) as ShardSql);
      const compare = rowComparator(await this.#sortKeys(plan, answers));
      const sources = answers.map((a) => a.rows as Row[]);
      return mergeSortedArrays(sources, compare, offset, limit).map(stripHelpers);
    }
    const streams = await this.#openStreams(
      plan,
      built,
      failed,
      (b) => sql.get(b.shard) as ShardSql,
    );
    const answers = streams.map((s) => ({
      shard: s.shard,
      rows: s.stream.first ? [s.stream.first] : [],
      fields: s.stream.fields,
    }));
    const out: Row[] = [];
    let finished = false;
    try {
      const compare = rowComparator(await this.#sortKeys(plan, answers));
      const sources = streams.map((s) => tagged(s.shard, s.stream));
      for await (const row of mergeSorted(sources, compare, offset, limit))
        out.push(stripHelpers(row));
      finished = true;
    } finally {
      // After a full merge, read what each shard still sends (at most limit + offset rows, by its
      // LIMIT) so every connection goes back to its pool idle; after a failure, close them.
      if (finished)
        await Promise.all(streams.map((s) => s.stream.drain().catch(() => s.stream.abort())));
      else for (const s of streams) s.stream.abort();
    }
    return out;
  }

  async #sortKeys(plan: ScatterPlan, answers: readonly ShardAnswer[]): Promise<SortKey<Row>[]> {
    const collations = await this.#collationsOf(
      answers,
      plan.orderBy.map((_, i) => orderHelper.value(i)),
    );
    return plan.orderBy.map((t, i) => {
      const v = orderHelper.value(i);
      const w = orderHelper.weight(i);
      const column = mergedColumn(answers, v, collations, t.column);
      requireMergeable(column, t.column, "order");
      return { order: column, desc: t.desc, value: (r: Row) => r[v], weight: (r: Row) => r[w] };
    });
  }

  async #aggregate(
    plan: ScatterPlan,
    agg: AggregatePlan,
    built: readonly BuiltQuery[],
    failed: ShardFailure[],
  ): Promise<Row[]> {
    // A countDistinct of the table's shard key is exact per shard; any other needs the values.
    const aggregates: PlannedAggregate[] = agg.aggregates.map((a) => ({
      ...a,
      perShardDistinct:
        a.fn === "countDistinct" &&
        built.length > 0 &&
        built.every((b) => isKeyColumn(b.shape, a.column as string)),
    }));
    const sql = new Map(
      built.map((b) => [b.shard, aggregateShardSql(b.knex, b.qb, agg, aggregates)]),
    );
    const settled = await Promise.allSettled(
      built.map(async (b) => {
        const q = sql.get(b.shard) as ReturnType<typeof aggregateShardSql>;
        const pool = b.connections.scatterReader;
        const [main, ...distinct] = await Promise.all([
          readAll(pool, q.main),
          ...[...q.distinct.values()].map((d) => readAll(pool, d)),
        ]);
        return { main, distinct };
      }),
    );
    const answers: ShardAnswer[] = [];
    const distinctValues = new Map<number, ShardAnswer[]>();
    settled.forEach((res, i) => {
      const shard = (built[i] as BuiltQuery).shard;
      if (res.status === "rejected") {
        failed.push({ shard, error: scatterFailure(res.reason, shard) });
        return;
      }
      answers.push({ shard, ...res.value.main });
      [...(sql.get(shard)?.distinct.keys() ?? [])].forEach((j, k) => {
        const list = distinctValues.get(j) ?? [];
        list.push({ shard, ...(res.value.distinct[k] as { rows: Row[]; fields: never[] }) });
        distinctValues.set(j, list);
      });
    });
    this.#checkFailures(plan, answers.length, failed);

    const helperNames = [
      ...agg.groups.map((_, i) => `__shardkit_g${i}`),
      ...aggregates.map((_, j) => `__shardkit_a${j}`),
    ];
    const collations = await this.#collationsOf(
      [...answers, ...[...distinctValues.values()].flat()],
      [...helperNames, "__shardkit_dv"],
    );
    const table = mergeAggregates(agg.groups, aggregates, answers, distinctValues, collations);
    let rows = table.rows;
    if (typeof agg.having === "function") {
      const keep = agg.having;
      rows = rows.filter((r) => keep(toRow(table, r)));
    } else if (agg.having) {
      const conditions = agg.having.map((c, k) => {
        const index =
          c.output.source === "group" ? c.output.index : agg.groups.length + c.output.index;
        const weight = answers
          .flatMap((a) => a.rows)
          .map((r) => r[havingWeight(k)])
          .find((w) => w !== null && w !== undefined);
        return { ...c, index, weight };
      });
      rows = rows.filter((r) =>
        conditions.every((c) =>
          satisfies(
            table.columns[c.index]?.order ?? { kind: "null" },
            c.output.name,
            r.values[c.index],
            r.weights[c.index],
            c.op,
            c.value,
            c.weight,
          ),
        ),
      );
    }
    if (agg.order.length > 0) {
      const keys: SortKey<MergedRow>[] = agg.order.map((t) => {
        const index =
          t.output.source === "group" ? t.output.index : agg.groups.length + t.output.index;
        const column = table.columns[index] as MergedTable["columns"][number];
        requireMergeable(
          { ...column.order, field: undefined, decimals: 0 },
          t.output.name,
          "order",
        );
        return {
          order: column.order,
          desc: t.desc,
          value: (r) => r.values[index],
          weight: (r) => r.weights[index],
        };
      });
      rows.sort(rowComparator(keys));
    }
    const { offset, limit } = plan;
    return rows
      .slice(offset, limit === undefined ? undefined : offset + limit)
      .map((r) => toRow(table, r));
  }

  /** Fails when no shard answered, or when one failed and the caller did not allow partial answers. */
  #checkFailures(plan: ScatterPlan, answered: number, failed: readonly ShardFailure[]): void {
    if (failed.length > 0 && (!plan.allowPartial || answered === 0)) throw new ScatterError(failed);
  }

  async #readAll(
    plan: ScatterPlan,
    built: readonly BuiltQuery[],
    failed: ShardFailure[],
    sqlOf: (b: BuiltQuery) => ShardSql,
  ): Promise<ShardAnswer[]> {
    const settled = await Promise.allSettled(
      built.map((b) => readAll(b.connections.scatterReader, sqlOf(b))),
    );
    const answers: ShardAnswer[] = [];
    settled.forEach((res, i) => {
      const shard = (built[i] as BuiltQuery).shard;
      if (res.status === "fulfilled") answers.push({ shard, ...res.value });
      else failed.push({ shard, error: scatterFailure(res.reason, shard) });
    });
    this.#checkFailures(plan, answers.length, failed);
    return answers;
  }

  async #openStreams(
    plan: ScatterPlan,
    built: readonly BuiltQuery[],
    failed: ShardFailure[],
    sqlOf: (b: BuiltQuery) => ShardSql,
  ): Promise<{ shard: string; stream: RowStream }[]> {
    const settled = await Promise.allSettled(
      built.map((b) => openStream(b.connections.scatterReader, sqlOf(b))),
    );
    const streams: { shard: string; stream: RowStream }[] = [];
    settled.forEach((res, i) => {
      const shard = (built[i] as BuiltQuery).shard;
      if (res.status === "fulfilled") streams.push({ shard, stream: res.value });
      else failed.push({ shard, error: scatterFailure(res.reason, shard) });
    });
    try {
      this.#checkFailures(plan, streams.length, failed);
    } catch (error) {
      for (const s of streams) s.stream.abort();
      throw error;
    }
    return streams;
  }

  /** The merge's knowledge of each collation used by the text columns among `names`, asked once per shard. */
  async #collationsOf(
    answers: readonly ShardAnswer[],
    names: readonly string[],
  ): Promise<Map<string, CollationWeights>> {
    const out = new Map<string, CollationWeights>();
    await Promise.all(
      [...textCollations(answers, names)].map(async ([name, shard]) => {
        const key = `${shard}#${name}`;
        let probe = this.#collations.get(key);
        if (!probe) {
          const pool = this.#ctx.connections(shard).scatterReader;
          probe = probeCollation(
            async (sql, values) => (await readAll(pool, { sql, values })).rows,
            name,
          );
          probe.catch(() => this.#collations.delete(key));
          this.#collations.set(key, probe);
        }
        try {
          out.set(name, await probe);
        } catch (error) {
          throw new ScatterError([{ shard, error: scatterFailure(error, shard) }]);
        }
      }),
    );
    return out;
  }
}

/** A merged group as one server returns it: groups then aggregates, by output name. */
function toRow(table: MergedTable, r: MergedRow): Row {
  const row: Row = {};
  table.columns.forEach((c, i) => {
    row[c.name] = r.values[i];
  });
  return row;
}

/** A shard's stream whose failures name the shard. */
function tagged(shard: string, stream: RowStream): AsyncIterator<Row> {
  return {
    next: async () => {
      try {
        return await stream.next();
      } catch (error) {
        throw new ScatterError([{ shard, error: scatterFailure(error, shard) }]);
      }
    },
  };
}

function describe(v: unknown): string {
  if (v === undefined || v === null) return String(v);
  if (v instanceof Promise) return "a promise";
  if (typeof v === "object" && (v as { isRawInstance?: unknown }).isRawInstance)
    return "knex.raw(...)";
  return typeof v;
}
