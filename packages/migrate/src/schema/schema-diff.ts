import type { CredentialResolver, ShardRecord } from "@shardkit/directory";
import { openShardConnection, type ShardConnection } from "../connection/shard-connection.js";
import { messageOf } from "../move-error.js";
import { normaliseDefinition, showCreateTable } from "../rows/table-schema.js";
import { definitionDifferences } from "./definition-differences.js";
import { registeredLogins } from "./shard-logins.js";

/** A table to compare across shards; a reference table names its source, whose definition is the one expected. */
export interface DiffTable {
  readonly name: string;
  readonly kind: "sharded" | "reference";
  /** For a reference table: the source database, compared too and taken as the expected definition. */
  readonly source?: ShardRecord;
}

/** One table on one shard (or source) defined otherwise than expected. */
export interface SchemaDifference {
  readonly table: string;
  readonly kind: DiffTable["kind"];
  /** The shard (or `source:<table>` for a reference table's source) that differs. */
  readonly shard: string;
  /** Where the expected definition comes from: the shards that agree, or the source. */
  readonly expectedFrom: readonly string[];
  /** `missing`, or what differs, one line each (see {@link definitionDifferences}). */
  readonly differences: readonly string[];
}

/** What {@link diffSchemas} found. */
export interface SchemaDiffReport {
  readonly tables: readonly string[];
  readonly checkedShards: readonly string[];
  readonly differences: readonly SchemaDifference[];
  /** Shards (or sources) that could not be read, each with the reason. */
  readonly unreachable: readonly { readonly shard: string; readonly error: string }[];
}

/**
 * Compares each table's definition (SHOW CREATE TABLE, the next AUTO_INCREMENT aside) on every
 * shard and names each difference. A sharded table is expected as most shards define it (ties:
 * the first shard by name); a reference table as its source defines it. Changes nothing.
 */
export async function diffSchemas(
  shards: readonly ShardRecord[],
  tables: readonly DiffTable[],
  credentials?: CredentialResolver,
): Promise<SchemaDiffReport> {
  const login = registeredLogins(credentials);
  const definitions = new Map<string, Map<string, string | null>>();
  const unreachable: { shard: string; error: string }[] = [];
  const read = async (label: string, record: ShardRecord, names: readonly string[]) => {
    let conn: ShardConnection | undefined;
    try {
      conn = await openShardConnection(record, login(record));
      for (const name of names) {
        const create = await showCreateTable(conn, name);
        const perShard = definitions.get(name) ?? new Map<string, string | null>();
        perShard.set(label, create === null ? null : normaliseDefinition(create));
        definitions.set(name, perShard);
      }
    } catch (error) {
      unreachable.push({ shard: label, error: messageOf(error) });
    } finally {
      await conn?.close();
    }
  };
  const sorted = [...shards].sort((a, b) => (a.name < b.name ? -1 : 1));
  const names = tables.map((t) => t.name);
  for (const shard of sorted) await read(shard.name, shard, names);
  for (const t of tables) if (t.source) await read(sourceLabel(t.name), t.source, [t.name]);
  const reached = sorted.map((s) => s.name).filter((s) => !unreachable.some((u) => u.shard === s));
  const differences: SchemaDifference[] = [];
  for (const t of tables) {
    const perShard = definitions.get(t.name) ?? new Map<string, string | null>();
    const expected = expectedDefinition(t, perShard, reached);
    if (!expected) continue;
    if (t.source && expected.definition === null) {
      const label = sourceLabel(t.name);
      differences.push({
        table: t.name,
        kind: t.kind,
        shard: label,
        expectedFrom: [],
        differences: ["missing"],
      });
      continue;
    }
    const labels = t.source ? [sourceLabel(t.name), ...reached] : reached;
    for (const label of labels) {
      if (!perShard.has(label) || expected.from.includes(label)) continue;
      const have = perShard.get(label) ?? null;
      if (have !== null && have === expected.definition) continue;
      differences.push({
        table: t.name,
        kind: t.kind,
        shard: label,
        expectedFrom: expected.from,
        differences:
          have === null
            ? ["missing"]
            : expected.definition === null
              ? ["missing"]
              : definitionDifferences(expected.definition, have),
      });
    }
  }
  return { tables: names, checkedShards: reached, differences, unreachable };
}

/** How a reference table's source is named in a report. */
export function sourceLabel(table: string): string {
  return `source:${table}`;
}

function expectedDefinition(
  table: DiffTable,
  perShard: ReadonlyMap<string, string | null>,
  reached: readonly string[],
): { definition: string | null; from: string[] } | null {
  if (table.source) {
    const label = sourceLabel(table.name);
    if (!perShard.has(label)) return null;
    return { definition: perShard.get(label) ?? null, from: [label] };
  }
  // Every shard should have a sharded table: those lacking it differ whatever the others hold.
  const counts = new Map<string, string[]>();
  for (const shard of reached) {
    const d = perShard.get(shard);
    if (d === undefined || d === null) continue;
    counts.set(d, [...(counts.get(d) ?? []), shard]);
  }
  let best: { definition: string | null; from: string[] } = { definition: null, from: [] };
  for (const [definition, from] of counts) {
    if (from.length > best.from.length) best = { definition, from };
  }
  return best;
}
