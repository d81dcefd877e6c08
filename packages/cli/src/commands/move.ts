import { parseKeyArgument } from "@shardkit/directory";
import { type MoveRequest, startMove } from "@shardkit/migrate";
import type { Command } from "commander";
import { UsageError } from "../cli-errors.js";
import type { CommandDefinition } from "../command-definition.js";
import { TABLE_OPTION_HELP } from "../key-arguments.js";
import { type MoveFlags, moveOptionsOf, withMoveFlags } from "../move/move-arguments.js";
import { runMoveCommand } from "../move/move-run.js";
import { dryRunText } from "../progress/move-summary.js";
import { RangeOperandsCommand } from "../range-operands.js";
import { moveStatusCommand } from "./move-status.js";
import { moveAbortCommand, moveCutoverCommand, moveResumeCommand } from "./move-steps.js";

const EXAMPLES = `
A move copies the rows (in primary-key order, in chunks), keeps the copy in step with the
source's binlog, verifies it, then cuts over with a write pause of milliseconds: the source's
range is frozen, the copy catches up to a marker written after the freeze, and the target
becomes the owner. The moved rows are then deleted from the source. Every step is recorded in
the directory: a move whose process died continues with shardkit move resume <id>.

The move's id is printed first. On a terminal a bar per phase shows rows copied, rows/s, ETA
and the catch-up lag; with --json or without a terminal each event is one JSON line on stdout
({"event": "copy", ...}) and the summary is the last line. Ctrl-C stops the move where it
stands, resumable (exit status 130).

Examples:
  shardkit move 40-80 --to s3
  shardkit move -40 --to s3 --chunk-size 500 --max-pause-ms 200
  shardkit move 80-c0 --to s4 --stop-after verify     # then: shardkit move cutover <id>
  shardkit move --key 42 --table users --to whales    # one key and its rows
  shardkit move 40-80 --to s3 --dry-run
  shardkit move 40-80 --to s3 --metrics-port 9464    # Prometheus metrics while it runs`;

interface StartFlags extends MoveFlags {
  readonly to?: string;
  readonly key?: string;
  readonly table?: string;
}

/** `shardkit move <range> --to <shard>` (or `--key <key>`), and the `move status|resume|cutover|abort` commands. */
export const moveCommand: CommandDefinition = (action) => {
  const move = withMoveFlags(
    new RangeOperandsCommand("move")
      .description("move a key range (or one key) with its rows to another shard, online")
      .argument(
        "[range]",
        "the key range to move, e.g. 40-80 or -40; one shard must serve all of it",
      )
      .option("--to <shard>", "the shard the rows go to (required)")
      .option(
        "--key <key>",
        "move this one key and its rows instead of a range (it is pinned to the target)",
      )
      .option("--table <table>", `with --key: ${TABLE_OPTION_HELP}`),
    [
      "chunkSize",
      "verify",
      "maxPauseMs",
      "maxLagMs",
      "throttle",
      "user",
      "cleanup",
      "dryRun",
      "stopAfter",
      "leaseTtl",
      "metrics",
    ],
  )
    .hook("preSubcommand", handOptionsTo)
    .addHelpText("after", EXAMPLES)
    .action(
      action(async (ctx, range: string | undefined, flags: StartFlags) => {
        const request = requestOf(range, flags);
        const options = moveOptionsOf(flags, {
          user: flags.user,
          env: ctx.io.env,
          credentials: ctx.credentials,
        });
        const result = await runMoveCommand(
          ctx,
          undefined,
          (hooks) => startMove(ctx.admin, request, { ...options, ...hooks }),
          flags,
        );
        if (!flags.dryRun) return result;
        const subject = flags.key !== undefined ? `key ${flags.key}` : `range ${range}`;
        return { ...result, text: dryRunText(subject, request.to) };
      }),
    );
  for (const define of [
    moveStatusCommand,
    moveResumeCommand,
    moveCutoverCommand,
    moveAbortCommand,
  ]) {
    move.addCommand(define(action));
  }
  return move;
};

/**
 * Commander reads `move`'s options wherever they stand, so in `move resume <id> --chunk-size 9`
 * the parent takes `--chunk-size`. Each one given goes to the subcommand when it has that
 * option, and is refused as unknown there otherwise (`move status <id> --dry-run`).
 */
function handOptionsTo(move: Command, sub: Command): void {
  for (const option of move.options) {
    const name = option.attributeName();
    if (move.getOptionValueSource(name) !== "cli") continue;
    if (!sub.options.some((o) => o.attributeName() === name)) {
      sub.error(`error: unknown option '${option.long}'`, { code: "commander.unknownOption" });
    }
    sub.setOptionValueWithSource(name, move.getOptionValue(name), "cli");
  }
}

/** What to move, from the operand and options; a wrong combination is a one-line usage error. */
function requestOf(range: string | undefined, flags: StartFlags): MoveRequest {
  if (flags.to === undefined) {
    throw new UsageError(
      "USAGE",
      "name the shard the rows go to with --to <shard>; see shardkit move --help",
    );
  }
  if ((range === undefined) === (flags.key === undefined)) {
    throw new UsageError(
      "BAD_ARGUMENT",
      range === undefined
        ? "name a key range (shardkit move 40-80 --to s3) or one key (--key <key>) to move"
        : `name either the range ${range} or --key ${flags.key}, not both`,
    );
  }
  if (flags.table !== undefined && flags.key === undefined) {
    throw new UsageError(
      "BAD_ARGUMENT",
      "--table reads the key given with --key; drop --table when moving a range",
    );
  }
  if (range !== undefined) return { range, to: flags.to };
  const key = flags.key as string;
  // Without --table a key is read as typed, as shardkit pin reads it; with it, as the column stores it.
  return flags.table !== undefined
    ? { key, table: flags.table, to: flags.to }
    : { key: parseKeyArgument(key), to: flags.to };
}
