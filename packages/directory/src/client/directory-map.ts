import { DirectoryError } from "../errors/directory-error.js";
import {
  canonicalKeyString,
  getKeyFunction,
  hashKeyFunction,
  type KeyFunction,
} from "../key-function.js";
import type { KeyRange } from "../key-range.js";
import type {
  DirectorySnapshot,
  PinnedKey,
  RangeAssignment,
  ShardedTable,
  ShardRecord,
} from "../model.js";

/** Where one key lives. */
export interface KeyLocation {
  readonly ksid: number;
  readonly range: KeyRange;
  readonly shard: string;
  /** True when the key is pinned: `shard` comes from the pin, not from `range`. */
  readonly pinned: boolean;
}

/** An immutable, in-memory view of one directory version; lookups never query. */
export class DirectoryMap {
  readonly snapshot: DirectorySnapshot;
  readonly #starts: Uint32Array;
  readonly #ranges: readonly RangeAssignment[];
  readonly #pins: ReadonlyMap<string, PinnedKey>;
  /** Hash ksids of pinned keys: a key whose hash ksid is not here cannot be pinned. */
  readonly #pinnedKsids: ReadonlySet<number>;
  /** The same ksids, sorted, to ask whether a range holds any. */
  readonly #sortedPinnedKsids: Float64Array;
  readonly #tables: ReadonlyMap<string, { table: ShardedTable; fn: KeyFunction }>;
  readonly #shards: ReadonlyMap<string, ShardRecord>;

  constructor(snapshot: DirectorySnapshot) {
    this.snapshot = snapshot;
    this.#ranges = [...snapshot.ranges].sort((a, b) => a.range.start - b.range.start);
    this.#starts = Uint32Array.from(this.#ranges, (r) => r.range.start);
    this.#pins = new Map(snapshot.pins.map((p) => [canonicalKeyString(p.keyBytes), p]));
    this.#pinnedKsids = new Set(snapshot.pins.map((p) => p.ksid));
    this.#sortedPinnedKsids = Float64Array.from(this.#pinnedKsids).sort();
    this.#tables = new Map(
      snapshot.tables.map((t) => [t.name, { table: t, fn: getKeyFunction(t.keyFunction) }]),
    );
    this.#shards = new Map(snapshot.shards.map((s) => [s.name, s]));
  }

  /** The directory version this map was loaded at. */
  get version(): number {
    return this.snapshot.version;
  }

  /**
   * Where `key` lives: a pinned key's shard first, else the owner of the range holding its
   * keyspace id. `table` picks that table's key function (default: hash).
   */
  lookup(key: unknown, table?: string): KeyLocation {
    const fn = table === undefined ? hashKeyFunction : this.#keyFunction(table);
    const ksid = fn.ksid(key);
    // Pins are stored with their hash ksid, so on the hash path only a matching ksid costs
    // the canonical-bytes lookup.
    if (this.#pins.size > 0 && (fn !== hashKeyFunction || this.#pinnedKsids.has(ksid))) {
      const pin = this.#pins.get(canonicalKeyString(key));
      if (pin)
        return { ksid, range: { start: ksid, end: ksid + 1 }, shard: pin.shard, pinned: true };
    }
    const owner = this.ownerOf(ksid);
    return { ksid, range: owner.range, shard: owner.shard, pinned: false };
  }

  /** The range assignment holding `ksid` (binary search). */
  ownerOf(ksid: number): RangeAssignment {
    const starts = this.#starts;
    let lo = 0;
    let hi = starts.length - 1;
    if (hi < 0) {
      throw new DirectoryError(
        "NO_LAYOUT",
        "the directory has no ranges yet; lay them out with shardkit layout even <n>",
      );
    }
    // Last range whose start <= ksid; ranges cover the keyspace, so it contains ksid.
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((starts[mid] as number) <= ksid) lo = mid;
      else hi = mid - 1;
    }
    return this.#ranges[lo] as RangeAssignment;
  }

  /** True when some pinned key's (hash) keyspace id falls in `range`. */
  hasPinnedKeysIn(range: KeyRange): boolean {
    const ksids = this.#sortedPinnedKsids;
    let lo = 0;
    let hi = ksids.length;
    // First pinned ksid >= range.start.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ksids[mid] as number) < range.start) lo = mid + 1;
      else hi = mid;
    }
    return lo < ksids.length && (ksids[lo] as number) < range.end;
  }

  /** The registered shard called `name`, or undefined. */
  shard(name: string): ShardRecord | undefined {
    return this.#shards.get(name);
  }

  /** The sharded table called `name`, or undefined. */
  table(name: string): ShardedTable | undefined {
    return this.#tables.get(name)?.table;
  }

  /** The sharded table called `name`; fails with UNKNOWN_TABLE when it is not registered. */
  requireTable(name: string): ShardedTable {
    return this.#entry(name).table;
  }

  #keyFunction(table: string): KeyFunction {
    return this.#entry(table).fn;
  }

  #entry(table: string): { table: ShardedTable; fn: KeyFunction } {
    const entry = this.#tables.get(table);
    if (!entry) {
      throw new DirectoryError(
        "UNKNOWN_TABLE",
        `table ${table} is not sharded; register it with shardkit table add ${table} --key <column>`,
      );
    }
    return entry;
  }
}
