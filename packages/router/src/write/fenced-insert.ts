import { formatKeyRange, ShardkitError } from "@shardkit/directory";
import { fencedInsertSql, quoteIdentifier } from "@shardkit/directory/internal";
import type { Knex } from "knex";
import type mysql from "mysql2/promise";
import type { KeyTarget } from "../destination.js";
import { describeValue } from "../router-arguments.js";
import type { RouterContext } from "../router-context.js";
import type { InsertOptions, InsertResult, Row } from "../router-options.js";
import { type CopyCollisions, isDuplicateKey } from "./copy-collisions.js";
import { FenceRefusal, markRetryable } from "./fence-params.js";
import { runFencedStatement } from "./fenced-statement.js";
import { hasPlainValues } from "./plain-values.js";
import { retryFenced } from "./retry-fenced.js";

/** Composed INSERT statements kept per router (one per table and column list). */
const MAX_CACHED_INSERTS = 1000;

/**
 * Inserts rows of a sharded table on the shard that owns them, each row's key being its value
 * of the table's key column. One row of a hash-keyed table in a range without pinned keys is
 * one autocommit statement carrying its own fence; other inserts go the way of `writeOne`. A
 * duplicate key on a shard holding a move's copies goes to `collisions`.
 */
export class FencedInserts {
  readonly #ctx: RouterContext;
  readonly #collisions: CopyCollisions;
  readonly #sql = new Map<string, string>();

  constructor(ctx: RouterContext, collisions: CopyCollisions) {
    this.#ctx = ctx;
    this.#collisions = collisions;
  }

  async insert(
    table: string,
    rows: Row | readonly Row[],
    options: InsertOptions = {},
  ): Promise<InsertResult> {
    const ctx = this.#ctx;
    ctx.assertOpen();
    const def = ctx.map.requireTable(table);
    const list: readonly Row[] = Array.isArray(rows) ? rows : [rows as Row];
    if (list.length === 0)
      throw new ShardkitError(
        "BAD_ARGUMENT",
        "insert() needs at least one row; pass a row object or an array of them",
      );
    const keys = list.map((row, i) => {
      if (typeof row !== "object" || row === null || Array.isArray(row)) {
        throw new ShardkitError(
          "BAD_ARGUMENT",
          `insert()'s row ${i + 1} must be an object of column values such as { ${def.keyColumn}: 42 }, got ${describeValue(row)}`,
        );
      }
      const key = row[def.keyColumn];
      if (key === undefined || key === null) {
        throw new ShardkitError(
          "BAD_ARGUMENT",
          `row ${i + 1} has no value for ${table}.${def.keyColumn}, the table's shard key; give every row its key (router.nextId() hands out unique ones)`,
        );
      }
      return key;
    });
    const only = list[0] as Row;
    // Only the first attempt may take the one-statement path: when it is refused, the retry
    // goes through the fence procedure, which says why.
    let firstAttempt = true;
    return retryFenced(
      ctx,
      keys,
      { ...options, table },
      async (targets, deadline) => {
        const target = targets[0] as KeyTarget;
        const oneStatement =
          firstAttempt &&
          list.length === 1 &&
          def.keyFunction === "hash" &&
          !target.pinned &&
          hasPlainValues(only) &&
          !ctx.map.hasPinnedKeysIn(target.range);
        firstAttempt = false;
        const statement = (k: Knex) => k(table).insert(list);
        try {
          if (oneStatement) return await this.#insertOne(target, table, only);
          const header = await runFencedStatement(
            ctx.connections(target.shard),
            targets,
            statement,
          );
          return { affectedRows: header.affectedRows, insertId: header.insertId };
        } catch (error) {
          // Nothing more is paid unless a move has copies on the shard: the row may have met one.
          if (!isDuplicateKey(error) || !this.#collisions.holdsCopies(target.shard)) throw error;
          const header = await this.#collisions.insertOverCopies(
            targets,
            table,
            list,
            statement,
            error,
            deadline,
          );
          return { affectedRows: header.affectedRows, insertId: header.insertId };
        }
      },
      "insert",
    );
  }

  /** One row, inserted by a statement that checks the range's fence row itself (autocommit). */
  async #insertOne(target: KeyTarget, table: string, row: Row): Promise<InsertResult> {
    const columns = Object.keys(row).filter((c) => row[c] !== undefined);
    const cacheKey = `${table}\u0000${columns.join("\u0000")}`;
    let sql = this.#sql.get(cacheKey);
    if (sql === undefined) {
      sql = fencedInsertSql(table, columns, quoteIdentifier);
      if (this.#sql.size >= MAX_CACHED_INSERTS) this.#sql.clear();
      this.#sql.set(cacheKey, sql);
    }
    const bindings = columns.map((c) => row[c]);
    bindings.push(target.range.start, target.fence.ksid, target.fence.ksid);
    const result = await this.#ctx
      .connections(target.shard)
      .statement(sql, bindings)
      .catch((error: unknown) => {
        // One autocommit statement: a deadlock rolled all of it back.
        throw markRetryable(error);
      });
    const header = result as mysql.ResultSetHeader;
    if (header.affectedRows === 0) {
      throw new FenceRefusal(
        `shardkit fence: shard ${target.shard} does not serve range ${formatKeyRange(target.range)} for this key (not owned, frozen for a cutover, or holding a pinned key)`,
      );
    }
    return { affectedRows: header.affectedRows, insertId: header.insertId };
  }
}
