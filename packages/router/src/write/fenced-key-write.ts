import { type ShardedTable, ShardkitError } from "@shardkit/directory";
import {
  type FencedKeyWriteShape,
  fencedKeyWriteSql,
  quoteIdentifier,
} from "@shardkit/directory/internal";
import type { Knex } from "knex";
import type mysql from "mysql2/promise";
import type { KeyTarget } from "../destination.js";
import { describeValue, optionsOf, requireCount, requireName } from "../router-arguments.js";
import type { RouterContext } from "../router-context.js";
import type { KeyWriteOptions, KeyWriteResult, Row } from "../router-options.js";
import { markRetryable } from "./fence-params.js";
import { runFencedStatement } from "./fenced-statement.js";
import { hasPlainValues } from "./plain-values.js";
import { retryFenced } from "./retry-fenced.js";

/** Composed statements kept per router (one per table, kind and shape). */
const MAX_CACHED_STATEMENTS = 1000;
/** Keys of more ranges than this take the fence procedures (one join per range otherwise). */
const MAX_JOINED_RANGES = 8;

type Kind = FencedKeyWriteShape["kind"];

/**
 * Updates and deletes a sharded table's rows by key on the shard that owns the keys. Keys of
 * a hash-keyed table in ranges without pinned keys take one autocommit statement that joins
 * the shard's fence rows (see `fencedKeyWriteSql`); when it changes nothing (the shard refused,
 * or no row matched) the same write runs again behind the fence procedures, which tell the two
 * apart. Other writes (pinned keys, identity-keyed tables, values knex must build) take that
 * path at once.
 */
export class FencedKeyWrites {
  readonly #ctx: RouterContext;
  readonly #sql = new Map<string, string>();

  constructor(ctx: RouterContext) {
    this.#ctx = ctx;
  }

  /** `UPDATE table SET changes WHERE keyColumn IN keys [AND where]`, fenced. */
  async update(
    table: string,
    keys: unknown,
    changes: Row,
    options: KeyWriteOptions | undefined,
  ): Promise<KeyWriteResult> {
    this.#ctx.assertOpen();
    requireName(table, "update()'s table", "users");
    const def = this.#ctx.map.requireTable(table);
    if (typeof changes !== "object" || changes === null || Array.isArray(changes)) {
      throw new ShardkitError(
        "BAD_ARGUMENT",
        `update()'s changes must be an object of column values such as { name: "Ada" }, got ${describeValue(changes)}`,
      );
    }
    const set = Object.keys(changes).filter((c) => changes[c] !== undefined);
    if (set.length === 0) {
      throw new ShardkitError(
        "BAD_ARGUMENT",
        "update()'s changes name no column; pass at least one column and its new value",
      );
    }
    if (set.includes(def.keyColumn)) {
      throw new ShardkitError(
        "BAD_ARGUMENT",
        `update() cannot change ${table}.${def.keyColumn}, the table's shard key (the row may belong on another shard); insert the row under its new key and delete the old one`,
      );
    }
    return this.#write("update", table, def, keys, changes, set, options);
  }

  /** `DELETE FROM table WHERE keyColumn IN keys [AND where]`, fenced. */
  delete(
    table: string,
    keys: unknown,
    options: KeyWriteOptions | undefined,
  ): Promise<KeyWriteResult> {
    requireName(table, "delete()'s table", "users");
    const def = this.#ctx.map.requireTable(table);
    return this.#write("delete", table, def, keys, {}, [], options);
  }

