import { DirectoryMap } from "@shardkit/directory";
import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";
import { keyReader, TABLE_OPTION_HELP } from "../key-arguments.js";

/** `shardkit unpin <key>`: the key goes back to its range's owner. */
export const unpinCommand: CommandDefinition = (action) =>
  new Command("unpin")
    .description("remove a pin; the key goes back to its range's owner")
    .argument("<key>", "the key")
    .option("--table <table>", TABLE_OPTION_HELP)
    .action(
      action(async ({ admin, credentials }, key: string, opts: { table?: string }) => {
        const read = await keyReader(
          new DirectoryMap(await admin.snapshot()),
          opts.table,
          credentials,
        );
        const result = await admin.unpinKey(read(key));
        return {
          kind: "report",
          text: `unpinned ${key}; directory version ${result.version}`,
          data: { key, version: result.version },
        };
      }),
    );
