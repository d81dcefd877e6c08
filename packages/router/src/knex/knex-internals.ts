// The one place that reaches into knex's internals (not public knex API): a MySQL client whose
// transactions can begin with the ownership fence, and what the router reads off a query
// builder (its table, its select list, its clauses).
import { createRequire } from "node:module";
import {
  RANGE_FENCE_SELECT,
  type RangeFenceRow,
  rangeFenceRefusal,
} from "@shardkit/directory/internal";
import type { Knex } from "knex";
import { type FenceParams, FenceRefusal, markRetryable } from "../write/fence-params.js";

const require = createRequire(import.meta.url);

/** Key under which a transaction's config carries its {@link TransactionFence}. */
export const FENCE_PARAM = "shardkitFence";

/**
 * The check a fenced transaction makes. With `rangeStart` (the key's range holds no pinned key)
 * the check is a locking read of that range's fence row sent with BEGIN and the transaction's
 * first statement, in one round trip; without it, BEGIN and the fence procedure in one call.
 */
export interface TransactionFence extends FenceParams {
  readonly rangeStart?: number;
}

interface KnexTransactionInternals {
  trxClient: { query(conn: unknown, obj: { sql: string; bindings: unknown[] }): Promise<unknown> };
}

/** A query as knex's client runs it, and what the driver answered. */
interface QueryObject {
  sql: string;
  bindings?: unknown[];
  options?: Record<string, unknown>;
  response?: [unknown, unknown];
}

type RunQuery = (conn: unknown, obj: QueryObject) => Promise<QueryObject>;
type StreamQuery = (conn: unknown, obj: QueryObject, ...rest: unknown[]) => Promise<unknown>;

type AnyCtor<T = object> = new (...args: unknown[]) => T;

const ClientMySQL2 = require("knex/lib/dialects/mysql2/index.js") as AnyCtor;
const TransactionMySQL2 = require("knex/lib/dialects/mysql2/transaction.js") as AnyCtor<{
  begin(conn: unknown): Promise<unknown>;
  commit(conn: unknown, value: unknown): Promise<unknown>;
  query(conn: unknown, sql: string, status: number, value: unknown): Promise<unknown>;
}>;

/** BEGIN and the range check, in one query. */
const OPEN_WITH_CHECK = `START TRANSACTION; ${RANGE_FENCE_SELECT}`;
/** knex's own statements that end a transaction; they pass through as they are. */
const ENDS_TRANSACTION = /^\s*(COMMIT|ROLLBACK)\b/i;
/** MySQL errors after which InnoDB may have rolled back the whole transaction. */
const ER_LOCK_WAIT_TIMEOUT = 1205;
const ER_LOCK_DEADLOCK = 1213;

class FencedTransaction extends TransactionMySQL2 {
  // knex replaces a transaction's userParams with the instance's, so the fence travels in
  // its own config key. This runs before begin(): knex starts the work on a later microtask.
  readonly fence: TransactionFence | undefined;
  /** Set once the shard refused (or the first statement broke the transaction): every later statement and the commit fail with it. */
  #refused: unknown;
  /** The range check still has to go out, with the transaction's first statement. */
  #pending = false;

  constructor(...args: unknown[]) {
    super(...args);
    this.fence = (args[2] as Record<string, unknown> | undefined)?.[FENCE_PARAM] as
      | TransactionFence
      | undefined;
  }

  override begin(conn: unknown): Promise<unknown> {
    if (!this.fence) return super.begin(conn);
    const { trxClient } = this as unknown as KnexTransactionInternals;
    if (this.fence.rangeStart !== undefined) {
      this.#pending = true;
      this.#interceptQueries(trxClient as unknown as { _query: RunQuery; _stream: StreamQuery });
      return Promise.resolve();
    }
    // Not through this.query(): knex treats ER_SP_DOES_NOT_EXIST as success there, which
    // would turn a shard without fence procedures into an unfenced write.
    return trxClient
      .query(conn, {
        sql: "CALL shardkit_begin_fenced(?, ?)",
        bindings: [this.fence.ksid, this.fence.keyBytes],
      })
      .catch((error: unknown) => {
        throw markRetryable(error);
      });
  }

