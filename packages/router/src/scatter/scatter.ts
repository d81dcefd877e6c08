import type { Knex } from "knex";
import { resolveDestination } from "../destination.js";
import { builderTable, hasColumns } from "../knex/knex-internals.js";
import type { RouterContext } from "../router-context.js";
import { ScatterError, type ShardFailure } from "../router-errors.js";
import type { ScatterOptions, ScatterResult } from "../router-options.js";
import { wrapShardError } from "../shard-errors.js";
import { groupWeightAlias, mergeAggregates, shardAggregates } from "./aggregates.js";
import {
  mergeSorted,
  mergeSortedArrays,
  rowComparator,
  stripHelpers,
  weightAlias,
} from "./row-order.js";

/** Column types whose order depends on a collation. */
const TEXT_TYPES = new Set([
  "char",
  "varchar",
  "tinytext",
  "text",
  "mediumtext",
  "longtext",
  "enum",
  "set",
  "json",
]);
/** Pages up to this many rows per shard are merged from fetched arrays; larger ones stream. */
const BUFFERED_MERGE_LIMIT = 10_000;

/** Runs one query on many shards in parallel and merges the answers as one server would. */
export class Scatter {
  readonly #ctx: RouterContext;
  readonly #columnTypes = new Map<string, Promise<Map<string, string>>>();

  constructor(ctx: RouterContext) {
    this.#ctx = ctx;
  }

