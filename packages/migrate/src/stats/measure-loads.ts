import {
  type CredentialResolver,
  canonicalKeyString,
  columnKey,
  credentialResolver,
  type DirectoryAdmin,
  type DirectorySnapshot,
  formatKeyRange,
  type RangeAssignment,
  ShardKeyError,
  type ShardRecord,
} from "@shardkit/directory";
import { quoteIdentifier } from "@shardkit/directory/internal";
import { openShardConnection } from "../connection/shard-connection.js";
import { MoveError } from "../move-error.js";
import { bucketCount, bucketOf, type Load } from "../planner/range-loads.js";
import { orderByPrimaryKey, primaryKeyBound, primaryKeyOf } from "../rows/primary-key.js";
import { readTableSchemas, type TableSchema } from "../rows/table-schema.js";
import { type RangeStats, type StatsReport, sampleBound, type TopKey } from "./stats-model.js";

/** Options of {@link measureLoads}. */
export interface MeasureOptions {
  /** Read this fraction of each table's rows (0 < f <= 1) and scale up. Default 1 (exact). */
  readonly sample?: number;
  /** Top keys by rows to report. Default 10. */
  readonly topKeys?: number;
  /** Rows read per query. Default 5000. */
  readonly chunkSize?: number;
  /** Shard passwords. Default: `credentialResolver()` (the environment). */
  readonly credentials?: CredentialResolver;
  /** Log in as this user instead of each shard's registered user. */
  readonly user?: string;
  /** Progress: rows read so far per shard and table. */
  readonly onProgress?: (p: { shard: string; table: string; rowsRead: number }) => void;
  readonly signal?: AbortSignal;
}

interface Tally {
  rows: number;
  bytes: number;
}

/**
 * Measures every range's rows and bytes by reading the sharded tables on every shard and
 * computing each row's keyspace id, as the router does (`sample`: a fraction of the rows,
 * chosen by a hash of the primary key, scaled up). A row's bytes are the lengths of its
 * values. Rows count for the range (or pin) that owns them on the shard that owns it.
 *
 * @example
 * const report = await measureLoads(admin, { sample: 0.1 });
 * for (const r of report.ranges) console.log(r.range, r.shard, r.rows, r.bytes);
 */
