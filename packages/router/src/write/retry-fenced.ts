import { type ActiveMove, type DirectoryMap, formatKeyRange } from "@shardkit/directory";
import type { KeyTarget } from "../destination.js";
import type { RouterQueryKind } from "../metrics/router-metrics.js";
import type { RouterContext } from "../router-context.js";
import { RouterError } from "../router-errors.js";
import type { WriteOptions } from "../router-options.js";
import { wrapShardError } from "../shard-errors.js";
import { fencedError, isFenceError, isRetryable } from "./fence-params.js";

/** The first wait after a refused write that found no new owner, in ms. */
const FIRST_WAIT_MS = 2;
/** The longest wait between two attempts: a cutover's pause is meant to stay under 100 ms. */
const MAX_WAIT_MS = 10;

/**
 * Locates the keys, runs `attempt` on their one shard, and on a fence refusal refreshes the
 * directory (one refresh shared by every refused write) and retries at once on a new owner, or
 * after a short wait (2 ms growing to 10 ms, cut short when routing moves) until the deadline;
 * then fails with DEADLINE_EXCEEDED whose cause is the FENCED refusal. A write InnoDB rolled
 * back whole to break a deadlock with a directory change (see `markRetryable`) runs again. Keys
 * on two shards are CROSS_SHARD. `attempt` is given the write's deadline (`Date.now()` ms).
 */
export async function retryFenced<T>(
  ctx: RouterContext,
  keys: readonly unknown[],
  options: WriteOptions,
  attempt: (targets: readonly KeyTarget[], deadline: number) => Promise<T>,
  kind: RouterQueryKind = "write",
): Promise<T> {
  ctx.assertOpen();
  const started = performance.now();
  let shard = "none";
  // One async function for the whole loop: every promise step between the caller and the
  // shard's answer is paid by each single-row write.
  try {
    const deadlineMs = options.deadlineMs ?? ctx.writeDeadlineMs;
    const deadline = Date.now() + deadlineMs;
    let wait = FIRST_WAIT_MS;
    for (let tries = 1; ; tries++) {
      const map = ctx.map;
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
      shard = first.shard;
      ctx.metrics.query(shard, kind);
      try {
        return await attempt(targets, deadline);
      } catch (error) {
        if (isRetryable(error) && Date.now() < deadline) {
          ctx.metrics.retry(shard, "deadlock");
          // A deadlock with a directory change that rolled the write back whole: run it again.
          await sleep(1 + Math.random() * wait);
          continue;
        }
        if (!isFenceError(error)) throw wrapShardError(error, shard, first.range);
        ctx.metrics.fenceRefusal(shard);
        if (Date.now() >= deadline) throw deadlineExceeded(ctx, first, tries, deadlineMs, error);
        // Routing moves to the new version only once its key columns are read: the refresh
        // resolves after that, and a write that sees a new version retries without waiting.
        ctx.metrics.retry(shard, "fenced");
        if (ctx.map === map) await ctx.routing.refreshSoon();
        if (ctx.map === map) {
          await ctx.routing.wait(Math.min(wait, deadline - Date.now()));
          wait = Math.min(Math.ceil(wait * 1.5), MAX_WAIT_MS);
        }
      }
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    ctx.metrics.error(shard, kind, typeof code === "string" ? code : "INTERNAL");
    throw error;
  } finally {
    ctx.metrics.writeSeconds(kind, (performance.now() - started) / 1000);
  }
}

/** The DEADLINE_EXCEEDED a write fails with once the fence refused it until its deadline. */
function deadlineExceeded(
  ctx: RouterContext,
  first: KeyTarget,
  tries: number,
  deadlineMs: number,
  error: unknown,
): RouterError {
  const move = cuttingOver(ctx.map, first);
  const why = move
    ? `: move ${move.id} is cutting the range over from ${move.source} to ${move.target}; see shardkit move status ${move.id}, or give the write a longer deadline`
    : " and no new owner was found; check shardkit ranges and shardkit doctor";
  return new RouterError(
    "DEADLINE_EXCEEDED",
    `shard ${first.shard} refused the write for range ${formatKeyRange(first.range)} ${tries} time(s) within ${deadlineMs} ms${why}`,
    {
      details: {
        shard: first.shard,
        range: formatKeyRange(first.range),
        ...(move ? { move: move.id } : {}),
      },
      cause: fencedError(error, first),
    },
  );
}

/** The move whose cutover froze the key's range (or pinned key) on its shard, if one is. */
function cuttingOver(map: DirectoryMap, target: KeyTarget): ActiveMove | undefined {
  return map.snapshot.moves.find(
    (m) =>
      m.state === "cutting_over" &&
      m.source === target.shard &&
      (m.kind === "key"
        ? m.keyBytes !== null &&
          target.fence.keyBytes !== null &&
          Buffer.from(m.keyBytes).equals(target.fence.keyBytes)
        : m.range.start <= target.ksid && target.ksid < m.range.end),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
