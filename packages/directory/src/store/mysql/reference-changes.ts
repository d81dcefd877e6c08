import { DirectoryError } from "../../errors/directory-error.js";
import { isValidIdentifier, isValidShardName, type ReferenceTable } from "../../model.js";
import type { ChangeResult } from "../directory-admin.js";
import { runChange, type StoreParts } from "./change-transaction.js";
import { badName } from "./directory-invariants.js";

/**
 * Declares a reference table whose writable copy is in `table.source`. Refused: a name that is
 * a sharded or reference table already (TABLE_EXISTS, NAME_CLASH), a source name another
 * reference table uses for another database (NAME_CLASH), or a source that is a shard.
 */
export async function addReferenceTable(
  parts: StoreParts,
  table: ReferenceTable,
): Promise<ChangeResult> {
  if (!isValidIdentifier(table.name)) throw badName("table", table.name);
  if (!isValidShardName(table.source.name)) throw badName("shard", table.source.name);
  if (!isValidIdentifier(table.source.database)) throw badName("database", table.source.database);
  return runChange(parts, async ({ before, tx }) => {
    const lower = table.name.toLowerCase();
    const sharded = before.tables.find((t) => t.name.toLowerCase() === lower);
    if (sharded) {
      throw new DirectoryError(
        "NAME_CLASH",
        `table ${table.name} is a sharded table; a table is either sharded or a reference table`,
        { details: { table: table.name } },
      );
    }
    const same = (before.referenceTables ?? []).find((t) => t.name.toLowerCase() === lower);
    if (same) {
      throw new DirectoryError(
        same.name === table.name ? "TABLE_EXISTS" : "NAME_CLASH",
        `table ${table.name} is already a reference table (as ${same.name}); see shardkit reference list`,
        { details: { table: table.name } },
      );
    }
    const s = table.source;
    const other = (before.referenceTables ?? []).find(
      (t) =>
        t.source.name === s.name &&
        (t.source.host !== s.host || t.source.port !== s.port || t.source.database !== s.database),
    );
    if (other) {
      throw new DirectoryError(
        "NAME_CLASH",
        `source name ${s.name} already names ${other.source.host}:${other.source.port}/${other.source.database} (table ${other.name}); give this source another name with --source-name`,
        { details: { source: s.name } },
      );
    }
    const shard = before.shards.find(
      (x) => x.host === s.host && x.port === s.port && x.database === s.database,
    );
    if (shard) {
      throw new DirectoryError(
        "NAME_CLASH",
        `the source ${s.host}:${s.port}/${s.database} is shard ${shard.name}'s database; keep reference tables' writable copies in a database of their own`,
        { details: { source: s.name, shard: shard.name } },
      );
    }
    await tx.execute(
      "INSERT INTO shardkit_reference_tables (name, source_name, host, port, user, database_name) VALUES (?, ?, ?, ?, ?, ?)",
      [table.name, s.name, s.host, s.port, s.user, s.database],
    );
    return { fence: [] };
  });
}

/** Forgets a reference table (its copies stay on the shards). */
export async function removeReferenceTable(parts: StoreParts, name: string): Promise<ChangeResult> {
  return runChange(parts, async ({ before, tx }) => {
    if (!(before.referenceTables ?? []).some((t) => t.name === name)) {
      const known = (before.referenceTables ?? []).map((t) => t.name).join(", ") || "none";
      throw new DirectoryError(
        "UNKNOWN_TABLE",
        `table "${name}" is not a reference table (reference tables: ${known}); see shardkit reference list`,
        { details: { table: name } },
      );
    }
    await tx.execute("DELETE FROM shardkit_reference_tables WHERE name = ?", [name]);
    return { fence: [] };
  });
}