export async function measureLoads(
  admin: DirectoryAdmin,
  options: MeasureOptions = {},
): Promise<StatsReport> {
  const sample = options.sample ?? 1;
  if (!(Number.isFinite(sample) && sample > 0 && sample <= 1)) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `invalid --sample ${sample}: give a fraction above 0 and at most 1, e.g. 0.1 for a tenth of the rows`,
    );
  }
  const takenAt = new Date().toISOString();
  const snapshot = await admin.snapshot();
  if (snapshot.ranges.length === 0) {
    throw new MoveError(
      "NO_LAYOUT",
      "the directory has no ranges yet: lay them out with shardkit layout",
    );
  }
  const scale = 1 / sample;
  const ranges = snapshot.ranges.map((r) => ({
    assignment: r,
    total: { rows: 0, bytes: 0 } as Tally,
    tables: new Map<string, Tally>(),
    buckets: Array.from({ length: bucketCount(r.range) }, () => ({ rows: 0, bytes: 0 }) as Tally),
  }));
  const pinned = new Map<string, { shard: string; tally: Tally }>();
  for (const p of snapshot.pins) {
    pinned.set(Buffer.from(p.keyBytes).toString("latin1"), {
      shard: p.shard,
      tally: { rows: 0, bytes: 0 },
    });
  }
  const counts = { unroutable: 0, stray: 0 };
  const top: TopKey[] = [];
  const password = options.credentials ?? credentialResolver();
  await Promise.all(
    snapshot.shards.map(async (shard) => {
      const conn = await openShardConnection(shard, {
        user: options.user ?? shard.user,
        password: password(shard.name),
      });
      try {
        const { schemas } = await readTableSchemas(conn, shard.name, snapshot.tables);
        for (const table of snapshot.tables) {
          const schema = schemas.get(table.name);
          if (!schema) continue;
          await scanTable(conn, schema, sample, options, (key, bytes) => {
            const k = columnKey(schema.keyType, key);
            if (k instanceof ShardKeyError) {
              counts.unroutable++;
              return;
            }
            const identity = canonicalKeyString(k);
            const pin = pinned.get(identity);
            if (pin) {
              if (pin.shard !== shard.name) counts.stray++;
              else add(pin.tally, bytes);
              return;
            }
            const ksid = schema.keyFunction.map([k])[0];
            if (typeof ksid !== "number") {
              counts.unroutable++;
              return;
            }
            const i = findRange(snapshot, ksid);
            const r = ranges[i];
            if (!r || r.assignment.shard !== shard.name) {
              counts.stray++;
              return;
            }
            add(r.total, bytes);
            const t = r.tables.get(table.name) ?? { rows: 0, bytes: 0 };
            add(t, bytes);
            r.tables.set(table.name, t);
            add(r.buckets[bucketOf(r.assignment.range, ksid)] as Tally, bytes);
          });
          for (const t of await topKeys(conn, schema, sample, options.topKeys ?? 10)) {
            top.push({ ...t, shard: shard.name, rows: Math.round(t.rows * scale) });
          }
        }
      } finally {
        await conn.close();
      }
    }),
  );
  const scaled = (t: Tally): Load => ({
    rows: Math.round(t.rows * scale),
    bytes: Math.round(t.bytes * scale),
  });
  const rangeStats: RangeStats[] = ranges.map((r) => ({
    range: formatKeyRange(r.assignment.range),
    shard: r.assignment.shard,
    ...scaled(r.total),
    tables: Object.fromEntries([...r.tables].map(([name, t]) => [name, scaled(t)])),
    buckets: r.buckets.map(scaled),
  }));
  return {
    directoryVersion: snapshot.version,
    takenAt,
    sample: sample < 1 ? sample : null,
    errorBound: sample < 1 ? { sigmas: 3, relative: sampleBound(1, sample) } : null,
    ranges: rangeStats,
    shards: shardTotals(snapshot.shards, snapshot.ranges, rangeStats, pinned, scaled),
    tables: snapshot.tables.map((t) => {
      const sum = { rows: 0, bytes: 0 };
      for (const r of rangeStats) {
        sum.rows += r.tables[t.name]?.rows ?? 0;
        sum.bytes += r.tables[t.name]?.bytes ?? 0;
      }
      return { table: t.name, ...sum };
    }),
    topKeys: top.sort((a, b) => b.rows - a.rows).slice(0, options.topKeys ?? 10),
    unroutableRows: Math.round(counts.unroutable * scale),
    strayRows: Math.round(counts.stray * scale),
  };
}

function add(t: Tally, bytes: number): void {
  t.rows++;
  t.bytes += bytes;
}

/** A key's canonical string as people read it (text as is, binary in hex). */
function keyText(identity: string): string {
  const bytes = Buffer.from(identity, "latin1");
  const text = bytes.toString("utf8");
  return Buffer.from(text, "utf8").equals(bytes) && ![...text].some((c) => c.charCodeAt(0) < 32)
    ? text
    : `0x${bytes.toString("hex")}`;
}

