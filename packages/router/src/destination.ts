// Where a query goes, as a closed set of destinations (Vitess's go/vt/key/destination.go), and
// the one place they are resolved to shards against a directory map.
import {
  canonicalKeyBytes,
  type DirectoryMap,
  formatKeyRange,
  type KeyLocation,
  type KeyRange,
  parseKeyRange,
  rangesOverlap,
  ShardkitError,
} from "@shardkit/directory";
import { RouterError } from "./router-errors.js";
import type { FenceParams } from "./write/fence-params.js";

/** The kinds of destination, one per way a caller names where a query goes. */
export const DESTINATION_KINDS = ["key", "keys", "keyRange", "shard", "allShards"] as const;
/** One of {@link DESTINATION_KINDS}. */
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

/** Where a query goes: one key, several keys, the owners of a key range, one shard by name, or every shard. */
export type Destination =
  | { readonly kind: "key"; readonly key: unknown; readonly table?: string }
  | { readonly kind: "keys"; readonly keys: readonly unknown[]; readonly table?: string }
  | { readonly kind: "keyRange"; readonly range: KeyRange | string }
  | { readonly kind: "shard"; readonly shard: string }
  | { readonly kind: "allShards" };

/** Where a key lives, as the router resolved it, with the fence parameters a write needs. */
export interface KeyTarget extends KeyOwner {
  /** The key as given. */
  readonly key: unknown;
  /** The fence a write of the key checks on its shard. */
  readonly fence: FenceParams;
}

/** The value `table`'s key column stores for `key` (see `columnKey` in @shardkit/directory); throws BAD_SHARD_KEY. */
export type ColumnKeyOf = (table: string, key: unknown) => unknown;

/** One shard a destination resolved to, with the keys (if any) that led there, in the caller's order. */
export interface ShardDestination {
  readonly shard: string;
  readonly targets: readonly KeyTarget[];
}

/** Keys longer than this are never pinned, so their fence skips the pin lookup. */
const MAX_PINNED_KEY_BYTES = 255;

/**
 * Resolves a destination against one directory version: the shards it names, in a stable
 * order (keys: first appearance; ranges and all shards: by name). Keys with a table are
 * routed by `columnKeyOf` when given (the router passes the shards' key column types).
 * Throws NO_OWNER when a key has no owner, UNKNOWN_SHARD for a shard that is not registered.
 */
export function resolveDestination(
  map: DirectoryMap,
  destination: Destination,
  columnKeyOf?: ColumnKeyOf,
): ShardDestination[] {
  switch (destination.kind) {
    case "key": {
      const target = locateKey(map, destination.key, destination.table, columnKeyOf);
      return [{ shard: target.shard, targets: [target] }];
    }
    case "keys": {
      const byShard = new Map<string, KeyTarget[]>();
      for (const key of destination.keys) {
        const target = locateKey(map, key, destination.table, columnKeyOf);
        const list = byShard.get(target.shard);
        if (list) list.push(target);
        else byShard.set(target.shard, [target]);
      }
      return [...byShard].map(([shard, targets]) => ({ shard, targets }));
    }
    case "keyRange":
      return shardsOf(map, destination.range).map((shard) => ({ shard, targets: [] }));
    case "allShards":
      return shardsOf(map, undefined).map((shard) => ({ shard, targets: [] }));
    case "shard":
      if (!map.shard(destination.shard)) {
        throw new RouterError(
          "UNKNOWN_SHARD",
          `unknown shard ${destination.shard}; see shardkit shard list`,
          { details: { shard: destination.shard } },
        );
      }
      return [{ shard: destination.shard, targets: [] }];
  }
}

/** Where a key lives, for a read: the location and the value it was routed by. */
export interface KeyOwner extends KeyLocation {
  /** The key that was routed: the value the table's key column stores (the key itself without a table). */
  readonly columnKey: unknown;
}

/**
 * Where `key` lives; `table` selects the table's key function, and `columnKeyOf` (when given)
 * turns the key into its column key first. Throws NO_OWNER when nothing owns it.
 */
export function ownerOfKey(
  map: DirectoryMap,
  key: unknown,
  table?: string,
  columnKeyOf?: ColumnKeyOf,
): KeyOwner {
  // With no layout there is nothing to route to: say so before asking about the key column.
  const routed =
    table !== undefined && columnKeyOf && map.snapshot.ranges.length > 0
      ? columnKeyOf(table, key)
      : key;
  let loc: KeyLocation;
  try {
    loc = map.lookup(routed, table);
  } catch (error) {
    if (error instanceof ShardkitError && error.code === "NO_LAYOUT") {
      throw new RouterError("NO_OWNER", `no shard owns any key yet: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  if (!map.shard(loc.shard)) {
    throw new RouterError(
      "NO_OWNER",
      `the directory names shard ${loc.shard} as owner, but it is not registered; run shardkit doctor`,
      { details: { shard: loc.shard, range: formatKeyRange(loc.range) } },
    );
  }
  return {
    ksid: loc.ksid,
    range: loc.range,
    shard: loc.shard,
    pinned: loc.pinned,
    columnKey: routed,
  };
}

/** Where `key` lives and the fence a write of it checks (see {@link ownerOfKey}). */
export function locateKey(
  map: DirectoryMap,
  key: unknown,
  table?: string,
  columnKeyOf?: ColumnKeyOf,
): KeyTarget {
  const owner = ownerOfKey(map, key, table, columnKeyOf);
  const bytes = canonicalKeyBytes(owner.columnKey);
  // Listed rather than spread: an object spread here cost more than the rest of the lookup.
  return {
    ksid: owner.ksid,
    range: owner.range,
    shard: owner.shard,
    pinned: owner.pinned,
    columnKey: owner.columnKey,
    key,
    fence: { ksid: owner.ksid, keyBytes: bytes.length <= MAX_PINNED_KEY_BYTES ? bytes : null },
  };
}

/**
 * The shards holding rows of `range` (every shard with a range or a pin when undefined): the
 * owners of overlapping ranges, and the shards of pinned keys whose keyspace id is in it.
 */
function shardsOf(map: DirectoryMap, range: KeyRange | string | undefined): string[] {
  const r = typeof range === "string" ? parseKeyRange(range) : range;
  const names = new Set<string>();
  for (const a of map.snapshot.ranges) if (!r || rangesOverlap(a.range, r)) names.add(a.shard);
  for (const p of map.snapshot.pins) {
    if (!r || (r.start <= p.ksid && p.ksid < r.end)) names.add(p.shard);
  }
  return [...names].sort();
}
