// The commands that continue a recorded move: `move resume|cutover|abort <id>`, `verify <id>`
// and `cleanup <id>`. Each runs one engine call with progress, under the move's lease.

import type { DirectoryAdmin } from "@shardkit/directory";
import {
  abortMove,
  cleanupMove,
  cutoverMove,
  type MoveOptions,
  type MoveSummary,
  resumeMove,
  verifyMove,
} from "@shardkit/migrate";
import { Command, Option } from "commander";
import type { CommandContext } from "../command-context.js";
import type { CommandDefinition } from "../command-definition.js";
import {
  type MoveFlagName,
  type MoveFlags,
  moveOptionsOf,
  withMoveFlags,
} from "../move/move-arguments.js";
import { runMoveCommand } from "../move/move-run.js";

type EngineCall = (admin: DirectoryAdmin, id: string, options: MoveOptions) => Promise<MoveSummary>;

interface StepSpec {
  readonly name: string;
  readonly description: string;
  readonly flags: readonly MoveFlagName[];
  readonly help: string;
  readonly call: EngineCall;
}

/** Runs `call` on move `id` with the options given now over those it was recorded with. */
async function continueMove(ctx: CommandContext, id: string, flags: MoveFlags, call: EngineCall) {
  // The login recorded with the move is the one its options need a password for.
  const recorded = (await ctx.admin.getMove(id)).options.user;
  const user = flags.user ?? (typeof recorded === "string" ? recorded : undefined);
  const options = moveOptionsOf(flags, { user, env: ctx.io.env, credentials: ctx.credentials });
  return runMoveCommand(ctx, id, (hooks) => call(ctx.admin, id, { ...options, ...hooks }), flags);
}

function stepCommand(
  spec: StepSpec,
  extra: (command: Command) => Command = (c) => c,
): CommandDefinition {
  return (action) =>
    extra(
      withMoveFlags(
        new Command(spec.name)
          .description(spec.description)
          .argument("<id>", "the move's id (shardkit moves lists them)"),
        spec.flags,
      ),
    )
      .addHelpText("after", spec.help)
      .action(
        action((ctx, id: string, { mode, ...flags }: MoveFlags & { mode?: "checksum" | "count" }) =>
          continueMove(ctx, id, mode ? { ...flags, verify: mode } : flags, spec.call),
        ),
      );
}

const RESUME_FLAGS: readonly MoveFlagName[] = [
  "chunkSize",
  "maxPauseMs",
  "maxLagMs",
  "throttle",
  "user",
  "cleanupEither",
  "stopAfter",
  "leaseTtl",
  "metrics",
];

/** `shardkit move resume <id>`: continues a move from where it stands (after a crash, Ctrl-C or a failure). */
export const moveResumeCommand = stepCommand({
  name: "resume",
  description: "continue a move from the state recorded, to its end (or --stop-after)",
  flags: RESUME_FLAGS,
  call: resumeMove,
  help: `
The copy continues from its last chunk and the binlog from the position saved on the target.
Options not given keep the values the move was started with. A move that another mover is
running is refused (MOVE_LEASED, exit status 4) until that mover's lease lapses.

Example:
  shardkit move resume 3f0c2a9e-6f1b-4c55-9d0e-2b7f4e1d8a10`,
});

/** `shardkit move cutover <id>`: cuts over a move stopped with `--stop-after`. */
export const moveCutoverCommand = stepCommand({
  name: "cutover",
  description: "cut over a copied or verified move (started with --stop-after), then clean up",
  flags: ["maxPauseMs", "maxLagMs", "user", "cleanupEither", "chunkSize", "leaseTtl"],
  call: cutoverMove,
  help: `
Catches up with the source's binlog, verifies when the move verifies (and it was not
verified yet), freezes the range on the source, waits for a marker written after the freeze
to reach the target, and makes the target the owner; the write pause is printed.

Example:
  shardkit move cutover 3f0c2a9e-6f1b-4c55-9d0e-2b7f4e1d8a10 --max-pause-ms 200`,
});

/** `shardkit move abort <id>`: undoes a move before its point of no return. */
export const moveAbortCommand = stepCommand({
  name: "abort",
  description:
    "undo a move that has not switched: the source serves as before, the target's copies are deleted",
  flags: ["chunkSize", "user", "leaseTtl"],
  call: abortMove,
  help: `
Refused once the move has switched (the target owns the range): finish such a move with
shardkit move resume <id>.

Example:
  shardkit move abort 3f0c2a9e-6f1b-4c55-9d0e-2b7f4e1d8a10`,
});

/** `shardkit verify <id>`: compares a copied move's rows on both sides again. */
export const verifyCommand = stepCommand(
  {
    name: "verify",
    description:
      "compare a copied move's rows on the source and the target, naming the keys that differ",
    flags: ["chunkSize", "user", "leaseTtl"],
    call: verifyMove,
    help: `
Checksums (or counts, with --mode count) the range's rows chunk by chunk on both sides at one
consistent point. The move rests verified; a difference fails with VERIFY_FAILED (exit status 4)
naming the primary keys that differ.

Example:
  shardkit verify 3f0c2a9e-6f1b-4c55-9d0e-2b7f4e1d8a10 --mode count`,
  },
  (c) =>
    c.addOption(
      new Option(
        "--mode <mode>",
        "checksum compares every column; count only the number of rows",
      ).choices(["checksum", "count"]),
    ),
);

/** `shardkit cleanup <id>`: deletes a switched move's rows from its source. */
export const cleanupCommand = stepCommand({
  name: "cleanup",
  description: "delete a switched move's rows from its source (after a move with --no-cleanup)",
  flags: ["chunkSize", "throttle", "user", "leaseTtl"],
  call: cleanupMove,
  help: `
Waits until every live router holds the directory version of the switch (or a grace period
passed), then deletes the moved rows from the source in small chunks. The move ends done.

Example:
  shardkit cleanup 3f0c2a9e-6f1b-4c55-9d0e-2b7f4e1d8a10`,
});
