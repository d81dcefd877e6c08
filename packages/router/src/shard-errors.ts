import { formatKeyRange, type KeyRange, redactUrl } from "@shardkit/directory";
import { RouterError } from "./router-errors.js";

/**
 * The one place driver failures on a shard become router errors: a shard that cannot be
 * reached is SHARD_UNAVAILABLE (naming the shard and range); every other error passes as it
 * is (the caller's own errors, MySQL's errors such as a duplicate key).
 */
export function wrapShardError(error: unknown, shard: string, range?: KeyRange): unknown {
  if (error instanceof RouterError) return error;
  if (isTransportError(error)) {
    const where = range ? ` for range ${formatKeyRange(range)}` : "";
    return new RouterError(
      "SHARD_UNAVAILABLE",
      `shard ${shard} is unavailable${where}: ${redactUrl(String((error as Error)?.message ?? error))}; retry when it is back`,
      { details: { shard, ...(range ? { range: formatKeyRange(range) } : {}) }, cause: error },
    );
  }
  return error;
}

/** True when the driver could not reach the shard, lost the connection, or was not let in. */
export function isTransportError(error: unknown): boolean {
  const e = error as { errno?: number; code?: string; fatal?: boolean } | null;
  if (!e) return false;
  if (e.fatal) return true;
  return (
    (typeof e.code === "string" &&
      /^(ECONN|ETIMEDOUT|EHOST|ENOTFOUND|PROTOCOL_|EPIPE)/.test(e.code)) ||
    e.code === "ER_ACCESS_DENIED_ERROR"
  );
}
