import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";

/** `shardkit init`: creates the directory database (when missing) and its schema. */
export const initCommand: CommandDefinition = (action) =>
  new Command("init")
    .description("create the directory database (when missing) and its schema; safe to run again")
    .option(
      "--force",
      "create the schema even in a database that already holds other tables (default: refuse)",
    )
    .action(
      action(async ({ admin, directoryLocation }, opts: { force?: boolean }) => {
        const result = await admin.init({ force: opts.force === true });
        return {
          kind: "report",
          text: `initialised the directory at ${directoryLocation} (schema version ${result.schemaVersion}${result.created ? ", database created" : ""})`,
          data: {
            directory: directoryLocation,
            schemaVersion: result.schemaVersion,
            databaseCreated: result.created,
          },
        };
      }),
    );
