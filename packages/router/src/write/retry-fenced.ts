import { formatKeyRange } from "@shardkit/directory";
import type { KeyTarget } from "../destination.js";
import type { RouterContext } from "../router-context.js";
import { RouterError } from "../router-errors.js";
import type { WriteOptions } from "../router-options.js";
import { wrapShardError } from "../shard-errors.js";
import { fencedError, isFenceError } from "./fence-params.js";

/**
 * Locates the keys, runs `attempt` on their one shard, and on a fence refusal refreshes the
 * directory and retries (backoff 10 to 200 ms) until the deadline, then fails with
 * DEADLINE_EXCEEDED whose cause is the FENCED refusal. Keys on two shards are CROSS_SHARD.
 */
export async function retryFenced<T>(
  ctx: RouterContext,
  keys: readonly unknown[],
  options: WriteOptions,
  attempt: (targets: readonly KeyTarget[]) => Promise<T>,
): Promise<T> {
  ctx.assertOpen();
  const deadlineMs = options.deadlineMs ?? ctx.writeDeadlineMs;
  const deadline = Date.now() + deadlineMs;
  let delay = 10;
  for (let tries = 1; ; tries++) {
    const targets = keys.map((k) => ctx.locate(k, options.table));
    const first = targets[0] as KeyTarget;
    const other = targets.find((t) => t.shard !== first.shard);
    if (other) {
      throw new RouterError(
        "CROSS_SHARD",
        `the keys of one write live on different shards (${first.shard} and ${other.shard}); write them separately or pin them together`,
        { details: { shard: first.shard, otherShard: other.shard } },
      );
    }
    try {
      return await attempt(targets);
    } catch (error) {
      if (!isFenceError(error)) throw wrapShardError(error, first.shard, first.range);
      if (Date.now() + delay > deadline) {
        throw new RouterError(
          "DEADLINE_EXCEEDED",
          `shard ${first.shard} refused the write for range ${formatKeyRange(first.range)} ${tries} time(s) and no new owner was found within ${deadlineMs} ms; check shardkit ranges and shardkit doctor`,
          {
            details: { shard: first.shard, range: formatKeyRange(first.range) },
            cause: fencedError(error, first),
          },
        );
      }
      // Routing moves to the new version only once its key columns are read: wait for that.
      await ctx.refresh().catch(() => undefined);
      await sleep(delay);
      delay = Math.min(delay * 2, 200);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
