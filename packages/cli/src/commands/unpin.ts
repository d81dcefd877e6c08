import { parseKeyArgument } from "@shardkit/directory";
import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";

/** `shardkit unpin <key>`: the key goes back to its range's owner. */
export const unpinCommand: CommandDefinition = (action) =>
  new Command("unpin")
    .description("remove a pin; the key goes back to its range's owner")
    .argument("<key>", "the key")
    .action(
      action(async ({ admin }, key: string) => {
        const result = await admin.unpinKey(parseKeyArgument(key));
        return {
          kind: "report",
          text: `unpinned ${key}; directory version ${result.version}`,
          data: { key, version: result.version },
        };
      }),
    );
