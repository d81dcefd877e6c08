import type { CommandDefinition } from "../command-definition.js";
import { applyCommand } from "./apply.js";
import { devCommand } from "./dev.js";
import { directoryCommand } from "./directory.js";
import { doctorCommand } from "./doctor.js";
import { forecastCommand } from "./forecast.js";
import { initCommand } from "./init.js";
import { layoutCommand } from "./layout.js";
import { mergeCommand } from "./merge.js";
import { moveCommand } from "./move.js";
import { cleanupCommand, verifyCommand } from "./move-steps.js";
import { movesCommand } from "./moves.js";
import { pinCommand } from "./pin.js";
import { pinsCommand } from "./pins.js";
import { planCommand } from "./plan.js";
import { rangesCommand } from "./ranges.js";
import { referenceCommand } from "./reference.js";
import { routeCommand } from "./route.js";
import { schemaCommand } from "./schema.js";
import { shardCommand } from "./shard.js";
import { splitCommand } from "./split.js";
import { statsCommand } from "./stats.js";
import { tableCommand } from "./table.js";
import { unpinCommand } from "./unpin.js";

/** Every command of `shardkit`, in the order `--help` lists them. */
export const COMMANDS: readonly CommandDefinition[] = [
  initCommand,
  shardCommand,
  tableCommand,
  layoutCommand,
  rangesCommand,
  pinsCommand,
  splitCommand,
  mergeCommand,
  pinCommand,
  unpinCommand,
  routeCommand,
  doctorCommand,
  moveCommand,
  movesCommand,
  verifyCommand,
  cleanupCommand,
  statsCommand,
  planCommand,
  applyCommand,
  forecastCommand,
  devCommand,
  schemaCommand,
  referenceCommand,
  directoryCommand,
];