  override commit(conn: unknown, value: unknown): Promise<unknown> {
    // A caller that caught the refusal and went on gets it again instead of a COMMIT.
    if (this.#refused !== undefined) return this.query(conn, "ROLLBACK", 2, this.#refused);
    return super.commit(conn, value);
  }

  /** Sends the range check with the first statement, and refuses every statement after a refusal. */
  #interceptQueries(client: { _query: RunQuery; _stream: StreamQuery }): void {
    const run: RunQuery = client._query.bind(client);
    const stream: StreamQuery = client._stream.bind(client);
    client._query = async (conn, obj) => {
      if (ENDS_TRANSACTION.test(obj.sql)) return run(conn, obj);
      if (this.#refused !== undefined) throw this.#refused;
      if (!this.#pending) return run(conn, obj);
      this.#pending = false;
      return this.#firstStatement(run, conn, obj);
    };
    // A stream's rows are handed out as they come: the check goes first, alone.
    client._stream = async (conn, obj, out, ...rest) => {
      try {
        if (this.#refused !== undefined) throw this.#refused;
        if (this.#pending) {
          this.#pending = false;
          await this.#checkAlone(run, conn);
        }
      } catch (error) {
        // knex hands the caller the stream, not this promise: the refusal goes on the stream.
        (out as { emit(event: string, error: unknown): void }).emit("error", error);
        throw error;
      }
      return stream(conn, obj, out, ...rest);
    };
  }

  /** Opens the transaction with the range check alone, before a statement that cannot carry it. */
  async #checkAlone(run: RunQuery, conn: unknown): Promise<void> {
    const fence = this.fence as TransactionFence & { rangeStart: number };
    const checked = await run(conn, {
      sql: OPEN_WITH_CHECK,
      bindings: [fence.rangeStart],
    }).catch((error: unknown) => this.#broken(run, conn, error));
    await this.#judge(run, conn, (checked.response?.[0] as unknown[] | undefined)?.[1]);
  }

  async #firstStatement(run: RunQuery, conn: unknown, obj: QueryObject): Promise<QueryObject> {
    const fence = this.fence as TransactionFence & { rangeStart: number };
    if (obj.options && Object.keys(obj.options).length > 0) {
      // Options such as rowsAsArray would shape the fence's rows too: check first, alone.
      await this.#checkAlone(run, conn);
      return run(conn, obj);
    }
    let answered: QueryObject;
    try {
      answered = await run(conn, {
        ...obj,
        sql: `${OPEN_WITH_CHECK}; ${obj.sql}`,
        bindings: [fence.rangeStart, ...(obj.bindings ?? [])],
      });
    } catch (error) {
      const errno = (error as { errno?: unknown } | null)?.errno;
      if (errno === ER_LOCK_DEADLOCK || errno === ER_LOCK_WAIT_TIMEOUT)
        return this.#broken(run, conn, error);
      // The statement failed and MySQL rolled back that statement alone: the check still
      // answers inside the transaction, and when the shard serves the key the caller may go on.
      const checked = await run(conn, {
        sql: RANGE_FENCE_SELECT,
        bindings: [fence.rangeStart],
      }).catch(() => this.#broken(run, conn, error));
      await this.#judge(run, conn, checked.response?.[0]);
      throw error;
    }
    const [rows, fields] = answered.response as [unknown[], unknown[]];
    await this.#judge(run, conn, rows[1]);
    answered.response = [
      rows.length === 3 ? rows[2] : rows.slice(2),
      fields.length === 3 ? fields[2] : fields.slice(2),
    ];
    return answered;
  }

  /** Refuses (rolling back) unless the fence row read says the shard serves the key. */
  async #judge(run: RunQuery, conn: unknown, rows: unknown): Promise<void> {
    const fence = this.fence as TransactionFence;
    const why = rangeFenceRefusal(rows as RangeFenceRow[], fence.ksid);
    if (why === undefined) return;
    this.#refused = new FenceRefusal(`shardkit fence: ${why}`);
    await run(conn, { sql: "ROLLBACK" }).catch(() => undefined);
    throw this.#refused;
  }

  /** The transaction may be gone (a deadlock, a lock wait): nothing more runs in it. */
  async #broken(run: RunQuery, conn: unknown, error: unknown): Promise<never> {
    this.#refused = markRetryable(error);
    await run(conn, { sql: "ROLLBACK" }).catch(() => undefined);
    throw error;
  }
}

/** A knex client for MySQL (mysql2) whose transactions honour the `shardkitFence` config key. */
class FencedMysqlClient extends ClientMySQL2 {
  transaction(...args: unknown[]): unknown {
    return new FencedTransaction(this, ...args);
  }
}

/** Creates a knex instance for one shard that can run fenced transactions. */
export function createShardKnex(
  config: Omit<Knex.Config, "client">,
  knexFactory: (c: Knex.Config) => Knex,
): Knex {
  return knexFactory({ ...config, client: FencedMysqlClient as unknown as typeof Knex.Client });
}

/** One clause knex recorded on a query builder. */
export interface BuilderStatement {
  readonly grouping: string;
  readonly type?: string;
  readonly value?: unknown;
  readonly method?: string;
}

interface BuilderInternals {
  _single?: { table?: unknown; limit?: unknown; offset?: unknown; union?: unknown };
  _statements?: BuilderStatement[];
  _method?: string;
  _options?: unknown[];
  _comments?: unknown[];
  _queryContext?: unknown;
  client?: unknown;
}

/** The table named in `knex(table)` / `.from(table)`, when it is a plain name (possibly `name as alias`). */
export function builderTable(qb: Knex.QueryBuilder): string | undefined {
  const table = (qb as unknown as BuilderInternals)._single?.table;
  return typeof table === "string" ? table : undefined;
}

/**
 * Everything knex's compiler reads off a builder besides its client (method, clauses,
 * comments, query context): two builders with equal clauses compile to the same SQL.
 */
export function builderClauses(qb: Knex.QueryBuilder): readonly unknown[] {
  const b = qb as unknown as BuilderInternals;
  return [b._method, b._single, b._statements, b._comments, b._queryContext];
}

/** The knex client that compiles the builder (its dialect and configuration). */
export function builderClient(qb: Knex.QueryBuilder): unknown {
  return (qb as unknown as BuilderInternals).client;
}

/** Every clause knex recorded on the builder, in order. */
export function builderStatements(qb: Knex.QueryBuilder): readonly BuilderStatement[] {
  return (qb as unknown as BuilderInternals)._statements ?? [];
}

/** The builder's own LIMIT and OFFSET, when it set them. */
export function builderLimits(qb: Knex.QueryBuilder): { limit?: unknown; offset?: unknown } {
  const single = (qb as unknown as BuilderInternals)._single ?? {};
  return { limit: single.limit, offset: single.offset };
}

/** The statement kind knex will build (`select`, `insert`, `update`, `del`, ...). */
export function builderMethod(qb: Knex.QueryBuilder): string | undefined {
  return (qb as unknown as BuilderInternals)._method;
}

/**
 * The row objects of a plain `insert(row | rows)` builder; undefined for an insert of a raw or a
 * subquery, or one with `onConflict()`.
 */
export function builderInsertRows(
  qb: Knex.QueryBuilder,
): readonly Record<string, unknown>[] | undefined {
  const single = (qb as unknown as { _single?: Record<string, unknown> })._single ?? {};
  if (single.onConflict !== undefined || single.ignore || single.merge) return undefined;
  const rows = Array.isArray(single.insert) ? single.insert : [single.insert];
  const plain = (r: unknown) =>
    typeof r === "object" && r !== null && Object.getPrototypeOf(r) === Object.prototype;
  return rows.length > 0 && rows.every(plain) ? (rows as Record<string, unknown>[]) : undefined;
}

/** True when the builder selects explicit columns (else knex selects `*`). */
export function hasColumns(qb: Knex.QueryBuilder): boolean {
  return builderStatements(qb).some((s) => s.grouping === "columns");
}

/** True when `value` is a knex query builder (not a Raw, a promise or anything else). */
export function isQueryBuilder(value: unknown): value is Knex.QueryBuilder {
  const v = value as (BuilderInternals & { toSQL?: unknown }) | null;
  return (
    typeof v === "object" &&
    v !== null &&
    Array.isArray(v._statements) &&
    typeof v.toSQL === "function"
  );
}

/** True when the builder carries driver options (`.options(...)`). */
export function hasDriverOptions(qb: Knex.QueryBuilder): boolean {
  return ((qb as unknown as BuilderInternals)._options ?? []).length > 0;
}

/** The SQL text of a `knex.raw(...)`, or undefined for anything else. */
export function rawText(value: unknown): string | undefined {
  const v = value as { isRawInstance?: unknown; sql?: unknown } | null;
  return typeof v === "object" &&
    v !== null &&
    v.isRawInstance === true &&
    typeof v.sql === "string"
    ? v.sql
    : undefined;
}

/** The alias a subquery builder was given with `.as(name)`. */
export function builderAlias(value: unknown): string | undefined {
  if (!isQueryBuilder(value)) return undefined;
  const as = (value as unknown as { _single?: { as?: unknown } })._single?.as;
  return typeof as === "string" ? as : undefined;
}

/** One condition of a join's ON clause as knex records it. */
export interface JoinCondition {
  /** `onBasic` for `column op column`; other kinds (raw, wrapped, IN, ...) say no more here. */
  readonly type: string;
  readonly column?: unknown;
  readonly operator?: unknown;
  readonly value?: unknown;
  /** `and` or `or`: how it joins the conditions before it. */
  readonly bool?: unknown;
}

/** One join of a query builder: the joined table when named plainly (`name` or `name as alias`). */
export interface BuilderJoin {
  readonly table: string | undefined;
  /** knex's join type: `inner`, `left`, `left outer`, `right`, `cross`, `raw`, ... */
  readonly joinType: string;
  readonly conditions: readonly JoinCondition[];
}

/** The joins knex recorded on the builder, in order. */
export function builderJoins(qb: Knex.QueryBuilder): BuilderJoin[] {
  const out: BuilderJoin[] = [];
  for (const s of builderStatements(qb)) {
    if (s.grouping !== "join") continue;
    const j = s as unknown as { table?: unknown; joinType?: unknown; clauses?: unknown };
    out.push({
      table: typeof j.table === "string" ? j.table : undefined,
      joinType: typeof j.joinType === "string" ? j.joinType : "raw",
      conditions: Array.isArray(j.clauses) ? (j.clauses as JoinCondition[]) : [],
    });
  }
  return out;
}
