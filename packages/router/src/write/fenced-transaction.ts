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
export function runFencedTransaction<T>(
  shard: ShardConnections,
  targets: readonly KeyTarget[],
  fn: (trx: Knex.Transaction) => Promise<T> | T,
  byRange = false,
): Promise<T> {
  const fences = distinctFences(targets);
  const first = fences[0] as FenceParams;
  if (fences.length === 1) {
    const fence: TransactionFence = byRange
      ? {
          ksid: first.ksid,
          keyBytes: first.keyBytes,
          rangeStart: (targets[0] as KeyTarget).range.start,
        }
      : first;
    return shard.writer.transaction(committed(fn), {
      [FENCE_PARAM]: fence,
    } as Knex.TransactionConfig);
  }
  return shard.writer.transaction(
    async (trx) => {
      for (let i = 1; i < fences.length; i++) {
        const f = fences[i] as FenceParams;
        await trx.raw("CALL shardkit_fence(?, ?)", [f.ksid, f.keyBytes]).catch((error: unknown) => {
          throw markRetryable(error);
        });
      }
      return fn(trx);
    },
    { [FENCE_PARAM]: first } as Knex.TransactionConfig,
  );
}

/**
 * `fn` as a transaction body knex commits when it settles: knex commits only a body that returns
 * a thenable, so a plain value is handed back as a resolved promise (without an async wrapper,
 * whose extra promise steps a single-row transaction measurably pays for).
 */
function committed<T>(
  fn: (trx: Knex.Transaction) => Promise<T> | T,
): (trx: Knex.Transaction) => Promise<T> {
  return (trx) => {
    const result = fn(trx);
    return isThenable(result) ? result : Promise.resolve(result);
  };
}

function isThenable<T>(value: Promise<T> | T): value is Promise<T> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
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
