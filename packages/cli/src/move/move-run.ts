import { ShardkitError } from "@shardkit/directory";
import type { MoveEvent, MoveSummary } from "@shardkit/migrate";
import { errorLine, InterruptedError } from "../cli-errors.js";
import type { CommandContext } from "../command-context.js";
import type { ReportResult } from "../output.js";
import { openMoveProgress } from "../progress/move-progress.js";
import { summaryText } from "../progress/move-summary.js";

/** What the engine call of a move command gets from the CLI: progress and Ctrl-C. */
export interface EngineHooks {
  readonly onEvent: (event: MoveEvent) => void;
  readonly signal: AbortSignal;
}

/**
 * Runs one engine call of a move command with its progress shown (bars or JSON lines), and
 * Ctrl-C (SIGINT) cancelling it through the engine's signal: the move is left resumable and the
 * command fails with exit status 130 saying how to resume. A second Ctrl-C stops at once.
 * Returns the summary report, printed as the last JSON line when progress went as lines.
 */
export async function runMoveCommand(
  ctx: CommandContext,
  knownId: string | undefined,
  call: (hooks: EngineHooks) => Promise<MoveSummary>,
): Promise<ReportResult> {
  const progress = openMoveProgress(ctx);
  let moveId = knownId;
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new Error("interrupted by Ctrl-C"));
  // once: a second Ctrl-C finds no listener and ends the process as usual.
  process.once("SIGINT", onInterrupt);
  let summary: MoveSummary;
  try {
    summary = await call({
      onEvent: (event) => {
        if (event.type === "started") moveId = event.moveId;
        progress.onEvent(event);
      },
      signal: controller.signal,
    });
  } catch (error) {
    progress.stop();
    if (controller.signal.aborted) throw interrupted(error, moveId);
    throw error;
  } finally {
    process.off("SIGINT", onInterrupt);
  }
  progress.stop();
  const data = { event: "done", summary };
  if (summary.dryRun) return { kind: "report", text: "", data, line: progress.lines };
  const move = await ctx.admin.getMove(summary.moveId);
  return { kind: "report", text: summaryText(summary, move), data, line: progress.lines };
}

/** The failure of a run stopped by Ctrl-C: what the engine said (it names the resume command), exit 130. */
function interrupted(error: unknown, moveId: string | undefined): InterruptedError {
  const code = error instanceof ShardkitError ? error.code : undefined;
  const resume = moveId ? `; resume it with shardkit move resume ${moveId}` : "";
  const message =
    code === "MOVE_CANCELLED"
      ? errorLine(error)
      : `interrupted by Ctrl-C (${errorLine(error)})${resume}`;
  return new InterruptedError(message, {
    cause: error,
    details: { ...(moveId ? { move: moveId } : {}) },
  });
}
