import { parseKeyArgument } from "@shardkit/directory";
import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";

/** `shardkit pin <key> <shard>`: one key placed on a shard of its own choosing. */
export const pinCommand: CommandDefinition = (action) =>
  new Command("pin")
    .description("place one key on a shard, whatever range it falls in (for keys without rows yet)")
    .argument("<key>", "the key (numbers are integers, anything else a string)")
    .argument("<shard>", "shard name")
    .action(
      action(async ({ admin }, key: string, shard: string) => {
        const result = await admin.pinKey(parseKeyArgument(key), shard);
        return {
          kind: "report",
          text: `pinned ${key} to ${shard}; directory version ${result.version}`,
          data: { key, shard, version: result.version },
        };
      }),
    );
