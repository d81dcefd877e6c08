import { DirectoryError } from "../../errors/directory-error.js";
import { isKeyFunctionName, KEY_FUNCTION_NAMES } from "../../key-function.js";
import { isValidIdentifier, type ShardedTable } from "../../model.js";
import type { AddTableOptions, ChangeResult } from "../directory-admin.js";
import { type ChangeContext, runChange, type StoreParts } from "./change-transaction.js";
import { badName, requireNoMoves } from "./directory-invariants.js";
import { missingOnShard } from "./shard-inspection.js";

/** Declares a sharded table; unless `check` is false, every registered shard must have it with its key column. */
export async function addTable(
  parts: StoreParts,
  table: ShardedTable,
  options: AddTableOptions = {},
): Promise<ChangeResult> {
  if (!isValidIdentifier(table.name)) throw badName("table", table.name);
  if (!isValidIdentifier(table.keyColumn)) throw badName("column", table.keyColumn);
  if (!isKeyFunctionName(table.keyFunction)) {
    throw new DirectoryError(
      "BAD_KEY_FUNCTION",
      `unknown key function "${String(table.keyFunction)}"; use one of: ${KEY_FUNCTION_NAMES.join(", ")}`,
      { details: { table: table.name, keyFunction: String(table.keyFunction) } },
    );
  }
  return runChange(parts, async (change) => {
    const { before, tx } = change;
    const same = before.tables.find((t) => t.name.toLowerCase() === table.name.toLowerCase());
    if (same?.name === table.name) {
      throw new DirectoryError(
        "TABLE_EXISTS",
        `table ${table.name} is already sharded; see shardkit table list`,
        { details: { table: table.name } },
      );
    }
    if (same) {
      throw new DirectoryError(
        "NAME_CLASH",
        `table ${table.name} clashes with sharded table ${same.name} (table names are compared ignoring case); use the registered name ${same.name}`,
        { details: { table: table.name, registered: same.name } },
      );
    }
    // A move copies the tables declared when it started; a table declared midway would be left behind.
    requireNoMoves(before, `declare table ${table.name}`);
    if (options.check ?? true) await requireOnEveryShard(change, table);
    await tx.execute(
      "INSERT INTO shardkit_tables (name, key_column, key_function) VALUES (?, ?, ?)",
      [table.name, table.keyColumn, table.keyFunction],
    );
    return { fence: [] };
  });
}

/** Forgets a sharded table; its rows stay on the shards. */
export async function removeTable(parts: StoreParts, name: string): Promise<ChangeResult> {
  return runChange(parts, async ({ before, tx }) => {
    if (!before.tables.some((t) => t.name === name)) {
      const known = before.tables.map((t) => t.name).join(", ") || "none";
      throw new DirectoryError(
        "UNKNOWN_TABLE",
        `table "${name}" is not sharded (sharded: ${known}); see shardkit table list`,
        { details: { table: name } },
      );
    }
    // While a range is being moved its tables' rows are being copied.
    requireNoMoves(before, `forget table ${name}`);
    await tx.execute("DELETE FROM shardkit_tables WHERE name = ?", [name]);
    return { fence: [] };
  });
}

/** Refuses TABLE_NOT_ON_SHARD naming each shard that lacks the table or its key column. */
async function requireOnEveryShard(change: ChangeContext, table: ShardedTable): Promise<void> {
  const lacking: { shard: string; missing: "table" | "column" }[] = [];
  for (const shard of change.before.shards) {
    const missing = await change.shards.with(shard, (conn) =>
      missingOnShard(conn, table.name, table.keyColumn),
    );
    if (missing) lacking.push({ shard: shard.name, missing });
  }
  if (lacking.length === 0) return;
  const noTable = lacking.filter((l) => l.missing === "table").map((l) => l.shard);
  const noColumn = lacking.filter((l) => l.missing === "column").map((l) => l.shard);
  const what = [
    ...(noTable.length ? [`table ${table.name} is missing on shard ${noTable.join(", ")}`] : []),
    ...(noColumn.length
      ? [`${table.name} has no column ${table.keyColumn} on shard ${noColumn.join(", ")}`]
      : []),
  ];
  throw new DirectoryError(
    "TABLE_NOT_ON_SHARD",
    `${what.join("; ")}; create it there, or pass --no-check to declare it ahead of its creation`,
    { details: { table: table.name, missingTable: noTable, missingColumn: noColumn } },
  );
}
