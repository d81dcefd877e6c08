import type { ReferenceTable, ShardRecord } from "@shardkit/directory";
import { openShardConnection, type ShardLoginResolver } from "../connection/shard-connection.js";
import { readChunk, readSpan } from "../copy/chunk-reader.js";
import { type PrimaryKey, primaryKeyOf, primaryKeyText } from "../rows/primary-key.js";
import { readTableSchemas } from "../rows/table-schema.js";
import { digestRows } from "../verify/row-digest.js";

/** Differing primary keys named per copy at most. */
const NAMED_KEYS = 10;
/** A chunk that differs is read again this many times (an applier may be applying it). */
const RECHECKS = 4;
const RECHECK_MS = 500;

/** How one copy compares with its source. */
export interface CopyComparison {
  readonly chunks: number;
  readonly sourceRows: number;
  readonly copyRows: number;
  /** Primary keys (text) whose rows differ after the rechecks, up to 10. */
  readonly differingKeys: readonly string[];
  readonly differences: number;
}

/**
 * Compares a reference copy with its source by chunk checksums (the move verifier's digests),
 * in primary-key order. The copy is live (its applier may be applying changes meanwhile), so a
 * chunk that differs is read again on both sides a few times, half a second apart; only what
 * still differs is reported.
 */
export async function compareReferenceCopy(
  table: ReferenceTable,
  shard: ShardRecord,
  login: ShardLoginResolver,
  chunkSize = 1000,
): Promise<CopyComparison> {
  const source = await openShardConnection(table.source, login(table.source));
  const copy = await openShardConnection(shard, login(shard)).catch(async (error: unknown) => {
    await source.close();
    throw error;
  });
  try {
    const keys = await source.query<{ c: string }>(
      `SELECT COLUMN_NAME AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`,
      [table.name],
    );
    const { schemas } = await readTableSchemas(source, table.source.name, [
      { name: table.name, keyColumn: keys[0]?.c ?? "", keyFunction: "hash" },
    ]);
    const schema = schemas.get(table.name);
    if (!schema)
      return { chunks: 0, sourceRows: 0, copyRows: 0, differingKeys: [], differences: 0 };
    const columns = schema.columns;
    let after: PrimaryKey | null = null;
    let chunks = 0;
    let sourceRows = 0;
    let copyRows = 0;
    const differing: string[] = [];
    for (;;) {
      let read = await readChunk(source, schema, after, chunkSize, columns);
      let upTo = read.length < chunkSize ? null : primaryKeyOf(schema, read.at(-1) ?? {});
      let mine = await readSpan(copy, schema, after, upTo, columns);
      for (
        let i = 0;
        i < RECHECKS && digestRows(read, columns) !== digestRows(mine, columns);
        i++
      ) {
        await new Promise((r) => setTimeout(r, RECHECK_MS));
        read = await readSpan(source, schema, after, upTo, columns);
        mine = await readSpan(copy, schema, after, upTo, columns);
      }
      chunks++;
      sourceRows += read.length;
      copyRows += mine.length;
      if (digestRows(read, columns) !== digestRows(mine, columns)) {
        const theirs = new Map(mine.map((r) => [primaryKeyText(primaryKeyOf(schema, r)), r]));
        for (const row of read) {
          const key = primaryKeyText(primaryKeyOf(schema, row));
          const other = theirs.get(key);
          theirs.delete(key);
          if (!other || digestRows([row], columns) !== digestRows([other], columns)) {
            differing.push(key);
          }
        }
        differing.push(...theirs.keys());
      }
      if (upTo === null) break;
      after = upTo;
      upTo = null;
    }
    return {
      chunks,
      sourceRows,
      copyRows,
      differingKeys: differing.slice(0, NAMED_KEYS),
      differences: differing.length,
    };
  } finally {
    await Promise.all([source.close(), copy.close()]);
  }
}
