import {
  canonicalKeyString,
  columnKey,
  type DirectoryMap,
  type KeyColumnType,
  type ShardKey,
  ShardKeyError,
  type ShardkitError,
  type ShardRecord,
  type TextComparison,
} from "@shardkit/directory";
import { readKeyColumnTypes, type SqlRunner } from "@shardkit/directory/internal";
import { RouterError } from "../router-errors.js";

/** Probes of collations already run, per shard location, shared between reads. */
export type CollationProbes = Map<string, Map<string, Promise<TextComparison>>>;

/** How the key columns are read: a runner per shard, and how long a shard may take. */
export interface KeyColumnSource {
  /** Runs SQL on `shard` (a read-only session). */
  runner(shard: ShardRecord): SqlRunner;
  /** Collation probes kept between reads. */
  readonly probes: CollationProbes;
  /** A shard that has not answered after this many ms counts as unread. */
  readonly timeoutMs: number;
}

type TableKeyColumn =
  | { readonly types: readonly KeyColumnType[]; readonly shards: readonly string[] }
  | { readonly error: ShardkitError };

/**
 * The key column of every sharded table at one directory version, as the shards define it
 * (read from each shard's information_schema, in parallel), and the column key of a key.
 */
export class KeyColumns {
  /** The directory version these columns were read for. */
  readonly map: DirectoryMap;
  /** Shards that did not answer: read again before long. */
  readonly unreadShards: readonly string[];
  readonly #tables: ReadonlyMap<string, TableKeyColumn>;

  private constructor(
    map: DirectoryMap,
    tables: ReadonlyMap<string, TableKeyColumn>,
    unreadShards: readonly string[],
  ) {
    this.map = map;
    this.#tables = tables;
    this.unreadShards = unreadShards;
  }

  /** Reads the key columns of `map`'s tables from every shard; never throws (a table that cannot be read keeps its error). */
  static async read(map: DirectoryMap, source: KeyColumnSource): Promise<KeyColumns> {
    const tables = map.snapshot.tables;
    const shards = map.snapshot.shards;
    if (tables.length === 0) return new KeyColumns(map, new Map(), []);
    const results = await Promise.all(
      shards.map(async (shard) => {
        try {
          const probes = probesOf(source.probes, shard);
          const types = await withTimeout(
            readKeyColumnTypes(source.runner(shard), tables, probes),
            source.timeoutMs,
            shard.name,
          );
          return { shard: shard.name, types };
        } catch (error) {
          return { shard: shard.name, error };
        }
      }),
    );
    const unread = results.filter((r) => "error" in r);
    const out = new Map<string, TableKeyColumn>();
    for (const t of tables) {
      const byType = new Map<string, { type: KeyColumnType; shards: string[] }>();
      for (const r of results) {
        const type = "types" in r ? r.types?.get(t.name) : undefined;
        if (!type) continue;
        const id = JSON.stringify({ ...type, table: "", column: "" });
        const seen = byType.get(id);
        if (seen) seen.shards.push(r.shard);
        else byType.set(id, { type, shards: [r.shard] });
      }
      if (byType.size > 0) {
        out.set(t.name, {
          types: [...byType.values()].map((v) => v.type),
          shards: [...byType.values()].map((v) => v.shards.join(", ")),
        });
      } else if (shards.length === 0) {
        out.set(t.name, {
          error: new RouterError(
            "NO_SHARDS",
            `no shard is registered to read the type of ${t.name}.${t.keyColumn} from; register shards with shardkit shard add`,
            { details: { table: t.name } },
          ),
        });
      } else if (unread.length === shards.length) {
        const first = unread[0] as { shard: string; error: unknown };
        out.set(t.name, {
          error: new RouterError(
            "SHARD_UNAVAILABLE",
            `the type of ${t.name}.${t.keyColumn} could not be read from any shard (${first.shard}: ${(first.error as Error)?.message ?? first.error}); retry when a shard answers`,
            { details: { table: t.name, shard: first.shard }, cause: first.error },
          ),
        });
      } else {
        const checked = results.filter((r) => "types" in r).map((r) => r.shard);
        out.set(t.name, {
          error: new RouterError(
            "TABLE_NOT_ON_SHARD",
            `no shard has the key column ${t.name}.${t.keyColumn} (checked ${checked.join(", ")}); create the table on every shard`,
            { details: { table: t.name, shards: checked } },
          ),
        });
      }
    }
    return new KeyColumns(
      map,
      out,
      unread.map((r) => r.shard),
    );
  }

  /**
   * These columns for another directory version `map`, when every table of `map` is one read
   * here with the same key column (a range split, move or pin changes no column); else
   * undefined, and the columns must be read for `map`.
   */
  rebind(map: DirectoryMap): KeyColumns | undefined {
    const tables = new Map<string, TableKeyColumn>();
    for (const t of map.snapshot.tables) {
      const entry = this.#tables.get(t.name);
      const before = this.map.table(t.name);
      if (!entry || "error" in entry || before?.keyColumn !== t.keyColumn) return undefined;
      tables.set(t.name, entry);
    }
    return new KeyColumns(map, tables, this.unreadShards);
  }

  /**
   * The value `table`'s key column stores for `key`, which routes it (docs/keyspace.md, "Key
   * columns"); throws BAD_SHARD_KEY when MySQL would store another value, UNKNOWN_TABLE for a
   * table that is not sharded, or why the column could not be read.
   */
  columnKey(table: string, key: unknown): ShardKey {
    const entry = this.#tables.get(table);
    if (!entry) {
      this.map.requireTable(table);
      throw new RouterError(
        "INTERNAL",
        `the key column of ${table} was not read with its directory version; call router.refresh()`,
        { details: { table } },
      );
    }
    if ("error" in entry) throw entry.error;
    const types = entry.types;
    const type = types[0] as KeyColumnType;
    const result = columnKey(type, key);
    if (result instanceof ShardKeyError) throw result;
    // Shards that define the column differently (an ALTER half way through) must agree on
    // the key, else a row could be stored under another key on one of them.
    for (let i = 1; i < types.length; i++) {
      const alt = columnKey(types[i] as KeyColumnType, key);
      if (alt instanceof ShardKeyError) throw alt;
      if (canonicalKeyString(alt) !== canonicalKeyString(result)) {
        throw new ShardKeyError(
          "BAD_SHARD_KEY",
          `${table}.${type.column} is defined differently on shards ${entry.shards.join(" / ")}, which store this key as different values; give the column one definition on every shard`,
          { details: { table, column: type.column } },
        );
      }
    }
    return result;
  }
}

function probesOf(all: CollationProbes, shard: ShardRecord): Map<string, Promise<TextComparison>> {
  // A collation is probed per server: the shard's location, not its name.
  const id = `${shard.host}:${shard.port}`;
  let probes = all.get(id);
  if (!probes) {
    probes = new Map();
    all.set(id, probes);
  }
  return probes;
}

function withTimeout<T>(work: Promise<T>, ms: number, shard: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RouterError("SHARD_UNAVAILABLE", `shard ${shard} did not answer within ${ms} ms`, {
            details: { shard },
          }),
        ),
      ms,
    );
  });
  work.catch(() => undefined);
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
