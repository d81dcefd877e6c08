import { type DirectoryAdmin, parseKeyRange, parseKsid, ShardkitError } from "@shardkit/directory";
import { MoveError } from "../move-error.js";
import { retryingAdmin } from "../workflow/deadlock-retry.js";
import { resumeMove, startMove } from "../workflow/move-commands.js";
import type { MoveEvent, MoveOptions, MoveSummary } from "../workflow/move-options.js";
import { runOnDisjointShards } from "./move-scheduler.js";
import type { PlanFile, PlanFileStep } from "./plan-file.js";
import { planProgress } from "./plan-state.js";

type MoveStep = Extract<PlanFileStep, { kind: "move" }>;

/** Progress of `applyPlan`, for the CLI's lines. */
export type ApplyEvent =
  | {
      readonly type: "apply";
      readonly steps: number;
      /** Steps the directory shows done already (a run continuing an earlier one). */
      readonly alreadyDone: number;
      readonly directoryVersion: number;
    }
  | {
      readonly type: "split";
      readonly step: number;
      readonly range: string;
      readonly at: string;
      readonly version: number;
    }
  | { readonly type: "skipped"; readonly step: number; readonly reason: string }
  | {
      readonly type: "move";
      readonly step: number;
      readonly moveId: string | undefined;
      readonly event: MoveEvent;
    }
  | {
      readonly type: "moved";
      readonly step: number;
      readonly moveId: string;
      readonly summary: MoveSummary;
    };

/** One move a run of `applyPlan` carried out (or finished). */
export interface AppliedMove {
  readonly step: number;
  readonly moveId: string;
  readonly range: string;
  readonly from: string;
  readonly to: string;
  /** The measured write pause of its cutover (null when this run did not cut it over). */
  readonly pauseMs: number | null;
  readonly rowsCopied: number;
}

/** What a run of `applyPlan` did. */
export interface ApplyResult {
  readonly steps: number;
  readonly alreadyDone: number;
  readonly splits: number;
  readonly moves: readonly AppliedMove[];
  readonly bytesMoved: number;
  readonly durationMs: number;
  readonly directoryVersion: number;
}

/** Options of {@link applyPlan}. */
export interface ApplyOptions {
  /** Moves run at once, never two touching the same shard. Default 2. */
  readonly parallel?: number;
  /** Options of every move (chunk size, verify, pause, credentials...). */
  readonly move?: Omit<MoveOptions, "onEvent" | "signal" | "dryRun" | "stopAfter">;
  readonly onEvent?: (event: ApplyEvent) => void;
  /** Stops the run: running moves are left resumable; the next run continues. */
  readonly signal?: AbortSignal;
}

/**
 * Carries out a plan: its splits in order, then its moves (online, `parallel` at a time on
 * disjoint shards). Where each step stands is read from the directory (ranges and move records),
 * so running it again after a crash continues: done steps are skipped, a move left halfway is
 * resumed. Refuses (PLAN_STALE) a directory changed by anything but the plan's own steps.
 *
 * @example
 * const plan = parsePlanFile(readFileSync("plan.json", "utf8"), "plan.json");
 * const result = await applyPlan(admin, plan, { parallel: 2, onEvent: console.log });
 */
export async function applyPlan(
  directory: DirectoryAdmin,
  plan: PlanFile,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const started = Date.now();
  const admin = retryingAdmin(directory);
  const parallel = options.parallel ?? 2;
  if (!Number.isInteger(parallel) || parallel < 1) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `invalid --parallel ${parallel}: give a whole number of at least 1`,
    );
  }
  const emit = options.onEvent ?? (() => undefined);
  let progress = planProgress(plan, await admin.snapshot());
  const moveSteps = plan.steps.filter((s): s is MoveStep => s.kind === "move");
  const alreadyDone =
    progress.splitsDone.size +
    moveSteps.filter((m) => progress.moves.get(m.step)?.state === "done").length;
  let version = plan.directoryVersion;
  emit({
    type: "apply",
    steps: plan.steps.length,
    alreadyDone,
    directoryVersion: await admin.version(),
  });

  let splits = 0;
  for (const step of plan.steps) {
    if (step.kind !== "split") continue;
    if (progress.splitsDone.has(step.step)) {
      emit({ type: "skipped", step: step.step, reason: `${step.at} is a range boundary already` });
      continue;
    }
    options.signal?.throwIfAborted();
    const at = parseKsid(step.at);
    const snapshot = await admin.snapshot();
    const holder = snapshot.ranges.find((r) => r.range.start < at && at < r.range.end);
    if (!holder) throw new MoveError("INTERNAL", `no range holds split point ${step.at}`);
    const done = await admin.splitRange(holder.range, at);
    version = done.version;
    splits++;
    emit({ type: "split", step: step.step, range: step.range, at: step.at, version });
  }
  progress = planProgress(plan, await admin.snapshot());

  const pending = moveSteps.filter((m) => progress.moves.get(m.step)?.state !== "done");
  for (const m of moveSteps) {
    if (!pending.includes(m))
      emit({ type: "skipped", step: m.step, reason: `${m.range} is on ${m.to} already` });
  }
  const moves: AppliedMove[] = [];
  const run = async (m: MoveStep): Promise<void> => {
    const state = progress.moves.get(m.step);
    let moveId = state?.state === "active" ? state.moveId : undefined;
    const hooks: MoveOptions = {
      ...options.move,
      onEvent: (event) => {
        if (event.type === "started") moveId = event.moveId;
        emit({ type: "move", step: m.step, moveId, event });
      },
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const summary =
      moveId !== undefined
        ? await resumeWhenFree(admin, moveId, hooks)
        : await startMove(admin, { range: parseKeyRange(m.range), to: m.to }, hooks);
    emit({ type: "moved", step: m.step, moveId: summary.moveId, summary });
    moves.push({
      step: m.step,
      moveId: summary.moveId,
      range: m.range,
      from: m.from,
      to: m.to,
      pauseMs: summary.pauseMs,
      rowsCopied: summary.rowsCopied,
    });
  };
  await runOnDisjointShards(pending, parallel, run);
  moves.sort((a, b) => a.step - b.step);
  return {
    steps: plan.steps.length,
    alreadyDone,
    splits,
    moves,
    bytesMoved: moveSteps
      .filter((m) => moves.some((x) => x.step === m.step))
      .reduce((sum, m) => sum + m.bytes, 0),
    durationMs: Date.now() - started,
    directoryVersion: await admin.version(),
  };
}

/**
 * Resumes a move left by a run that died; while the dead run's lease has not lapsed yet
 * (MOVE_LEASED), waits for it once (at most the lease's time left and a second).
 */
async function resumeWhenFree(
  admin: DirectoryAdmin,
  moveId: string,
  options: MoveOptions,
): Promise<MoveSummary> {
  try {
    return await resumeMove(admin, moveId, options);
  } catch (error) {
    if (!(error instanceof ShardkitError) || error.code !== "MOVE_LEASED") throw error;
    const move = await admin.getMove(moveId);
    const left = (move.leaseExpiresAt?.getTime() ?? Date.now()) - Date.now();
    if (left > 60_000) throw error;
    await new Promise((resolve) => setTimeout(resolve, Math.max(left, 0) + 1000));
    return resumeMove(admin, moveId, options);
  }
}
