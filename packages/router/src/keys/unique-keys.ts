// The unique keys of a sharded table (its primary key and UNIQUE indexes), as a shard defines
// them: what an INSERT that met a duplicate key can have met there. Read from the shard's
// information_schema on first need, and kept per server location and table until the router is
// told the schema changed (router.refresh()).
import type { ShardConnections } from "../shard-pools.js";

/** One column of a unique key; `prefix` is the indexed length of a prefix index (`code(10)`), else null. */
export interface UniqueKeyPart {
  readonly column: string;
  readonly prefix: number | null;
}

/** A unique key of a table: its primary key (listed first) or a UNIQUE index. */
export interface UniqueKey {
  readonly name: string;
  readonly primary: boolean;
  readonly parts: readonly UniqueKeyPart[];
}

// An index on an expression (MySQL 8) has no COLUMN_NAME: no value of a row can be compared
// with it, so that index is left out (a duplicate on it is reported as MySQL raised it).
const UNIQUE_KEYS_SQL = `SELECT INDEX_NAME AS name, COLUMN_NAME AS col, SUB_PART AS prefix
  FROM information_schema.STATISTICS
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0
  ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`;

/** The unique keys of tables per shard location, each read once and kept until {@link forget}. */
export class UniqueKeys {
  readonly #read = new Map<string, Promise<readonly UniqueKey[]>>();

  /** The unique keys of `table` on `shard`, primary key first; empty when the shard has no such table. */
  of(shard: ShardConnections, table: string): Promise<readonly UniqueKey[]> {
    const id = `${shard.location}\u0000${table}`;
    let keys = this.#read.get(id);
    if (!keys) {
      keys = readUniqueKeys(shard, table);
      this.#read.set(id, keys);
      // A failed read is not kept: the next duplicate asks again.
      keys.catch(() => this.#read.delete(id));
    }
    return keys;
  }

  /** Forgets every table's keys: they are read again when next needed (after a schema change). */
  forget(): void {
    this.#read.clear();
  }
}

async function readUniqueKeys(
  shard: ShardConnections,
  table: string,
): Promise<readonly UniqueKey[]> {
  const [rows] = (await shard.reader.raw(UNIQUE_KEYS_SQL, [table])) as [
    { name: string; col: string | null; prefix: number | string | null }[],
  ];
  const byName = new Map<string, { parts: UniqueKeyPart[]; usable: boolean }>();
  for (const r of rows) {
    let key = byName.get(r.name);
    if (!key) {
      key = { parts: [], usable: true };
      byName.set(r.name, key);
    }
    if (r.col === null) key.usable = false;
    else key.parts.push({ column: r.col, prefix: r.prefix === null ? null : Number(r.prefix) });
  }
  return [...byName]
    .filter(([, k]) => k.usable && k.parts.length > 0)
    .map(([name, k]) => ({ name, primary: name === "PRIMARY", parts: k.parts }));
}
