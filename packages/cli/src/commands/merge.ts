import { formatKeyRange, parseKeyRange } from "@shardkit/directory";
import type { CommandDefinition } from "../command-definition.js";
import { RangeOperandsCommand } from "../range-operands.js";

/** `shardkit merge <range> <other>`: two adjacent ranges of one shard become one. */
export const mergeCommand: CommandDefinition = (action) =>
  new RangeOperandsCommand("merge")
    .description("merge two adjacent ranges owned by the same shard")
    .argument("<range>", "one range")
    .argument("<other>", "the range next to it")
    .action(
      action(async ({ admin }, a: string, b: string) => {
        const result = await admin.mergeRanges(parseKeyRange(a), parseKeyRange(b));
        return {
          kind: "report",
          text: `merged into ${formatKeyRange(result.range)}; directory version ${result.version}`,
          data: { range: formatKeyRange(result.range), version: result.version },
        };
      }),
    );