  async run<T>(options: ScatterOptions): Promise<ScatterResult<T>> {
    this.#ctx.assertOpen();
    const map = this.#ctx.directory.map;
    const shards = resolveDestination(
      map,
      options.range === undefined
        ? { kind: "allShards" }
        : { kind: "keyRange", range: options.range },
    ).map((d) => d.shard);
    const offset = options.offset ?? 0;
    const limit = options.limit;
    const perShardLimit = limit === undefined ? undefined : limit + offset;
    const failed: ShardFailure[] = [];
    let rows: Record<string, unknown>[];

    if (options.aggregates) {
      const groupBy = options.groupBy ?? [];
      const parts = await this.#eachShard(shards, failed, async (shard, knex) => {
        const qb = options.query(knex, shard);
        const text = await this.#needsWeight(knex, qb, groupBy);
        qb.clearSelect();
        groupBy.forEach((c, i) => {
          qb.select(c);
          if (text[i]) qb.select(knex.raw("WEIGHT_STRING(??) AS ??", [c, groupWeightAlias(i)]));
        });
        for (const a of shardAggregates(options.aggregates ?? {})) {
          qb.select(
            knex.raw(
              `${a.sql}(${a.column ? "??" : "*"}) AS ??`,
              a.column ? [a.column, a.alias] : [a.alias],
            ),
          );
        }
        if (groupBy.length > 0) qb.groupBy([...groupBy]);
        return (await qb) as Record<string, unknown>[];
      });
      rows = mergeAggregates(parts, options.aggregates, groupBy).map(stripHelpers);
      if (options.orderBy) rows.sort(rowComparator(options.orderBy));
      rows = rows.slice(offset, limit === undefined ? undefined : offset + limit);
    } else if (options.orderBy && options.orderBy.length > 0) {
      const terms = options.orderBy;
      const compare = rowComparator(terms);
      // Bounded pages are fetched whole (at most limit + offset rows a shard) and merged in
      // memory; larger or unbounded ones stream, one pending row per shard.
      const buffered = perShardLimit !== undefined && perShardLimit <= BUFFERED_MERGE_LIMIT;
      const sources = await this.#eachShard(shards, failed, async (shard, knex) => {
        const qb = options.query(knex, shard);
        const text = await this.#needsWeight(
          knex,
          qb,
          terms.map((t) => t.column),
        );
        if (!hasColumns(qb)) qb.select("*");
        terms.forEach((t, i) => {
          if (text[i]) qb.select(knex.raw("WEIGHT_STRING(??) AS ??", [t.column, weightAlias(i)]));
          qb.orderBy(t.column, t.order ?? "asc");
        });
        if (perShardLimit !== undefined) qb.limit(perShardLimit);
        if (buffered) return (await qb) as Record<string, unknown>[];
        const it = qb.stream()[Symbol.asyncIterator]() as AsyncIterator<Record<string, unknown>>;
        // Fail now, not mid-merge, when the shard cannot run the query at all.
        let pending: IteratorResult<Record<string, unknown>> | undefined = await it.next();
        return {
          next: async () => {
            const p = pending;
            pending = undefined;
            return p ?? it.next();
          },
        } as AsyncIterator<Record<string, unknown>>;
      });
      if (buffered) {
        rows = mergeSortedArrays(sources as Record<string, unknown>[][], compare, offset, limit);
      } else {
        const iterators = sources as AsyncIterator<Record<string, unknown>>[];
        rows = [];
        try {
          for await (const row of mergeSorted(iterators, compare, offset, limit)) rows.push(row);
        } finally {
          // Read what each shard still sends (at most limit + offset rows, by its LIMIT) so
          // every connection goes back to its pool idle.
          await Promise.all(
            iterators.map(async (it) => {
              for (let r = await it.next(); !r.done; r = await it.next()) {
                // discard
              }
            }),
          ).catch(() => undefined);
        }
      }
      rows = rows.map(stripHelpers);
    } else {
      const parts = await this.#eachShard(shards, failed, async (shard, knex) => {
        const qb = options.query(knex, shard);
        if (perShardLimit !== undefined) qb.limit(perShardLimit);
        return (await qb) as Record<string, unknown>[];
      });
      rows = parts.flat().slice(offset, limit === undefined ? undefined : offset + limit);
    }

    if (failed.length > 0 && !options.allowPartial) throw new ScatterError(failed);
    return { rows: rows as T[], failed };
  }

  /**
   * For each column, whether ORDER BY / GROUP BY on it needs MySQL's collation weight to merge
   * exactly: text columns do; numbers, dates and bytes compare correctly in JavaScript. Column
   * types are read once per table from information_schema; unknown columns get the weight.
   */
  async #needsWeight(
    knex: Knex,
    qb: Knex.QueryBuilder,
    columns: readonly string[],
  ): Promise<boolean[]> {
    const table = builderTable(qb);
    if (table === undefined || columns.length === 0) return columns.map(() => true);
    let types = this.#columnTypes.get(table);
    if (!types) {
      types = knex
        .select("COLUMN_NAME as name", "DATA_TYPE as type")
        .from("information_schema.COLUMNS")
        .whereRaw("TABLE_SCHEMA = DATABASE()")
        .andWhere("TABLE_NAME", table)
        .then(
          (rows: { name: string; type: string }[]) =>
            new Map(rows.map((r) => [r.name.toLowerCase(), r.type.toLowerCase()])),
        );
      types.catch(() => this.#columnTypes.delete(table));
      this.#columnTypes.set(table, types);
    }
    const known = await types.catch(() => new Map<string, string>());
    return columns.map((c) => {
      const type = known.get(c.replace(/^.*\./, "").toLowerCase());
      return type === undefined || TEXT_TYPES.has(type);
    });
  }

  async #eachShard<R>(
    shards: readonly string[],
    failed: ShardFailure[],
    run: (shard: string, knex: Knex) => Promise<R>,
  ): Promise<R[]> {
    const settled = await Promise.allSettled(
      shards.map((s) => run(s, this.#ctx.connections(s).reader)),
    );
    const out: R[] = [];
    settled.forEach((res, i) => {
      if (res.status === "fulfilled") out.push(res.value);
      else {
        const error = wrapShardError(res.reason, shards[i] as string);
        failed.push({
          shard: shards[i] as string,
          error: error instanceof Error ? error : new Error(String(error)),
        });
      }
    });
    return out;
  }
}