/** The index of the range holding `ksid` (ranges are sorted and cover the keyspace). */
function findRange(snapshot: DirectorySnapshot, ksid: number): number {
  let lo = 0;
  let hi = snapshot.ranges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((snapshot.ranges[mid] as RangeAssignment).range.start <= ksid) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function shardTotals(
  shards: readonly ShardRecord[],
  assignments: readonly RangeAssignment[],
  ranges: readonly RangeStats[],
  pinned: Map<string, { shard: string; tally: Tally }>,
  scaled: (t: Tally) => Load,
): StatsReport["shards"] {
  return shards.map((s) => {
    const pin = { rows: 0, bytes: 0 };
    for (const p of pinned.values()) {
      if (p.shard !== s.name) continue;
      pin.rows += p.tally.rows;
      pin.bytes += p.tally.bytes;
    }
    const pinnedLoad = scaled(pin);
    const total = { rows: pinnedLoad.rows, bytes: pinnedLoad.bytes };
    for (const r of ranges) {
      if (r.shard !== s.name) continue;
      total.rows += r.rows;
      total.bytes += r.bytes;
    }
    return {
      shard: s.name,
      ranges: assignments.filter((a) => a.shard === s.name).length,
      ...total,
      pinned: pinnedLoad,
    };
  });
}

/** The condition choosing a sample's rows by a hash (MD5) of their primary key, or null for every row. */
function sampleCondition(table: TableSchema, sample: number): string | null {
  if (sample >= 1) return null;
  const pk = table.primaryKey.map(quoteIdentifier);
  // The first 32 bits of MD5: CRC32 is linear, so keys that differ in a few characters (1, 2,
  // 3...) get CRC32s that cluster, and a threshold on them is no random sample.
  return `CAST(CONV(LEFT(MD5(CONCAT_WS(',', ${pk.join(", ")})), 8), 16, 10) AS UNSIGNED) < ${Math.floor(sample * 4294967296)}`;
}

/**
 * The keys of `table` with the most rows on this shard (of the sample), counted by the server
 * (a GROUP BY over the key column, so no key list is held in memory here).
 */
async function topKeys(
  conn: Awaited<ReturnType<typeof openShardConnection>>,
  table: TableSchema,
  sample: number,
  limit: number,
): Promise<{ table: string; key: string; rows: number }[]> {
  if (limit <= 0) return [];
  const key = quoteIdentifier(table.keyColumn);
  const where = sampleCondition(table, sample);
  const rows = await conn.query<{ k: unknown; n: number | string }>(
    `SELECT ${key} AS k, COUNT(*) AS n FROM ${quoteIdentifier(table.name)}${where ? ` WHERE ${where}` : ""} GROUP BY ${key} ORDER BY n DESC LIMIT ${Math.floor(limit)}`,
  );
  return rows.map((r) => {
    const k = columnKey(table.keyType, r.k);
    return {
      table: table.name,
      key: k instanceof ShardKeyError ? String(r.k) : keyText(canonicalKeyString(k)),
      rows: Number(r.n),
    };
  });
}

/**
 * Reads `table`'s key column and each row's bytes in primary-key order, in chunks; with a
 * sample below 1 only rows whose primary key hashes (MD5) below the fraction.
 */
async function scanTable(
  conn: Awaited<ReturnType<typeof openShardConnection>>,
  table: TableSchema,
  sample: number,
  options: MeasureOptions,
  onRow: (key: unknown, bytes: number) => void,
): Promise<void> {
  const chunk = options.chunkSize ?? 5000;
  const pk = table.primaryKey.map(quoteIdentifier);
  const bytesExpr = table.columns
    .map((c) => `COALESCE(LENGTH(${quoteIdentifier(c)}), 0)`)
    .join(" + ");
  const sampleSql = sampleCondition(table, sample);
  let after: readonly unknown[] | null = null;
  let read = 0;
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason;
    const terms: string[] = [];
    const params: unknown[] = [];
    if (sampleSql) terms.push(sampleSql);
    if (after) {
      const b = primaryKeyBound(table, after, ">");
      terms.push(b.sql);
      params.push(...b.params);
    }
    const where = terms.length > 0 ? ` WHERE ${terms.join(" AND ")}` : "";
    const rows = await conn.query<Record<string, unknown>>(
      `SELECT ${pk.join(", ")}, ${quoteIdentifier(table.keyColumn)} AS \`shardkit_key\`, ${bytesExpr} AS \`shardkit_bytes\` FROM ${quoteIdentifier(table.name)}${where} ORDER BY ${orderByPrimaryKey(table)} LIMIT ${chunk}`,
      params,
    );
    for (const row of rows) onRow(row.shardkit_key, Number(row.shardkit_bytes));
    read += rows.length;
    options.onProgress?.({ shard: conn.shard, table: table.name, rowsRead: read });
    if (rows.length < chunk) return;
    after = primaryKeyOf(table, rows.at(-1) as Record<string, unknown>);
  }
}
