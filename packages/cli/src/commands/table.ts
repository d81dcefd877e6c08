import { KEY_FUNCTION_NAMES, type KeyFunctionName } from "@shardkit/directory";
import { Command, Option } from "commander";
import type { CommandDefinition } from "../command-definition.js";

/** `shardkit table add|list|remove`: the sharded tables and their shard-key columns. */
export const tableCommand: CommandDefinition = (action) => {
  const table = new Command("table").description("declare, list and remove sharded tables");
  table
    .command("add")
    .description(
      "declare a sharded table and the column that holds its shard key (every shard must have both)",
    )
    .argument("<table>", "table name")
    .requiredOption("--key <column>", "the shard-key column")
    .addOption(
      new Option("--key-function <name>", "how a key becomes a keyspace id")
        .choices([...KEY_FUNCTION_NAMES])
        .default("hash"),
    )
    .option(
      "--no-check",
      "declare the table ahead of its creation: skip checking that every shard has it",
    )
    .action(
      action(
        async (
          { admin },
          name: string,
          opts: { key: string; keyFunction: KeyFunctionName; check: boolean },
        ) => {
          const result = await admin.addTable(
            { name, keyColumn: opts.key, keyFunction: opts.keyFunction },
            { check: opts.check },
          );
          return {
            kind: "report",
            text: `table ${name} is sharded by ${opts.key} (${opts.keyFunction}); directory version ${result.version}`,
            data: {
              table: { name, keyColumn: opts.key, keyFunction: opts.keyFunction },
              version: result.version,
            },
          };
        },
      ),
    );
  table
    .command("list")
    .description("list sharded tables")
    .action(
      action(async ({ admin }) => {
        const s = await admin.snapshot();
        return {
          kind: "table",
          rows: s.tables.map((t) => ({
            name: t.name,
            keyColumn: t.keyColumn,
            keyFunction: t.keyFunction,
          })),
          columns: ["name", "keyColumn", "keyFunction"],
          empty: "no sharded tables; declare one with shardkit table add <table> --key <column>",
        };
      }),
    );
  table
    .command("remove")
    .description("stop sharding a table: the directory forgets it, its rows stay on the shards")
    .argument("<table>", "table name")
    .action(
      action(async ({ admin }, name: string) => {
        const result = await admin.removeTable(name);
        return {
          kind: "report",
          text: `table ${name} is no longer sharded (its rows stay on the shards); directory version ${result.version}`,
          data: { table: name, version: result.version },
        };
      }),
    );
  return table;
};
