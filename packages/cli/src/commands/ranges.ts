import { formatKeyRange } from "@shardkit/directory";
import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";
import { ksidHex, rangeEndHex } from "../directory-fields.js";

/** `shardkit ranges`: every key range, its owner and state. */
export const rangesCommand: CommandDefinition = (action) =>
  new Command("ranges").description("list key ranges, their owners and states").action(
    action(async ({ admin }) => {
      const s = await admin.snapshot();
      return {
        kind: "table",
        rows: s.ranges.map((r) => ({
          range: formatKeyRange(r.range),
          start: ksidHex(r.range.start),
          end: rangeEndHex(r.range.end),
          shard: r.shard,
          state: r.state,
        })),
        columns: ["range", "start", "end", "shard", "state"],
        empty: "no ranges yet; lay them out with shardkit layout even <n>",
      };
    }),
  );
