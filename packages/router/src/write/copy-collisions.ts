// An insert that met a duplicate key on a shard holding a move's copies (see
// scatter/move-copies.ts). An application changes a row's shard key by deleting it on the old
// owner and inserting it, same primary key, on the new one; that insert can meet the copy of the
// row a move left there. Only then, and only on a duplicate-key error, the router looks at the
// rows the insert met, in a fenced transaction, locked:
// - a copy on the move's source after the switch is garbage cleanup would delete: it is deleted
//   and the row inserted, in that transaction;
// - a copy on the move's target before the switch belongs to the applier, which deletes it once
//   it applies the application's delete on the source: the insert waits and tries again until
//   its deadline;
// - any other row is a real duplicate: the insert fails with MySQL's error, as it would anyway.
// A row counts as a copy only when its key is in the move's range (or is the moved key), the
// directory says the move's other shard owns it, and this shard's own fence, read under a shared
// lock, says this shard does not.
import { canonicalKeyString, type DirectoryMap } from "@shardkit/directory";
import { FENCE_TABLE } from "@shardkit/directory/internal";
import type { Knex } from "knex";
import type mysql from "mysql2/promise";
import { type KeyTarget, locateKey } from "../destination.js";
import { type UniqueKey, UniqueKeys } from "../keys/unique-keys.js";
import { builderInsertRows, builderMethod, builderTable } from "../knex/knex-internals.js";
import type { RouterContext } from "../router-context.js";
import type { Row } from "../router-options.js";
import { type CopyScope, copiesByShard } from "../scatter/move-copies.js";
import type { ShardConnections } from "../shard-pools.js";
import type { FenceParams } from "./fence-params.js";
import { markRetryable } from "./fence-params.js";
import { runFencedTransaction } from "./fenced-transaction.js";

/** MySQL's error number for a duplicate entry in a unique key. */
const ER_DUP_ENTRY = 1062;
/** The first wait for the applier to delete a copy on the target, in ms. */
const FIRST_WAIT_MS = 5;
/** The longest wait between two looks at a copy on the target, in ms. */
const MAX_WAIT_MS = 50;

/** True when `error` is MySQL's duplicate-key error (ER_DUP_ENTRY). */
export function isDuplicateKey(error: unknown): boolean {
  return (error as { errno?: number } | null)?.errno === ER_DUP_ENTRY;
}

/** A statement the router may run again inside its own fenced transaction. */
export type InsertStatement = (knex: Knex) => Knex.QueryBuilder | Knex.Raw;

/** What the rows an insert met on a shard are. */
type Verdict =
  /** Copies on the move's source after the switch: deleted, and the rows inserted. */
  | { readonly kind: "inserted"; readonly header: mysql.ResultSetHeader }
  /** A copy on the move's target before the switch: the applier deletes it soon. */
  | { readonly kind: "wait" }
  /** A row that is not provably a copy this shard does not own: a real duplicate. */
  | { readonly kind: "duplicate" };

/** Thrown to roll the transaction back after some copies were deleted. */
class UndoDeletes extends Error {}

/** Inserts that meet a move's copies: see the top of this file. */
export class CopyCollisions {
  readonly #ctx: RouterContext;
  readonly #keys = new UniqueKeys();

  constructor(ctx: RouterContext) {
    this.#ctx = ctx;
  }

