// A row scatter: rows concatenated, or, with orderBy, each shard sorts (and limits to
// limit + offset) and a k-way merge yields the global order. Each ORDER BY term's helper
// columns (collation weight, collation name) are only selected for the kinds that need them:
// the kinds a query's terms had last time are remembered, and a run whose columns turn out to
// need more (a schema change) is sent again with every helper.
import type { ShardConnections } from "../shard-pools.js";
import type { ClauseCache } from "./clause-cache.js";
import { columnKind } from "./column-kinds.js";
import { keptRows, ownedAnswers } from "./owned-rows.js";
import { mergedColumn, requireMergeable, type ShardAnswer } from "./result-columns.js";
import {
  mergeSorted,
  mergeSortedArrays,
  rowComparator,
  type SortKey,
  stripHelpers,
} from "./row-order.js";
import type { ScatterPlan } from "./scatter-validation.js";
import {
  type RowShardQuery,
  rowShardSql,
  type TermColumns,
  type TermNeeds,
} from "./shard-query.js";
import { type BuiltQuery, type ShardRunner, type ShardStream, tagged } from "./shard-runner.js";

type Row = Record<string, unknown>;

/** Pages up to this many rows per shard are merged from fetched arrays; larger ones stream. */
const BUFFERED_MERGE_LIMIT = 10_000;
/** Query shapes whose term kinds are remembered. */
const REMEMBERED_SHAPES = 500;

/** The helpers each ORDER BY term of a query shape needed last time, by shape. */
export class TermNeedsCache {
  readonly #byShape = new Map<string, readonly TermNeeds[]>();

  get(key: string): readonly TermNeeds[] | undefined {
    return this.#byShape.get(key);
  }

  set(key: string, needs: readonly TermNeeds[]): void {
    this.#byShape.delete(key);
    this.#byShape.set(key, needs);
    if (this.#byShape.size > REMEMBERED_SHAPES) {
      const oldest = this.#byShape.keys().next().value as string;
      this.#byShape.delete(oldest);
    }
  }
}

/** What row scatters remember between runs. */
export interface RowScatterMemory {
  readonly termNeeds: TermNeedsCache;
  /** Each shard's compiled SQL. */
  readonly sql: ClauseCache;
}

/** Runs a row scatter over the built queries and returns the merged page. */
export async function scatterRows(
  runner: ShardRunner,
  plan: ScatterPlan,
  built: readonly BuiltQuery[],
  memory: RowScatterMemory,
  connections: (shard: string) => ShardConnections,
): Promise<Row[]> {
  const { offset, limit } = plan;
  const perShardLimit = limit === undefined ? undefined : limit + offset;
  if (built.length === 0) return [];
  const { termNeeds: cache, sql: compiled } = memory;
  // Some shard holds copies of a moving range's rows (only while a move runs).
  const copying = built.some((b) => b.copies);
  if (plan.orderBy.length === 0) {
    const sqlKey = `${perShardLimit}`;
    const copySql = (b: BuiltQuery, l: number | undefined) =>
      rowShardSql(b.knex, b.qb, b.shape, [], l, undefined, b.copies?.keys).sql;
    let answers = await runner.readAll(built, (b) =>
      b.copies
        ? copySql(b, perShardLimit)
        : compiled.get(b.knex, sqlKey, b.qb, () =>
            rowShardSql(b.knex, b.qb, b.shape, [], perShardLimit),
          ).sql,
    );
    if (copying) answers = await ownedAnswers(runner, built, answers, perShardLimit, copySql);
    const rows = answers.flatMap((a) => a.rows as Row[]);
    const page = rows.slice(offset, limit === undefined ? undefined : offset + limit);
    return copying ? page.map(stripHelpers) : page;
  }
  // The query function's text and the terms name the shape; a stale entry costs one more run.
  const key = `${plan.queryText}\u0000${JSON.stringify(plan.orderBy)}`;
  const remembered = cache.get(key);
  for (const needs of remembered ? [remembered, undefined] : [undefined]) {
    // mysql2 sends a pool's query on the next tick, so compiling every shard's SQL first delays
    // no shard, and a query that cannot be compiled stops the scatter before any is sent.
    const queries = new Map<string, RowShardQuery>();
    const sqlKey = `${key}\u0000${perShardLimit}\u0000${needsKey(needs)}`;
    const buffered = perShardLimit !== undefined && perShardLimit <= BUFFERED_MERGE_LIMIT;
    const compile =
      (b: BuiltQuery, l = perShardLimit) =>
      () =>
        rowShardSql(b.knex, b.qb, b.shape, plan.orderBy, l, needs, b.copies?.keys);
    const sqlOf = (b: BuiltQuery) => {
      // A streamed shard holding copies reads without LIMIT: the merge takes what it needs.
      const q = b.copies
        ? compile(b, buffered ? perShardLimit : undefined)()
        : compiled.get(b.knex, sqlKey, b.qb, compile(b));
      queries.set(b.shard, q);
      return q.sql;
    };
    const answers = buffered ? await runner.readAll(built, sqlOf) : undefined;
    const streams = buffered ? [] : await runner.openStreams(built, sqlOf);
    const terms = sameTerms([...queries.values()]);
    if (needs && !terms) {
      for (const s of streams) s.stream.abort();
      continue;
    }
    const seen =
      answers ??
      streams.map((s) => ({
        shard: s.shard,
        rows: s.stream.first ? [s.stream.first] : [],
        fields: s.stream.fields,
      }));
    const columns = terms ?? (queries.values().next().value as RowShardQuery).terms;
    const observed = termNeeds(seen, columns);
    if (needs && !covers(needs, observed)) {
      for (const s of streams) s.stream.abort();
      continue;
    }
    if (!remembered || !covers(observed, remembered)) cache.set(key, observed);
    let keys: SortKey<Row>[];
    try {
      keys = await sortKeys(runner, plan, seen, columns, connections);
    } catch (error) {
      for (const s of streams) s.stream.abort();
      throw error;
    }
    const compare = rowComparator(keys);
    if (answers) {
      const owned = copying
        ? await ownedAnswers(runner, built, answers, perShardLimit, (b, l) => compile(b, l)().sql)
        : answers;
      const sources = owned.map((a) => a.rows as Row[]);
      const page = mergeSortedArrays(sources, compare, offset, limit);
      return hasHelpers(seen) ? page.map(stripHelpers) : page;
    }
    return mergeStreams(streams, built, compare, offset, limit);
  }
  throw new Error("unreachable: the last attempt selects every helper");
}

