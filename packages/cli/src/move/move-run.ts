import { ShardkitError } from "@shardkit/directory";
import { type MoveEvent, MoveMetrics, type MoveSummary } from "@shardkit/migrate";
import { type MetricsServer, serveMetrics } from "@shardkit/service";
import { errorLine, InterruptedError, UsageError } from "../cli-errors.js";
import type { CommandContext } from "../command-context.js";
import type { ReportResult } from "../output.js";
import { openMoveProgress } from "../progress/move-progress.js";
import { summaryText } from "../progress/move-summary.js";
import type { MoveFlags } from "./move-arguments.js";

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
  flags: Pick<MoveFlags, "metricsPort" | "metricsHost"> = {},
): Promise<ReportResult> {
  const { metrics, server } = await openMetrics(ctx, flags);
  try {
    return await runWithProgress(ctx, knownId, call, metrics);
  } catch (error) {
    metrics?.failed(error);
    throw error;
  } finally {
    await server?.close();
  }
}

/** The move's metrics and their endpoint when `--metrics-port` was given. */
async function openMetrics(
  ctx: CommandContext,
  flags: Pick<MoveFlags, "metricsPort" | "metricsHost">,
): Promise<{ metrics?: MoveMetrics; server?: MetricsServer }> {
  if (flags.metricsPort === undefined) return {};
  const metrics = new MoveMetrics();
  const host = flags.metricsHost ?? "127.0.0.1";
  let server: MetricsServer;
  try {
    server = await serveMetrics(metrics.registry, flags.metricsPort, host);
  } catch (error) {
    throw new UsageError(
      "BAD_ARGUMENT",
      `cannot serve metrics on ${host}:${flags.metricsPort} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pick another --metrics-port`,
    );
  }
  ctx.note(`the move's metrics are at ${server.url}`);
  return { metrics, server };
}

async function runWithProgress(
  ctx: CommandContext,
  knownId: string | undefined,
  call: (hooks: EngineHooks) => Promise<MoveSummary>,
  metrics: MoveMetrics | undefined,
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
        metrics?.onEvent(event);
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
