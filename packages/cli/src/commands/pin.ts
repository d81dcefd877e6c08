import { DirectoryMap } from "@shardkit/directory";
import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";
import { keyReader, TABLE_OPTION_HELP } from "../key-arguments.js";

/** `shardkit pin <key> <shard>`: one key placed on a shard of its own choosing. */
export const pinCommand: CommandDefinition = (action) =>
  new Command("pin")
    .description("place one key on a shard, whatever range it falls in (for keys without rows yet)")
    .argument("<key>", "the key (numbers are integers, anything else a string)")
    .argument("<shard>", "shard name")
    .option(
      "--table <table>",
      `${TABLE_OPTION_HELP} (pin 007 --table accts pins the integer 7 of a BIGINT column)`,
    )
    .action(
      action(
        async ({ admin, credentials }, key: string, shard: string, opts: { table?: string }) => {
          const read = await keyReader(
            new DirectoryMap(await admin.snapshot()),
            opts.table,
            credentials,
          );
          const result = await admin.pinKey(read(key), shard);
          return {
            kind: "report",
            text: `pinned ${key} to ${shard}; directory version ${result.version}`,
            data: { key, shard, version: result.version },
          };
        },
      ),
    );
