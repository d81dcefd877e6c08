// The JSON the directory service speaks and the HTTP source reads: one place for both sides,
// so the shapes cannot drift. Keyspace ids and range bounds travel as numbers (exact below
// 2^53) next to their hex forms; key bytes as hex.
import { ShardkitError } from "../../errors/shardkit-error.js";
import { formatKeyRange, type KeyRange, keyRange } from "../../key-range.js";
import type { DirectorySnapshot, RouterHeartbeat } from "../../model.js";
import type { ActiveMove } from "../../move-model.js";

/** A range as the service sends it: Vitess notation and its bounds. */
export interface WireRange {
  readonly range: string;
  readonly start: number;
  readonly end: number;
}

/** A directory snapshot as JSON (`GET /v1/snapshot`). */
export interface WireSnapshot {
  readonly version: number;
  readonly shards: DirectorySnapshot["shards"];
  readonly tables: DirectorySnapshot["tables"];
  readonly ranges: readonly (WireRange & { readonly shard: string; readonly state: string })[];
  readonly pins: readonly {
    readonly key: string;
    readonly keyHex: string;
    readonly ksid: string;
    readonly shard: string;
    readonly state: string;
  }[];
  readonly moves: readonly (WireRange & {
    readonly id: string;
    readonly kind: string;
    readonly keyHex: string | null;
    readonly source: string;
    readonly target: string;
    readonly state: string;
  })[];
}

/** A router heartbeat as JSON. */
export interface WireHeartbeat {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly version: number;
  readonly lastSeen: string;
}

const HEX_BYTES = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** A keyspace id as JSON: 8 lowercase hex digits, as docs/keyspace.md writes them. */
export function ksidHex(ksid: number): string {
  // A byte at a time from a table: `toString(16).padStart(8)` cost more than the lookup itself.
  return (
    (HEX_BYTES[ksid >>> 24] as string) +
    (HEX_BYTES[(ksid >>> 16) & 255] as string) +
    (HEX_BYTES[(ksid >>> 8) & 255] as string) +
    (HEX_BYTES[ksid & 255] as string)
  );
}

/** A key range as JSON. */
export function wireRange(range: KeyRange): WireRange {
  return { range: formatKeyRange(range), start: range.start, end: range.end };
}

/** A snapshot as JSON. */
export function encodeSnapshot(s: DirectorySnapshot): WireSnapshot {
  return {
    version: s.version,
    shards: s.shards,
    tables: s.tables,
    ranges: s.ranges.map((r) => ({ ...wireRange(r.range), shard: r.shard, state: r.state })),
    pins: s.pins.map((p) => ({
      key: p.keyText,
      keyHex: Buffer.from(p.keyBytes).toString("hex"),
      ksid: ksidHex(p.ksid),
      shard: p.shard,
      state: p.state,
    })),
    moves: s.moves.map((m) => ({
      id: m.id,
      kind: m.kind,
      ...wireRange(m.range),
      keyHex: m.keyBytes === null ? null : Buffer.from(m.keyBytes).toString("hex"),
      source: m.source,
      target: m.target,
      state: m.state,
    })),
  };
}

/** A snapshot from JSON; a body of another shape is DIRECTORY_UNAVAILABLE naming `location`. */
export function decodeSnapshot(body: unknown, location: string): DirectorySnapshot {
  try {
    const w = body as WireSnapshot;
    if (typeof w.version !== "number") throw new TypeError("no version");
    return {
      version: w.version,
      shards: w.shards.map((s) => ({ ...s })),
      tables: w.tables.map((t) => ({ ...t })),
      ranges: w.ranges.map((r) => ({
        range: keyRange(r.start, r.end),
        shard: r.shard,
        state: r.state as DirectorySnapshot["ranges"][number]["state"],
      })),
      pins: w.pins.map((p) => ({
        keyBytes: new Uint8Array(Buffer.from(p.keyHex, "hex")),
        keyText: p.key,
        ksid: Number.parseInt(p.ksid, 16),
        shard: p.shard,
        state: p.state as DirectorySnapshot["pins"][number]["state"],
      })),
      moves: w.moves.map(
        (m): ActiveMove => ({
          id: m.id,
          kind: m.kind as ActiveMove["kind"],
          range: keyRange(m.start, m.end),
          keyBytes: m.keyHex === null ? null : new Uint8Array(Buffer.from(m.keyHex, "hex")),
          source: m.source,
          target: m.target,
          state: m.state as ActiveMove["state"],
        }),
      ),
    };
  } catch (error) {
    throw new ShardkitError(
      "DIRECTORY_UNAVAILABLE",
      `the directory service at ${location} sent a snapshot this shardkit cannot read; run the same shardkit version on both sides`,
      { cause: error, details: { location } },
    );
  }
}

/** A heartbeat as JSON. */
export function encodeHeartbeat(h: RouterHeartbeat): WireHeartbeat {
  return { ...h, lastSeen: h.lastSeen.toISOString() };
}

/** A heartbeat from JSON. */
export function decodeHeartbeat(w: WireHeartbeat): RouterHeartbeat {
  return { ...w, lastSeen: new Date(w.lastSeen) };
}
