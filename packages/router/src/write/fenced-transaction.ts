import type { Knex } from "knex";
import type { KeyTarget } from "../destination.js";
import { FENCE_PARAM } from "../knex/knex-internals.js";
import type { ShardConnections } from "../shard-pools.js";
import { distinctFences, type FenceParams, markRetryable } from "./fence-params.js";

/**
 * Runs `fn` in a transaction on `shard` that begins with the fence of the first key (BEGIN and
 * the check in one round trip) and checks every other key before `fn` runs.
 */
export async function runFencedTransaction<T>(
  shard: ShardConnections,
  targets: readonly KeyTarget[],
  fn: (trx: Knex.Transaction) => Promise<T> | T,
): Promise<T> {
  const [first, ...rest] = distinctFences(targets) as [FenceParams, ...FenceParams[]];
  return shard.writer.transaction(
    async (trx) => {
      for (const f of rest) {
        await trx.raw("CALL shardkit_fence(?, ?)", [f.ksid, f.keyBytes]).catch((error: unknown) => {
          throw markRetryable(error);
        });
      }
      return fn(trx);
    },
    { [FENCE_PARAM]: first } as Knex.TransactionConfig,
  );
}
