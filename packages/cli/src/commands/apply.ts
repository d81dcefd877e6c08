import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ShardkitError } from "@shardkit/directory";
import { applyPlan, MoveError, parsePlanFile } from "@shardkit/migrate";
import { Command, Option } from "commander";
import { errorLine, InterruptedError, UsageError } from "../cli-errors.js";
import type { CommandDefinition } from "../command-definition.js";
import { type MoveFlags, moveOptionsOf, withMoveFlags } from "../move/move-arguments.js";
import { applyProgress } from "../plan/apply-progress.js";
import { numberOf } from "../plan/plan-arguments.js";
import { byteSize } from "../plan/plan-text.js";
import { millis } from "../progress/move-summary.js";

const EXAMPLES = `
Runs a plan file written by shardkit plan --out: its splits, then its moves (each an online
move as shardkit move runs it), several at once where they touch different shards. Where each
step stands is read from the directory, so after a crash or Ctrl-C the same command continues:
steps done are skipped and a move left halfway is resumed. A plan whose directory changed since
(other than by its own steps) is refused, naming what changed.

With --json (or without a terminal) each event is one JSON line on stdout: a move's events as
shardkit move --json prints them with "step" and "moveId" added, {"event": "done", "step",
"moveId", "summary"} when a move finishes, and {"event": "applied", ...} last.

Examples:
  shardkit apply plan.json
  shardkit apply plan.json --parallel 4 --chunk-size 2000
  shardkit apply plan.json --json`;

interface Flags extends MoveFlags {
  readonly parallel?: number;
}

/** `shardkit apply <plan>`: runs a plan's steps, resumable. */
export const applyCommand: CommandDefinition = (action) =>
  withMoveFlags(
    new Command("apply")
      .description("run a plan's splits and online moves, resumable (run it again to continue)")
      .argument("<plan>", "the plan file written by shardkit plan --out")
      .addOption(
        new Option(
          "--parallel <n>",
          "moves at once, never two on the same shard (default 2)",
        ).argParser(
          numberOf(
            "--parallel",
            (n) => Number.isInteger(n) && n >= 1,
            "a whole number of at least 1",
          ),
        ),
      ),
    ["chunkSize", "verify", "maxPauseMs", "maxLagMs", "throttle", "user", "leaseTtl"],
  )
    .addHelpText("after", EXAMPLES)
    .action(
      action(async (ctx, file: string, flags: Flags) => {
        let text: string;
        try {
          text = readFileSync(resolve(ctx.io.cwd, file), "utf8");
        } catch {
          throw new UsageError(
            "BAD_ARGUMENT",
            `cannot read plan file ${file}: give a file written by shardkit plan --out`,
          );
        }
        const plan = parsePlanFile(text, file);
        const move = moveOptionsOf(flags, {
          user: flags.user,
          env: ctx.io.env,
          credentials: ctx.credentials,
        });
        const progress = applyProgress(ctx);
        const controller = new AbortController();
        const onInterrupt = () => controller.abort(new Error("interrupted by Ctrl-C"));
        process.once("SIGINT", onInterrupt);
        try {
          const result = await applyPlan(ctx.admin, plan, {
            ...(flags.parallel !== undefined ? { parallel: flags.parallel } : {}),
            move,
            onEvent: (e) => progress.onEvent(e),
            signal: controller.signal,
          });
          const pauses = result.moves
            .map((m) => (m.pauseMs === null ? "-" : millis(m.pauseMs)))
            .join(", ");
          return {
            kind: "report",
            text: `applied ${file}: ${result.splits} splits and ${result.moves.length} moves in this run (${result.alreadyDone} steps done before), ${byteSize(result.bytesMoved)} moved in ${millis(result.durationMs)}${result.moves.length ? `; write pauses ${pauses}` : ""}; directory version ${result.directoryVersion}`,
            data: { event: "applied", plan: file, ...result },
            line: progress.lines,
          };
        } catch (error) {
          if (controller.signal.aborted) {
            throw new InterruptedError(
              `interrupted by Ctrl-C (${errorLine(error)}); continue with shardkit apply ${file}`,
              {
                cause: error,
              },
            );
          }
          // A step failed: the directory shows where the plan stands, so the same command continues.
          if (
            error instanceof ShardkitError &&
            !["PLAN_STALE", "BAD_ARGUMENT"].includes(error.code)
          ) {
            throw new MoveError(
              error.code,
              `${errorLine(error)}; after fixing that, continue with shardkit apply ${file}`,
              {
                cause: error,
                details: error.details,
              },
            );
          }
          throw error;
        } finally {
          process.off("SIGINT", onInterrupt);
        }
      }),
    );
