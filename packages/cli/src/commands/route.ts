import { DirectoryMap, formatKeyRange } from "@shardkit/directory";
import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";
import { ksidHex } from "../directory-fields.js";
import { keyReader, TABLE_OPTION_HELP } from "../key-arguments.js";

/** `shardkit route <key...>`: which shard owns each key. */
export const routeCommand: CommandDefinition = (action) =>
  new Command("route")
    .description("show which shard owns each key (keys that look like options go after --)")
    .argument("<key...>", "one or more keys")
    .option("--table <table>", `${TABLE_OPTION_HELP}, and use its key function (default: hash)`)
    .action(
      action(async ({ admin, credentials }, keys: string[], opts: { table?: string }) => {
        const map = new DirectoryMap(await admin.snapshot());
        const read = await keyReader(map, opts.table, credentials);
        const rows = keys.map((key) => {
          const routed = read(key);
          const loc = map.lookup(routed, opts.table);
          return {
            key,
            ksid: ksidHex(loc.ksid),
            range: formatKeyRange(map.ownerOf(loc.ksid).range),
            shard: loc.shard,
            pinned: loc.pinned,
          };
        });
        return {
          kind: "table",
          rows,
          columns: ["key", "ksid", "range", "shard", "pinned"],
          empty: "",
        };
      }),
    );
