import { quoteIdentifier, type SqlConnection } from "@shardkit/directory/internal";
import { normaliseDefinition, showCreateTable } from "../rows/table-schema.js";

/** How the target's tables stand against the source's definitions. */
export interface TargetTables {
  /** Tables the target lacks: the move creates them from the source's definition. */
  readonly missing: readonly { readonly table: string; readonly createSql: string }[];
  /** Tables whose definition differs, each with a one-line description of the first difference. */
  readonly different: readonly { readonly table: string; readonly difference: string }[];
}

/** Compares each table's definition on the target with the source's (AUTO_INCREMENT aside). */
export async function compareTargetTables(
  source: SqlConnection,
  target: SqlConnection,
  tables: readonly string[],
): Promise<TargetTables> {
  const missing: { table: string; createSql: string }[] = [];
  const different: { table: string; difference: string }[] = [];
  for (const table of tables) {
    const wanted = await showCreateTable(source, table);
    if (wanted === null) continue;
    const have = await showCreateTable(target, table);
    if (have === null) {
      missing.push({ table, createSql: normaliseDefinition(wanted) });
      continue;
    }
    const a = normaliseDefinition(wanted).split("\n");
    const b = normaliseDefinition(have).split("\n");
    const line = a.findIndex((l, i) => l.trim() !== (b[i] ?? "").trim());
    if (line >= 0 || a.length !== b.length) {
      const at = line >= 0 ? line : Math.min(a.length, b.length);
      different.push({
        table,
        difference: `source has ${JSON.stringify((a[at] ?? "(nothing)").trim())}, target has ${JSON.stringify((b[at] ?? "(nothing)").trim())}`,
      });
    }
  }
  return { missing, different };
}

/** Creates the missing tables on the target. */
export async function createTargetTables(
  target: SqlConnection,
  missing: TargetTables["missing"],
): Promise<void> {
  for (const m of missing) await target.execute(m.createSql);
}

/** Drops a table the move created, if it holds no row. Returns whether it was dropped. */
export async function dropIfEmpty(target: SqlConnection, table: string): Promise<boolean> {
  const rows = await target.query(`SELECT 1 FROM ${quoteIdentifier(table)} LIMIT 1`);
  if (rows.length > 0) return false;
  await target.execute(`DROP TABLE IF EXISTS ${quoteIdentifier(table)}`);
  return true;
}
