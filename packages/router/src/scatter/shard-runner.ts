// Sends a scatter's built queries to their shards and collects the answers: a shard that fails
// becomes a ShardFailure (QUERY_FAILED or SHARD_UNAVAILABLE); the scatter fails unless the
// caller allowed partial answers and at least one shard answered.
import type { Knex } from "knex";
import { ScatterError, type ShardFailure } from "../router-errors.js";
import { scatterFailure } from "../shard-errors.js";
import type { ShardConnections } from "../shard-pools.js";
import type { QueryShape } from "./query-shape.js";
import { type ShardAnswer, textCollations } from "./result-columns.js";
import { openStream, type RowStream, readAll, type ShardSql } from "./shard-reads.js";
import { type CollationWeights, probeCollation } from "./text-weights.js";

/** One shard's query, built and checked, not yet sent. */
export interface BuiltQuery {
  readonly shard: string;
  readonly connections: ShardConnections;
  readonly knex: Knex;
  readonly qb: Knex.QueryBuilder;
  readonly shape: QueryShape;
}

/** A shard's open stream of rows. */
export interface ShardStream {
  readonly shard: string;
  readonly stream: RowStream;
}

/** Sends one scatter's queries and gathers answers and failures. */
export class ShardRunner {
  constructor(
    private readonly allowPartial: boolean,
    /** Failures so far; the scatter returns them with allowPartial. */
    readonly failed: ShardFailure[],
    private readonly collationCache: Map<string, Promise<CollationWeights>>,
  ) {}

  /** Fails when no shard answered, or when one failed and partial answers are not allowed. */
  check(answered: number): void {
    if (this.failed.length > 0 && (!this.allowPartial || answered === 0))
      throw new ScatterError(this.failed);
  }

  /** Runs `work` on every shard in parallel; returns the results of those that succeeded. */
  async each<T>(
    built: readonly BuiltQuery[],
    work: (b: BuiltQuery) => Promise<T>,
  ): Promise<{ shard: string; value: T }[]> {
    const settled = await Promise.allSettled(built.map(work));
    const out: { shard: string; value: T }[] = [];
    settled.forEach((res, i) => {
      const shard = (built[i] as BuiltQuery).shard;
      if (res.status === "fulfilled") out.push({ shard, value: res.value });
      else this.failed.push({ shard, error: scatterFailure(res.reason, shard) });
    });
    this.check(out.length);
    return out;
  }

  /** Runs each shard's SQL and returns the answers of those that answered. */
  async readAll(
    built: readonly BuiltQuery[],
    sqlOf: (b: BuiltQuery) => ShardSql,
  ): Promise<ShardAnswer[]> {
    const done = await this.each(built, (b) => readAll(b.connections.scatterReader, sqlOf(b)));
    return done.map((d) => ({ shard: d.shard, ...d.value }));
  }

  /** Starts each shard's SQL as a stream; on failure, closes the streams that opened. */
  async openStreams(
    built: readonly BuiltQuery[],
    sqlOf: (b: BuiltQuery) => ShardSql,
  ): Promise<ShardStream[]> {
    const settled = await Promise.allSettled(
      built.map((b) => openStream(b.connections.scatterReader, sqlOf(b))),
    );
    const streams: ShardStream[] = [];
    settled.forEach((res, i) => {
      const shard = (built[i] as BuiltQuery).shard;
      if (res.status === "fulfilled") streams.push({ shard, stream: res.value });
      else this.failed.push({ shard, error: scatterFailure(res.reason, shard) });
    });
    try {
      this.check(streams.length);
    } catch (error) {
      for (const s of streams) s.stream.abort();
      throw error;
    }
    return streams;
  }

  /**
   * What the merge must know of each collation used by the text columns among `columns`,
   * asked once per shard and collation for the router's life.
   */
  async collationsOf(
    answers: readonly ShardAnswer[],
    columns: readonly { readonly value: string; readonly collation: string }[],
    connections: (shard: string) => ShardConnections,
  ): Promise<Map<string, CollationWeights>> {
    const out = new Map<string, CollationWeights>();
    const used = textCollations(answers, columns);
    if (used.size === 0) return out;
    await Promise.all(
      [...used].map(async ([name, shard]) => {
        const key = `${shard}#${name}`;
        let probe = this.collationCache.get(key);
        if (!probe) {
          const pool = connections(shard).scatterReader;
          probe = probeCollation(
            async (sql, values) => (await readAll(pool, { sql, values })).rows,
            name,
          );
          probe.catch(() => this.collationCache.delete(key));
          this.collationCache.set(key, probe);
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

/** A shard's stream whose failures name the shard. */
export function tagged<R>(s: ShardStream): AsyncIterator<R> {
  return {
    next: async () => {
      try {
        return (await s.stream.next()) as IteratorResult<R>;
      } catch (error) {
        throw new ScatterError([{ shard: s.shard, error: scatterFailure(error, s.shard) }]);
      }
    },
  };
}