  /** True when `shard` holds copies of a move the router knows of: only then is a duplicate looked into. */
  holdsCopies(shard: string): boolean {
    return copiesByShard(this.#ctx.map).has(shard);
  }

  /** Forgets the tables' unique keys, read again when next needed (after a schema change). */
  forgetKeys(): void {
    this.#keys.forget();
  }

  /**
   * Runs `statement` (an INSERT of `rows` into `table`) again on the targets' shard, whose first
   * run failed with `duplicate`, once every row it meets there is a copy: deleted first on a
   * move's source, waited for on its target until `deadline`. Otherwise throws `duplicate`.
   */
  async insertOverCopies(
    targets: readonly KeyTarget[],
    table: string,
    rows: readonly Row[],
    statement: InsertStatement,
    duplicate: unknown,
    deadline: number,
  ): Promise<mysql.ResultSetHeader> {
    const shardName = (targets[0] as KeyTarget).shard;
    const shard = this.#ctx.connections(shardName);
    const keys = await this.#keys.of(shard, table);
    let wait = FIRST_WAIT_MS;
    for (;;) {
      const map = this.#ctx.map;
      const scopes = copiesByShard(map).get(shardName);
      if (!scopes) throw duplicate;
      const verdict = await runFencedTransaction(shard, targets, (trx) =>
        this.#look(trx, map, shardName, scopes, table, keys, rows, statement),
      ).catch((error: unknown) => {
        // The transaction ran only the router's own statements: a deadlock undid all of it.
        throw isDuplicateKey(error) || error instanceof UndoDeletes
          ? duplicate
          : markRetryable(error);
      });
      if (verdict.kind === "inserted") return verdict.header;
      if (verdict.kind === "duplicate" || Date.now() + wait >= deadline) throw duplicate;
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(Math.ceil(wait * 1.5), MAX_WAIT_MS);
    }
  }

  /**
   * As {@link insertOverCopies} for `writeOne`'s statement when it is a plain knex insert of row
   * objects into a sharded table; any other statement's duplicate is thrown as it is.
   */
  async writeOverCopies(
    targets: readonly KeyTarget[],
    shard: ShardConnections,
    build: InsertStatement,
    duplicate: unknown,
    deadline: number,
  ): Promise<mysql.ResultSetHeader> {
    const qb = build(shard.writer);
    const table =
      builderMethod(qb as Knex.QueryBuilder) === "insert"
        ? builderTable(qb as Knex.QueryBuilder)
        : undefined;
    const rows = table === undefined ? undefined : builderInsertRows(qb as Knex.QueryBuilder);
    if (table === undefined || rows === undefined || !this.#ctx.map.table(table)) throw duplicate;
    return this.insertOverCopies(targets, table, rows, build, duplicate, deadline);
  }

  /** Inside the fenced transaction: locks the rows the insert meets, and inserts over copies. */
  async #look(
    trx: Knex.Transaction,
    map: DirectoryMap,
    shard: string,
    scopes: readonly CopyScope[],
    table: string,
    keys: readonly UniqueKey[],
    rows: readonly Row[],
    statement: InsertStatement,
  ): Promise<Verdict> {
    const met = await metRows(trx, table, keys, rows);
    const def = map.requireTable(table);
    let waitForApplier = false;
    for (const row of met) {
      const kind = await this.#copyKind(
        trx,
        map,
        shard,
        scopes,
        def.name,
        columnValue(row, def.keyColumn),
      );
      // One row that is not a copy makes it a real duplicate, whatever the others are.
      if (kind === undefined) return { kind: "duplicate" };
      if (kind === "target") waitForApplier = true;
    }
    if (waitForApplier) return { kind: "wait" };
    for (const row of met) {
      const where = identityOf(keys, row);
      const key = columnValue(row, def.keyColumn) as Knex.Value;
      const deleted = where ? await trx(table).where(where).andWhere(def.keyColumn, key).del() : 0;
      // A row that cannot be named again by its own values: undo every delete, and fail as MySQL did.
      if (deleted !== 1) throw new UndoDeletes();
    }
    const { sql, bindings } = statement(trx).toSQL().toNative();
    const [header] = (await trx.raw(sql, bindings as readonly Knex.Value[])) as [
      mysql.ResultSetHeader,
    ];
    return { kind: "inserted", header };
  }

