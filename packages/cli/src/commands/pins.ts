import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";
import { ksidHex } from "../directory-fields.js";

/** `shardkit pins`: every pinned key and its shard. */
export const pinsCommand: CommandDefinition = (action) =>
  new Command("pins").description("list pinned keys").action(
    action(async ({ admin }) => {
      const s = await admin.snapshot();
      return {
        kind: "table",
        rows: s.pins.map((p) => ({ key: p.keyText, ksid: ksidHex(p.ksid), shard: p.shard })),
        columns: ["key", "ksid", "shard"],
        empty: "no pinned keys",
      };
    }),
  );
