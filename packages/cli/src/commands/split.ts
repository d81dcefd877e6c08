import { formatKeyRange, parseKeyRange, parseKsid } from "@shardkit/directory";
import type { CommandDefinition } from "../command-definition.js";
import { RangeOperandsCommand } from "../range-operands.js";

/** `shardkit split <range> [--at <hex>]`: one range becomes two on the same shard. */
export const splitCommand: CommandDefinition = (action) =>
  new RangeOperandsCommand("split")
    .description("split a range in two on the same shard (metadata only, no data moves)")
    .argument("<range>", "the range to split, exactly as listed by shardkit ranges (e.g. 40-80)")
    .option(
      "--at <hex>",
      "where the right half starts, in range notation (40 is 0x40000000); default: the midpoint",
    )
    .action(
      action(async ({ admin }, text: string, opts: { at?: string }) => {
        const range = parseKeyRange(text);
        const at = opts.at === undefined ? undefined : parseKsid(opts.at);
        const result = await admin.splitRange(range, at);
        const [a, b] = result.ranges.map(formatKeyRange);
        return {
          kind: "report",
          text: `split ${formatKeyRange(range)} into ${a} and ${b}; directory version ${result.version}`,
          data: { ranges: [a, b], version: result.version },
        };
      }),
    );
