// The one place that reaches into knex's internals: a MySQL client whose transactions can
// begin with the ownership fence, so BEGIN and the fence check cost one round trip.
import { createRequire } from "node:module";
import type { Knex } from "knex";

const require = createRequire(import.meta.url);

/** The fence a transaction begins with: the key's keyspace id and canonical bytes (null when too long to be pinned). */
export interface FenceParams {
  readonly ksid: number;
  readonly keyBytes: Buffer | null;
}

/** Key under which a transaction's config carries its {@link FenceParams}. */
export const FENCE_PARAM = "shardkitFence";

interface KnexTransactionInternals {
  trxClient: { query(conn: unknown, obj: { sql: string; bindings: unknown[] }): Promise<unknown> };
}

type AnyCtor<T = object> = new (...args: unknown[]) => T;

const ClientMySQL2 = require("knex/lib/dialects/mysql2/index.js") as AnyCtor;
const TransactionMySQL2 = require("knex/lib/dialects/mysql2/transaction.js") as AnyCtor<{
  begin(conn: unknown): Promise<unknown>;
}>;

class FencedTransaction extends TransactionMySQL2 {
  // knex replaces a transaction's userParams with the instance's, so the fence travels in
  // its own config key. This runs before begin(): knex starts the work on a later microtask.
  readonly fence: FenceParams | undefined;

  constructor(...args: unknown[]) {
    super(...args);
    this.fence = (args[2] as Record<string, unknown> | undefined)?.[FENCE_PARAM] as
      | FenceParams
      | undefined;
  }

  override begin(conn: unknown): Promise<unknown> {
    if (!this.fence) return super.begin(conn);
    // Not through this.query(): knex treats ER_SP_DOES_NOT_EXIST as success there, which
    // would turn a shard without fence procedures into an unfenced write.
    const { trxClient } = this as unknown as KnexTransactionInternals;
    return trxClient.query(conn, {
      sql: "CALL shardkit_begin_fenced(?, ?)",
      bindings: [this.fence.ksid, this.fence.keyBytes],
    });
  }
}

/** A knex client for MySQL (mysql2) whose transactions honour the `shardkitFence` config key. */
export class FencedMysqlClient extends ClientMySQL2 {
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