  async #write(
    kind: Kind,
    table: string,
    def: ShardedTable,
    keys: unknown,
    changes: Row,
    set: readonly string[],
    options: KeyWriteOptions | undefined,
  ): Promise<KeyWriteResult> {
    const ctx = this.#ctx;
    ctx.assertOpen();
    const opts = optionsOf(options, `${kind}() options`);
    requireCount(opts.deadlineMs, `${kind}() option deadlineMs`, 0, "{ deadlineMs: 2000 }");
    const where = whereOf(opts.where, kind);
    const list: readonly unknown[] = Array.isArray(keys) ? keys : [keys];
    if (list.length === 0) {
      throw new ShardkitError(
        "BAD_ARGUMENT",
        `${kind}() needs at least one key; pass a key or an array of keys of one shard`,
      );
    }
    const plain = hasPlainValues(changes) && hasPlainValues(where);
    const build = (targets: readonly KeyTarget[]) => (k: Knex) => {
      const values = targets.map((t) => t.columnKey) as readonly Knex.Value[];
      const q = k(table).whereIn(def.keyColumn, values).where(where);
      return kind === "update" ? q.update(changes) : q.delete();
    };
    return retryFenced(ctx, list, { deadlineMs: opts.deadlineMs, table }, async (targets) => {
      const shard = ctx.connections((targets[0] as KeyTarget).shard);
      const ranges = rangesOf(targets);
      const oneStatement =
        plain &&
        def.keyFunction === "hash" &&
        ranges !== undefined &&
        !ranges.some((r) => ctx.map.hasPinnedKeysIn(r.range));
      if (oneStatement) {
        const header = await this.#oneStatement(
          kind,
          table,
          def.keyColumn,
          set,
          changes,
          where,
          targets,
          ranges,
        );
        if (header.affectedRows > 0) return resultOf(kind, header);
      }
      // Refused, or no row matched: the fence procedures tell the two apart.
      return resultOf(kind, await runFencedStatement(shard, targets, build(targets)));
    });
  }

  async #oneStatement(
    kind: Kind,
    table: string,
    keyColumn: string,
    set: readonly string[],
    changes: Row,
    where: Row,
    targets: readonly KeyTarget[],
    ranges: readonly RangeKeys[],
  ): Promise<mysql.ResultSetHeader> {
    const whereColumns = Object.keys(where).filter((c) => where[c] !== undefined);
    const equal = whereColumns.filter((c) => where[c] !== null);
    const isNull = whereColumns.filter((c) => where[c] === null);
    const shape: FencedKeyWriteShape = {
      kind,
      table,
      keyColumn,
      set,
      where: equal,
      whereNull: isNull,
      keys: targets.length,
      ranges: ranges.length,
    };
    const cacheKey = JSON.stringify(shape);
    let sql = this.#sql.get(cacheKey);
    if (sql === undefined) {
      sql = fencedKeyWriteSql(shape, quoteIdentifier);
      if (this.#sql.size >= MAX_CACHED_STATEMENTS) this.#sql.clear();
      this.#sql.set(cacheKey, sql);
    }
    const bindings: unknown[] = ranges.flatMap((r) => [r.range.start, r.maxKsid]);
    for (const c of set) bindings.push(changes[c]);
    for (const t of targets) bindings.push(t.columnKey);
    for (const c of equal) bindings.push(where[c]);
    const result = await this.#ctx
      .connections((targets[0] as KeyTarget).shard)
      .statement(sql, bindings)
      .catch((error: unknown) => {
        // One autocommit statement: a deadlock rolled all of it back.
        throw markRetryable(error);
      });
    return result as mysql.ResultSetHeader;
  }
}

/** A range the keys fall in, and the largest keyspace id among them. */
interface RangeKeys {
  readonly range: KeyTarget["range"];
  readonly maxKsid: number;
}

/** The distinct ranges of unpinned keys, or undefined when a key is pinned or there are too many. */
function rangesOf(targets: readonly KeyTarget[]): RangeKeys[] | undefined {
  const byStart = new Map<number, RangeKeys>();
  for (const t of targets) {
    if (t.pinned) return undefined;
    const had = byStart.get(t.range.start);
    byStart.set(t.range.start, { range: t.range, maxKsid: Math.max(had?.maxKsid ?? 0, t.ksid) });
    if (byStart.size > MAX_JOINED_RANGES) return undefined;
  }
  return [...byStart.values()];
}

function whereOf(where: unknown, kind: Kind): Row {
  if (where === undefined) return {};
  if (typeof where !== "object" || where === null || Array.isArray(where)) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `${kind}() option where must be an object of column values such as { order_id: 7 }, got ${describeValue(where)}`,
    );
  }
  return where as Row;
}

function resultOf(kind: Kind, header: mysql.ResultSetHeader): KeyWriteResult {
  return kind === "update"
    ? { affectedRows: header.affectedRows, changedRows: header.changedRows }
    : { affectedRows: header.affectedRows };
}
