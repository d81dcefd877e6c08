import { formatKeyRange, type KeyRange, redactUrl, ShardkitError } from "@shardkit/directory";
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

/**
 * A scatter's failure on one shard as a router error: SHARD_UNAVAILABLE when the shard could not
 * be reached (retry), QUERY_FAILED when MySQL rejected the query or the query function threw
 * (fix the query), carrying MySQL's message and, in details, its code, errno and SQL state.
 */
export function scatterFailure(error: unknown, shard: string): Error {
  const wrapped = wrapShardError(error, shard);
  if (wrapped instanceof ShardkitError) return wrapped;
  const e = error as {
    message?: unknown;
    code?: unknown;
    errno?: unknown;
    sqlState?: unknown;
    sqlMessage?: unknown;
  };
  const fromMysql = typeof e?.sqlMessage === "string" || typeof e?.errno === "number";
  const message = redactUrl(String(e?.sqlMessage ?? e?.message ?? error)).replace(/\s+/g, " ");
  return new RouterError(
    "QUERY_FAILED",
    fromMysql
      ? `the query failed on shard ${shard}: ${message}; fix the query`
      : `the query function threw for shard ${shard}: ${message}; fix the query function`,
    {
      details: {
        shard,
        ...(typeof e?.code === "string" ? { mysqlCode: e.code } : {}),
        ...(typeof e?.errno === "number" ? { errno: e.errno } : {}),
        ...(typeof e?.sqlState === "string" ? { sqlState: e.sqlState } : {}),
      },
      cause: error,
    },
  );
}
