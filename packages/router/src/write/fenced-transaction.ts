import type { Knex } from "knex";
import type { KeyTarget } from "../destination.js";
import { FENCE_PARAM, type TransactionFence } from "../knex/knex-internals.js";
import type { RouterContext } from "../router-context.js";
import type { ShardConnections } from "../shard-pools.js";
import { distinctFences, type FenceParams, markRetryable } from "./fence-params.js";

/**
 * Runs `fn` in a transaction on `shard` fenced for every key. One key whose range holds no
 * pinned key (`byRange`) is checked by a locking read of the range's fence row sent with BEGIN
 * and the first statement, in one round trip; otherwise BEGIN and the fence procedure of the
 * first key go in one round trip and every other key is checked before `fn` runs.
 */
export async function runFencedTransaction<T>(
  shard: ShardConnections,
  targets: readonly KeyTarget[],
  fn: (trx: Knex.Transaction) => Promise<T> | T,
  byRange = false,
): Promise<T> {
  const [first, ...rest] = distinctFences(targets) as [FenceParams, ...FenceParams[]];
  const fence: TransactionFence =
    byRange && rest.length === 0
      ? { ...first, rangeStart: (targets[0] as KeyTarget).range.start }
      : first;
  return shard.writer.transaction(
    async (trx) => {
      for (const f of rest) {
        await trx.raw("CALL shardkit_fence(?, ?)", [f.ksid, f.keyBytes]).catch((error: unknown) => {
          throw markRetryable(error);
        });
      }
      return fn(trx);
    },
    { [FENCE_PARAM]: fence } as Knex.TransactionConfig,
  );
}

/**
 * True when the keys' fence can be the range check: one range, no key pinned, the range holding
 * no pinned key, and keys hashed (pinned keys are counted on range rows by their hash).
 */
export function fencedByRange(
  ctx: RouterContext,
  targets: readonly KeyTarget[],
  table: string | undefined,
): boolean {
  const first = targets[0] as KeyTarget;
  const map = ctx.map;
  return (
    targets.every((t) => !t.pinned && t.range.start === first.range.start) &&
    (table === undefined || map.table(table)?.keyFunction === "hash") &&
    !map.hasPinnedKeysIn(first.range)
  );
}
