import { type DirectorySnapshot, formatKeyRange } from "@shardkit/directory";
import { countMovedRows } from "../cleanup/row-deleter.js";
import {
  openShardConnection,
  type ShardConnection,
  type ShardLoginResolver,
} from "../connection/shard-connection.js";
import { compareTargetTables, type TargetTables } from "../copy/target-tables.js";
import { detectFlavour } from "../flavour/detect-flavour.js";
import { MoveError } from "../move-error.js";
import { requireReferenceCopies } from "../reference/reference-status.js";
import { keySelector, type RowSelector, rangeSelector } from "../rows/row-selector.js";
import { readTableSchemas, type TableSchema } from "../rows/table-schema.js";
import type { ResolvedRequest } from "./request-checks.js";

/** The selector of a move's rows: the range's rows but pinned keys, or one key's rows. */
export function selectorOf(
  move: {
    readonly kind: "range" | "key";
    readonly range: { start: number; end: number };
    readonly keyBytes: Uint8Array | null;
  },
  snapshot: DirectorySnapshot,
): RowSelector {
  return move.kind === "key"
    ? keySelector(move.keyBytes ?? new Uint8Array(0))
    : rangeSelector(move.range, snapshot.pins);
}

/** What the shard checks found: the tables to create on the target. */
export interface ShardCheckResult {
  readonly schemas: ReadonlyMap<string, TableSchema>;
  readonly targetTables: TargetTables;
}

/**
 * Checks both shards for a new move, changing nothing: the source's binlog can feed a move
 * (row format, full images); every sharded table on the source has a primary key and its key
 * column; a table the target has is defined as on the source; the target holds no row of the
 * range (or key) yet; the target has a copy of every reference table (it must before it serves).
 */
export async function checkShards(
  snapshot: DirectorySnapshot,
  request: ResolvedRequest,
  login: ShardLoginResolver,
  chunkSize: number,
): Promise<ShardCheckResult> {
  const opened: ShardConnection[] = [];
  try {
    const source = await openShardConnection(request.source, login(request.source));
    opened.push(source);
    const target = await openShardConnection(request.target, login(request.target));
    opened.push(target);
    const flavour = await detectFlavour(source);
    const refusal = await flavour.binlogRefusal(source, request.source.name);
    if (refusal)
      throw new MoveError("BINLOG_UNSUITABLE", refusal, {
        details: { shard: request.source.name },
      });
    const { schemas, problems } = await readTableSchemas(
      source,
      request.source.name,
      snapshot.tables,
    );
    const problem = problems[0];
    if (problem)
      throw new MoveError(problem.code, problem.message, { details: { table: problem.table } });
    const targetTables = await compareTargetTables(source, target, [...schemas.keys()]);
    const different = targetTables.different[0];
    if (different) {
      throw new MoveError(
        "SCHEMA_MISMATCH",
        `table ${different.table} on target ${request.target.name} is not defined as on ${request.source.name} (${different.difference}); make the definitions equal and retry`,
        { details: { table: different.table } },
      );
    }
    await requireReferenceCopies(snapshot, request.target.name, login);
    const selector = selectorOf(
      { kind: request.kind, range: request.range, keyBytes: request.key?.bytes ?? null },
      snapshot,
    );
    const missing = new Set(targetTables.missing.map((m) => m.table));
    for (const schema of schemas.values()) {
      if (missing.has(schema.name)) continue;
      if ((await countMovedRows(target, schema, selector, chunkSize, true)) > 0) {
        throw new MoveError(
          "TARGET_HAS_ROWS",
          `target ${request.target.name} already holds rows of ${request.key ? `key ${request.key.text}` : `range ${formatKeyRange(request.range)}`} in table ${schema.name}; delete them there, or move to a shard without them`,
          { details: { table: schema.name, shard: request.target.name } },
        );
      }
    }
    return { schemas, targetTables };
  } finally {
    await Promise.all(opened.map((c) => c.close()));
  }
}
