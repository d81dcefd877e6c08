import {
  canonicalKeyBytes,
  hashKeyFunction,
  type KeyRange,
  type MysqlDirectoryStore,
  parseKeyRange,
  parseMysqlUrl,
  rangeContains,
} from "@shardkit/directory";
import { connect, type SqlConnection } from "@shardkit/directory/internal";

/** The mover every test acts as, and how long its lease lasts. */
export const OWNER = "mover-1";
export const TTL_MS = 60_000;

/** `count` integer keys (from `from` up) whose keyspace ids fall in `range`. */
export function keysIn(range: KeyRange | string, count = 1, from = 1): number[] {
  const r = typeof range === "string" ? parseKeyRange(range) : range;
  const keys: number[] = [];
  for (let k = from; keys.length < count; k++) {
    if (rangeContains(r, hashKeyFunction.ksid(k))) keys.push(k);
  }
  return keys;
}

/** Creates a range move from `source` to `target` and takes its lease as {@link OWNER}. */
export async function startRangeMove(
  store: MysqlDirectoryStore,
  id: string,
  range: string,
  source: string,
  target: string,
) {
  const created = await store.createMove({
    id,
    kind: "range",
    range: parseKeyRange(range),
    source,
    target,
    options: { chunkSize: 100 },
  });
  await store.acquireMoveLease(id, OWNER, TTL_MS);
  return created;
}

/** Pins `key` to `source`, creates a move of it to `target`, takes its lease as {@link OWNER}. */
export async function startKeyMove(
  store: MysqlDirectoryStore,
  id: string,
  key: unknown,
  source: string,
  target: string,
) {
  await store.pinKey(key, source);
  const ksid = hashKeyFunction.ksid(key);
  const created = await store.createMove({
    id,
    kind: "key",
    range: { start: ksid, end: ksid + 1 },
    keyBytes: canonicalKeyBytes(key),
    source,
    target,
  });
  await store.acquireMoveLease(id, OWNER, TTL_MS);
  return created;
}

/**
 * Asks the shard at `url` whether it takes a write for `key` now, as a router does (the fence
 * procedure): "ok", or the fence's message.
 */
export async function fenceAnswer(url: string, key: unknown): Promise<string> {
  const conn = await connect(parseMysqlUrl(url));
  try {
    await conn.query("CALL shardkit_begin_fenced(?, ?)", [
      hashKeyFunction.ksid(key),
      canonicalKeyBytes(key),
    ]);
    await conn.query("COMMIT");
    return "ok";
  } catch (error) {
    return (error as Error).message.replace(/^.*shardkit fence: /, "");
  } finally {
    await conn.close();
  }
}

/** A write in flight for `key` on the shard at `url`: its transaction holds the fence row's shared lock until `end`. */
export async function writeInFlight(
  url: string,
  key: unknown,
): Promise<{ conn: SqlConnection; end(): Promise<void> }> {
  const conn = await connect(parseMysqlUrl(url));
  await conn.query("CALL shardkit_begin_fenced(?, ?)", [
    hashKeyFunction.ksid(key),
    canonicalKeyBytes(key),
  ]);
  return {
    conn,
    async end() {
      await conn.query("COMMIT");
      await conn.close();
    },
  };
}

/** Whether `promise` settles within `ms` milliseconds. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
