import { DirectoryError, type DirectorySnapshot } from "@shardkit/directory";
import type { DiffTable, SchemaDiffReport } from "@shardkit/migrate";
import type { CommandContext } from "../command-context.js";

/** The tables `schema diff` and `doctor` compare: every sharded table, and every reference table with its source. */
export async function schemaDiffTables(
  _ctx: CommandContext,
  snapshot: DirectorySnapshot,
): Promise<DiffTable[]> {
  return [
    ...snapshot.tables.map((t) => ({ name: t.name, kind: "sharded" as const })),
    ...(snapshot.referenceTables ?? []).map((t) => ({
      name: t.name,
      kind: "reference" as const,
      source: t.source,
    })),
  ];
}

/** A schema diff report for people, one line per difference. */
export function schemaDiffLines(report: SchemaDiffReport): string[] {
  const lines = [
    `compared ${report.tables.length} table(s) on ${report.checkedShards.length} shard(s)`,
  ];
  for (const d of report.differences) {
    const from = d.expectedFrom.length ? ` (as on ${d.expectedFrom.join(", ")})` : "";
    for (const what of d.differences) lines.push(`  ${d.shard}: ${d.table} ${what}${from}`);
  }
  for (const u of report.unreachable) lines.push(`  ${u.shard}: not checked (${u.error})`);
  if (report.differences.length === 0 && report.unreachable.length === 0) {
    lines.push("every table is defined alike on every shard");
  }
  return lines;
}

/** SCHEMA_MISMATCH naming the first difference, or SHARD_UNAVAILABLE when only unreachable shards are left. */
export function schemaDiffFailure(report: SchemaDiffReport): DirectoryError | undefined {
  const first = report.differences[0];
  if (first) {
    return new DirectoryError(
      "SCHEMA_MISMATCH",
      `${report.differences.length} table definition(s) differ, first ${first.table} on ${first.shard}: ${first.differences[0]}; apply the missing change there (shardkit schema apply) and run shardkit schema diff again`,
      { details: { ...report } },
    );
  }
  const gone = report.unreachable[0];
  if (gone) {
    return new DirectoryError(
      "SHARD_UNAVAILABLE",
      `shard ${gone.shard} could not be compared (${gone.error}); bring it back and run shardkit schema diff again`,
      { details: { ...report } },
    );
  }
  return undefined;
}
