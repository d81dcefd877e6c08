// Sends a scatter's built queries to their shards and collects the answers: a shard that fails
// becomes a ShardFailure (QUERY_FAILED or SHARD_UNAVAILABLE); the scatter fails unless the
// caller allowed partial answers and at least one shard answered.
import type { Knex } from "knex";
import { ScatterError, type ShardFailure } from "../router-errors.js";
import { scatterFailure } from "../shard-errors.js";
import type { ShardConnections } from "../shard-pools.js";
import type { ShardCopies } from "./copy-filter.js";
import type { QueryShape } from "./query-shape.js";
import { type ShardAnswer, textCollations } from "./result-columns.js";
import {
  openStream,
  type ReadResult,
  type RowStream,
  readAll,
  type ShardSql,
  sendQuery,
} from "./shard-reads.js";
import { type CollationWeights, probeCollation } from "./text-weights.js";

/** One shard's query, built and checked, not yet sent. */
export interface BuiltQuery {
  readonly shard: string;
  readonly connections: ShardConnections;
  readonly knex: Knex;
  readonly qb: Knex.QueryBuilder;
  readonly shape: QueryShape;
  /** Set on a shard holding copies of a moving range's rows: how its query drops them. */
  readonly copies?: ShardCopies;
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

  /**
   * Runs each shard's SQL, every one compiled before any is sent, and returns the answers of
   * those that answered, in shard order.
   */
  readAll(
    built: readonly BuiltQuery[],
    sqlOf: (b: BuiltQuery) => ShardSql,
  ): Promise<ShardAnswer[]> {
    const sqls = built.map(sqlOf);
    return new Promise((resolve, reject) => {
      const n = built.length;
      const answers: (ShardAnswer | undefined)[] = new Array(n);
      const errors: unknown[] = new Array(n);
      let pending = n;
      const finish = () => {
        const out: ShardAnswer[] = [];
        for (let i = 0; i < n; i++) {
          const a = answers[i];
          if (a) out.push(a);
          else {
            const shard = (built[i] as BuiltQuery).shard;
            this.failed.push({ shard, error: scatterFailure(errors[i], shard) });
          }
        }
        try {
          this.check(out.length);
          resolve(out);
        } catch (error) {
          reject(error);
        }
      };
      if (n === 0) finish();
      for (let i = 0; i < n; i++) {
        const b = built[i] as BuiltQuery;
        const done = (error: unknown, result?: ReadResult) => {
          if (result) answers[i] = { shard: b.shard, rows: result.rows, fields: result.fields };
          else errors[i] = error;
          if (--pending === 0) finish();
        };
        try {
          sendQuery(b.connections.scatterReader, sqls[i] as ShardSql, done);
        } catch (error) {
          done(error);
        }
      }
    });
  }

  /**
   * Runs one shard's SQL again (a shard that dropped copies needs more rows); undefined when it
   * failed and partial answers are allowed, the failure then being recorded.
   */
  async readAgain(b: BuiltQuery, sql: ShardSql): Promise<ShardAnswer | undefined> {
    try {
      const result = await readAll(b.connections.scatterReader, sql);
      return { shard: b.shard, rows: result.rows, fields: result.fields };
    } catch (error) {
      this.failed.push({ shard: b.shard, error: scatterFailure(error, b.shard) });
      if (!this.allowPartial) throw new ScatterError(this.failed);
      return undefined;
    }
  }

  /**
   * Starts each shard's SQL as a stream, every one compiled before any is sent; on failure,
   * closes the streams that opened.
   */
  async openStreams(
    built: readonly BuiltQuery[],
    sqlOf: (b: BuiltQuery) => ShardSql,
  ): Promise<ShardStream[]> {
    const sqls = built.map(sqlOf);
    const settled = await Promise.allSettled(
      built.map((b, i) => openStream(b.connections.scatterReader, sqls[i] as ShardSql)),
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
