import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";
import { moveRow } from "../move/move-fields.js";

/** `shardkit moves`: every move, newest first. */
export const movesCommand: CommandDefinition = (action) =>
  new Command("moves").description("list moves, newest first, with their states").action(
    action(async ({ admin }) => ({
      kind: "table",
      rows: (await admin.listMoves()).map(moveRow),
      columns: ["id", "what", "source", "target", "status", "updated"],
      empty: "no moves yet; start one with shardkit move <range> --to <shard>",
    })),
  );
