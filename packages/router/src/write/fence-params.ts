import { formatKeyRange } from "@shardkit/directory";
import { FENCE_ERRNO } from "@shardkit/directory/internal";
import type { KeyTarget } from "../destination.js";
import { RouterError } from "../router-errors.js";

/** The fence a write checks: the key's keyspace id and canonical bytes (null when too long to be pinned). */
export interface FenceParams {
  readonly ksid: number;
  readonly keyBytes: Buffer | null;
}

/** The fence checks a write needs: one per distinct key. */
export function distinctFences(targets: readonly KeyTarget[]): FenceParams[] {
  if (targets.length === 1) return [(targets[0] as KeyTarget).fence];
  const seen = new Set<string>();
  const out: FenceParams[] = [];
  for (const t of targets) {
    const id = `${t.fence.ksid}:${t.fence.keyBytes?.toString("hex") ?? ""}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(t.fence);
  }
  return out;
}

/** True when a shard's fence refused the write (the procedures' errno, or a refused one-statement write). */
export function isFenceError(error: unknown): boolean {
  return (error as { errno?: number } | null)?.errno === FENCE_ERRNO;
}

/** MySQL's error number for a transaction rolled back to break a deadlock. */
const ER_LOCK_DEADLOCK = 1213;
const RETRYABLE = Symbol("shardkit.retryableWrite");

/**
 * Marks `error` as safe to retry when it is a deadlock that rolled back a write before any of
 * the caller's own statements ran (the fence check), or a unit the router sent whole (fence,
 * statement and COMMIT): InnoDB rolled it all back, so nothing of it happened. The fence's
 * locking read can deadlock with a directory change that inserts a fence row (a split, a pin).
 */
export function markRetryable(error: unknown): unknown {
  const e = error as { errno?: unknown } | null;
  if (e && typeof e === "object" && e.errno === ER_LOCK_DEADLOCK) {
    Object.defineProperty(e, RETRYABLE, { value: true });
  }
  return error;
}

/** True when {@link markRetryable} marked the error: the write had no effect and may run again. */
export function isRetryable(error: unknown): boolean {
  return (error as { [RETRYABLE]?: boolean } | null)?.[RETRYABLE] === true;
}

/** A one-statement write found the fence closed: handled like the procedures' refusal. */
export class FenceRefusal extends Error {
  readonly errno = FENCE_ERRNO;
}

/** The FENCED error a refusal becomes: the shard, the range and MySQL's reason. */
export function fencedError(error: unknown, target: KeyTarget): RouterError {
  return new RouterError(
    "FENCED",
    `shard ${target.shard} refused the key: ${(error as Error).message}`,
    { details: { shard: target.shard, range: formatKeyRange(target.range) }, cause: error },
  );
}
