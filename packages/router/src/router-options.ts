import type {
  CredentialResolver,
  DirectoryClient,
  DirectorySource,
  KeyRange,
} from "@shardkit/directory";
import type { Knex } from "knex";
import type { RouterMetricsOptions } from "./metrics/router-metrics.js";
import type { ShardFailure } from "./router-errors.js";
import type { AggregateSpec } from "./scatter/aggregates.js";
import type { HavingCondition, HavingPredicate } from "./scatter/having.js";
import type { OrderTerm } from "./scatter/row-order.js";
import type { GroupTerm } from "./scatter/scatter-terms.js";

/** Options for {@link createRouter}. */
export interface RouterOptions {
  /** The directory: its database URL, the directory service's (`http://...`), a store, or a directory client you manage. Required. */
  readonly directory: string | DirectorySource | DirectoryClient;
  /** Shard passwords. Default: SHARDKIT_SHARD_PASSWORD_<NAME> / SHARDKIT_SHARD_PASSWORD. */
  readonly credentials?: CredentialResolver;
  /** Connection pool per shard. Default `{ min: 0, max: 10 }`. */
  readonly pool?: { readonly min?: number; readonly max?: number };
  /** How often to follow the directory version, in ms; 0 switches polling off. Default 1000. Ignored for a client you pass. */
  readonly pollIntervalMs?: number;
  /** How long a write keeps retrying after the fence refused it, in ms. Default 5000. */
  readonly writeDeadlineMs?: number;
  /** Ids reserved per round trip by `nextId`. Default 1000. */
  readonly idBlockSize?: number;
  /** This router's heartbeat id in the directory; false records none. Default `<host>:<pid>:<random>`. */
  readonly heartbeatId?: string | false;
  /** The directory service's bearer token, when `directory` is an `http(s)://` URL. Default: SHARDKIT_SERVICE_TOKEN. */
  readonly token?: string;
  /** Where the router's Prometheus metrics go (`router.metrics`). Default: a registry of the router's own. */
  readonly metrics?: RouterMetricsOptions;
}

/** Options of a single-key operation. */
export interface KeyOptions {
  /** The sharded table whose key function (and key column type) maps the key. Default: the hash key function. */
  readonly table?: string;
}

/** Options of a write. */
export interface WriteOptions extends KeyOptions {
  /** Overrides the router's write deadline for this write, in ms. Default: the router's `writeDeadlineMs`. */
  readonly deadlineMs?: number;
}

/** Options of `insert`. */
export interface InsertOptions {
  /** Overrides the router's write deadline for this insert, in ms. Default: the router's `writeDeadlineMs`. */
  readonly deadlineMs?: number;
}

/** Options of `update` and `delete`. */
export interface KeyWriteOptions {
  /** Overrides the router's write deadline for this write, in ms. Default: the router's `writeDeadlineMs`. */
  readonly deadlineMs?: number;
  /**
   * Further equality conditions on the key's rows (`{ order_id: 7 }` for one order of a user;
   * `null` matches NULL). Default: none, every row of the key.
   */
  readonly where?: Row;
}

/** What `update` and `delete` return. */
export interface KeyWriteResult {
  /** Rows the statement matched (for an UPDATE, also those it left unchanged). */
  readonly affectedRows: number;
  /** For an UPDATE, the rows whose values it changed. */
  readonly changedRows?: number;
}

/** One row to insert: column name to value. */
export type Row = Readonly<Record<string, unknown>>;

/** What `insert` returns. */
export interface InsertResult {
  readonly affectedRows: number;
  /** The first AUTO_INCREMENT value the insert generated; 0 when none. */
  readonly insertId: number;
}

/** What `writeOne` returns: the driver's result header of the statement. */
export interface WriteResult {
  readonly affectedRows: number;
  /** The first AUTO_INCREMENT value the statement generated; 0 when none. */
  readonly insertId: number;
  /** Rows whose values the statement changed (an UPDATE can match a row and change nothing). */
  readonly changedRows?: number;
  readonly warningStatus?: number;
}

/** A query run on many shards and merged as one server would have answered it. */
export interface ScatterOptions {
  /**
   * Builds the query for one shard: a knex select over a table, without ORDER BY, LIMIT or
   * aggregates (the router adds those). GROUP BY, HAVING, DISTINCT and aggregates of its own
   * are refused unless the groups include the table's shard key column. Required.
   */
  readonly query: (knex: Knex, shard: string) => Knex.QueryBuilder;
  /** Only the shards owning part of this key range. Default: every shard that owns a range or a pinned key. */
  readonly range?: KeyRange | string;
  /** Sort the merged rows by columns, `table.column`s or aliases of the result. Default: unsorted. */
  readonly orderBy?: readonly OrderTerm[];
  /** At most this many rows (a non-negative integer). Default: all. */
  readonly limit?: number;
  /** Skip this many rows of the merged order first (a non-negative integer). Default 0. */
  readonly offset?: number;
  /** Aggregates by output name, e.g. `{ n: { fn: "count" }, total: { fn: "sum", column: "amount" } }`. Default: none. */
  readonly aggregates?: Readonly<Record<string, AggregateSpec>>;
  /** GROUP BY terms for `aggregates`: columns, `table.column`s, `column as name`, `{ sql, as }`. Default: none (one row). */
  readonly groupBy?: readonly GroupTerm[];
  /** Filters the merged groups of `aggregates`: conditions that all hold, or a predicate. Default: none. */
  readonly having?: readonly HavingCondition[] | HavingPredicate;
  /** Return the rows of the shards that answered plus the failures, instead of failing. Default false. */
  readonly allowPartial?: boolean;
}

/** What a scatter returns: merged rows and the shards that failed (only with `allowPartial`). */
export interface ScatterResult<T> {
  readonly rows: T[];
  readonly failed: readonly ShardFailure[];
}