/** The helpers of every term as text, for a cache key; `*` for every helper. */
function needsKey(needs: readonly TermNeeds[] | undefined): string {
  if (!needs) return "*";
  let out = "";
  for (const n of needs) out += (n.weight ? "w" : "-") + (n.collation ? "c" : "-");
  return out;
}

/** True when the shards' rows carry the router's helper columns. */
function hasHelpers(answers: readonly ShardAnswer[]): boolean {
  return answers.some((a) => a.fields.some((f) => f.name.startsWith("__shardkit_")));
}

/** The term columns every shard's query shares, or undefined when they differ. */
function sameTerms(queries: readonly RowShardQuery[]): readonly TermColumns[] | undefined {
  const first = queries[0]?.terms ?? [];
  const same = queries.every((q) =>
    q.terms.every((t, i) => {
      const f = first[i];
      return (
        f !== undefined &&
        t.value === f.value &&
        t.weight === f.weight &&
        t.collation === f.collation
      );
    }),
  );
  return same ? first : undefined;
}

/** Which helpers each term's values need, by the kind MySQL reported on any shard. */
function termNeeds(answers: readonly ShardAnswer[], columns: readonly TermColumns[]): TermNeeds[] {
  return columns.map((c) => {
    let weight = false;
    let collation = false;
    for (const a of answers) {
      const f = a.fields.find((x) => x.name === c.value);
      const kind = f ? columnKind(f) : "unsupported";
      if (kind === "text" || kind === "enum" || kind === "set" || kind === "unsupported") {
        weight = true;
        collation = true;
      } else if (kind === "temporal") weight = true;
    }
    return { weight, collation };
  });
}

function covers(have: readonly TermNeeds[], need: readonly TermNeeds[]): boolean {
  return need.every((n, i) => {
    const h = have[i];
    return h !== undefined && (!n.weight || h.weight) && (!n.collation || h.collation);
  });
}

async function sortKeys(
  runner: ShardRunner,
  plan: ScatterPlan,
  answers: readonly ShardAnswer[],
  columns: readonly TermColumns[],
  connections: (shard: string) => ShardConnections,
): Promise<SortKey<Row>[]> {
  const collations = await runner.collationsOf(answers, columns, connections);
  return plan.orderBy.map((t, i) => {
    const c = columns[i] as TermColumns;
    const column = mergedColumn(answers, c.value, collations, t.column, c.collation);
    requireMergeable(column, t.column, "order");
    return {
      order: column,
      desc: t.desc,
      value: (r: Row) => r[c.value],
      weight: (r: Row) => r[c.weight],
    };
  });
}

async function mergeStreams(
  streams: readonly ShardStream[],
  built: readonly BuiltQuery[],
  compare: (a: Row, b: Row) => number,
  offset: number,
  limit: number | undefined,
): Promise<Row[]> {
  const out: Row[] = [];
  let finished = false;
  const copies = new Map(built.map((b) => [b.shard, b.copies]));
  try {
    const sources = streams.map((s) => {
      const rows = tagged<Row>(s);
      const c = copies.get(s.shard);
      return c ? keptRows(rows, (r) => c.keep(r)) : rows;
    });
    for await (const row of mergeSorted(sources, compare, offset, limit))
      out.push(stripHelpers(row));
    finished = true;
  } finally {
    // After a full merge, read what each shard still sends (at most limit + offset rows, by its
    // LIMIT) so every connection goes back to its pool idle; after a failure, close them. A
    // shard holding copies was read without LIMIT: its rest is not read but closed.
    if (finished)
      await Promise.all(
        streams.map((s) =>
          copies.get(s.shard) ? s.stream.abort() : s.stream.drain().catch(() => s.stream.abort()),
        ),
      );
    else for (const s of streams) s.stream.abort();
  }
  return out;
}
