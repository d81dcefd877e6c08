import { Command } from "commander";
import { UsageError } from "../cli-errors.js";
import type { CommandDefinition } from "../command-definition.js";

/** `shardkit layout even <n>`: the first key ranges, spread over the shards. */
export const layoutCommand: CommandDefinition = (action) => {
  const layout = new Command("layout").description("lay out the initial key ranges");
  layout
    .command("even")
    .description(
      "split the keyspace into <n> equal ranges, assigned round-robin to the shards (once only)",
    )
    .argument("<n>", "number of ranges (any whole number >= 1)")
    .option(
      "--shards <names>",
      "comma-separated shards to use, in this order (default: all serving shards by name)",
    )
    .action(
      action(async ({ admin }, n: string, opts: { shards?: string }) => {
        if (!/^\d+$/.test(n)) {
          throw new UsageError(
            "BAD_ARGUMENT",
            `invalid number of ranges "${n}": give a whole number >= 1`,
          );
        }
        // Given as is, so the directory judges the list: `--shards ''` is an empty list, not "all".
        const shards =
          opts.shards === undefined
            ? undefined
            : opts.shards.trim() === ""
              ? []
              : opts.shards.split(",").map((x) => x.trim());
        const result = await admin.layoutEven(Number(n), shards);
        return {
          kind: "report",
          text: `laid out ${n} ranges; directory version ${result.version}`,
          data: { ranges: Number(n), version: result.version },
        };
      }),
    );
  return layout;
};