  /**
   * Whether a row of `table` on `shard` with key column value `value` is a copy of a move: on the
   * move's source after the switch (`source`), on its target before it (`target`); else undefined.
   */
  async #copyKind(
    trx: Knex.Transaction,
    map: DirectoryMap,
    shard: string,
    scopes: readonly CopyScope[],
    table: string,
    value: unknown,
  ): Promise<"source" | "target" | undefined> {
    if (value === null || value === undefined) return undefined;
    let key: KeyTarget;
    try {
      key = locateKey(map, value, table, this.#ctx.columnKey);
    } catch {
      return undefined;
    }
    if (key.shard === shard) return undefined;
    const hashed = map.table(table)?.keyFunction === "hash";
    const scope = scopes.find(
      (s) =>
        s.move[s.move.source === shard ? "target" : "source"] === key.shard &&
        (s.key === null
          ? s.range.start <= key.ksid && key.ksid < s.range.end
          : (!hashed || key.ksid === s.range.start) && canonicalKeyString(key.columnKey) === s.key),
    );
    if (!scope) return undefined;
    if (await ownsKey(trx, key.fence)) return undefined;
    return scope.move.source === shard ? "source" : "target";
  }
}

/**
 * The rows of `table` that `rows` meet on any unique key, locked (FOR UPDATE): one lookup per
 * key, each on that key's index, so no other row is locked. A prefix index (`code(10)`) cannot
 * be looked up by its values and is left out: a duplicate on it stays MySQL's error.
 */
async function metRows(
  trx: Knex.Transaction,
  table: string,
  keys: readonly UniqueKey[],
  rows: readonly Row[],
): Promise<Row[]> {
  const met: Row[] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    if (key.parts.some((p) => p.prefix !== null)) continue;
    const terms: Record<string, Knex.Value>[] = [];
    for (const row of rows) {
      const values = key.parts.map((p) => columnValue(row, p.column));
      // NULLs never collide in a unique key; a column the row leaves to its default is unknown here.
      if (values.some((v) => v === null || v === undefined)) continue;
      terms.push(Object.fromEntries(key.parts.map((p, i) => [p.column, values[i] as Knex.Value])));
    }
    if (terms.length === 0) continue;
    const found = (await trx(table)
      .select("*")
      .where((qb) => {
        for (const term of terms) qb.orWhere(term);
      })
      .forUpdate()) as Row[];
    for (const row of found) {
      // A row met on two keys is one row: the first key (the primary key) names it.
      const id = JSON.stringify(Object.values(identityOf(keys, row) ?? row), (_k, v) =>
        typeof v === "bigint" ? v.toString() : v,
      );
      if (seen.has(id)) continue;
      seen.add(id);
      met.push(row);
    }
  }
  return met;
}

/** A row's value of `column`, whose name MySQL compares without case. */
function columnValue(row: Row, column: string): unknown {
  if (column in row) return row[column];
  const lower = column.toLowerCase();
  for (const c in row) if (c.toLowerCase() === lower) return row[c];
  return undefined;
}

/** The values of the first unique key (the primary key first) that name `row` alone. */
function identityOf(keys: readonly UniqueKey[], row: Row): Record<string, Knex.Value> | undefined {
  for (const key of keys) {
    const values = key.parts.map((p) => columnValue(row, p.column));
    if (values.some((v) => v === null || v === undefined)) continue;
    return Object.fromEntries(key.parts.map((p, i) => [p.column, values[i] as Knex.Value]));
  }
  return undefined;
}

/**
 * True when this shard's own fence says it owns the key (a pin here, or a range here, serving or
 * frozen), read with a shared lock held to commit as the fence procedures read it, so no
 * directory change can give it the key before the transaction ends.
 */
async function ownsKey(trx: Knex.Transaction, fence: FenceParams): Promise<boolean> {
  if (fence.keyBytes !== null) {
    const [pins] = (await trx.raw(
      `SELECT kind FROM ${FENCE_TABLE} WHERE kind IN ('pin', 'pin_away') AND key_bytes = ? LIMIT 1 LOCK IN SHARE MODE`,
      [fence.keyBytes],
    )) as [{ kind: string }[]];
    const pin = pins[0];
    if (pin) return pin.kind === "pin";
  }
  const [ranges] = (await trx.raw(
    `SELECT range_end FROM ${FENCE_TABLE} WHERE kind = 'range' AND range_start <= ? ORDER BY range_start DESC LIMIT 1 LOCK IN SHARE MODE`,
    [fence.ksid],
  )) as [{ range_end: number | string }[]];
  const range = ranges[0];
  return range !== undefined && Number(range.range_end) > fence.ksid;
}
