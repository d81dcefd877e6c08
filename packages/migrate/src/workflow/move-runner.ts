import type { DirectoryAdmin, MoveRecord, MoveState } from "@shardkit/directory";
import { selectorOf } from "../checks/shard-checks.js";
import type { ShardLogin, ShardLoginResolver } from "../connection/shard-connection.js";
import { MoveError, messageOf } from "../move-error.js";
import { LeaseKeeper } from "./lease-keeper.js";
import type { MoveEvent, MoveSummary, ResolvedMoveOptions } from "./move-options.js";
import {
  cleanupPhase,
  copyPhase,
  cutoverPhase,
  type PhaseContext,
  type RunReport,
  verifyPhase,
} from "./move-phases.js";
import { MoveSession } from "./move-session.js";
import { type ReplicaThrottle, replicasOf, replicaThrottle } from "./replica-throttle.js";

/** What a command asks of a move: the rest of the workflow, or one step of it. */
export type MoveGoal = "rest" | "cutover" | "verify" | "cleanup";

/** The workflow's states in order; a move runs forward through them. */
const ORDER: readonly MoveState[] = [
  "created",
  "copying",
  "copied",
  "verifying",
  "verified",
  "cutting_over",
  "switched",
  "cleaning",
  "done",
];

/** Where a move stands: its state, or for a failed move the state it failed in. */
export function standing(move: MoveRecord): MoveState {
  return move.state === "failed" ? (move.failedIn ?? "created") : move.state;
}

/** The states from which each goal may run. */
const ALLOWED: Readonly<Record<MoveGoal, readonly MoveState[]>> = {
  rest: ORDER.slice(0, 8),
  cutover: ["copied", "verifying", "verified", "cutting_over"],
  verify: ["copied", "verifying", "verified"],
  cleanup: ["switched", "cleaning"],
};

/** MOVE_STATE (one line, nothing changed) when `goal` cannot run from where the move stands. */
export function requireGoal(move: MoveRecord, goal: MoveGoal): void {
  const at = standing(move);
  if (ALLOWED[goal].includes(at)) return;
  const where = move.state === "failed" ? `failed in ${at}` : at;
  const advice =
    move.state === "done" || move.state === "aborted"
      ? "it has ended"
      : move.state === "aborting" || at === "aborting"
        ? "finish the abort with shardkit move abort"
        : goal === "cleanup"
          ? "cut it over first (shardkit move cutover)"
          : "see shardkit move status";
  throw new MoveError(
    "MOVE_STATE",
    `move ${move.id} is ${where}, so it cannot ${goal === "rest" ? "resume" : goal}; ${advice}`,
    {
      details: { move: move.id, state: move.state, failedIn: move.failedIn },
    },
  );
}

/** What the run that recorded a move knows of it: the directory version that recorded it, and its `started` event. */
export interface MoveStart {
  readonly version: number;
  readonly event: MoveEvent;
}

/**
 * Runs a move from where it stands towards `goal` under its lease: copy, verify, cutover,
 * cleanup, each recorded in the directory. A failure is recorded (`failed`, `failedIn`,
 * `error`) and thrown; resume continues from there. `start` (from the run that recorded the
 * move) has its event emitted once the lease is held.
 */
export async function runMove(
  admin: DirectoryAdmin,
  id: string,
  goal: MoveGoal,
  options: ResolvedMoveOptions,
  login: ShardLoginResolver,
  start?: MoveStart,
): Promise<MoveSummary> {
  requireGoal(await admin.getMove(id), goal);
  const { keeper, move } = await LeaseKeeper.acquire(admin, id, options.leaseTtlMs);
  const signal = options.signal ? AbortSignal.any([options.signal, keeper.signal]) : keeper.signal;
  const emit = (event: MoveEvent) => options.onEvent?.(event);
  const report: RunReport = { verify: null, pauseMs: null, rowsDeleted: 0, phaseMs: {} };
  let session: MoveSession | null = null;
  let throttle: ReplicaThrottle | null = null;
  try {
    if (start) emit(start.event);
    requireGoal(move, goal);
    const snapshot = await admin.snapshot();
    const source = snapshot.shards.find((s) => s.name === move.source);
    const target = snapshot.shards.find((s) => s.name === move.target);
    if (!source || !target) {
      throw new MoveError(
        "UNKNOWN_SHARD",
        `shard ${source ? move.target : move.source} of move ${id} is no longer registered; register it again, then resume`,
      );
    }
    session = await MoveSession.open({
      moveId: id,
      source,
      target,
      login,
      tables: snapshot.tables,
      selector: selectorOf(move, snapshot),
      chunkSize: options.chunkSize,
      chunkTimeMs: options.chunkTimeMs,
      ...(options.openBinlog ? { openBinlog: options.openBinlog } : {}),
    });
    if (options.throttleReplicaLagMs !== undefined) {
      throttle = await throttleFor(admin, keeper.owner, session, options, login(source), signal);
    }
    const c: PhaseContext = {
      admin,
      move,
      owner: keeper.owner,
      options,
      session,
      signal,
      emit,
      report,
      // A resumed run does not know the version that recorded the move; the one it read is later.
      movedVersion: start?.version ?? snapshot.version,
      ...(throttle ? { throttle: throttle.wait } : {}),
    };
    await runPhases(c, goal);
    return await summarise(c);
  } catch (error) {
    throw await recordFailure(admin, id, keeper.owner, signal, error);
  } finally {
    await session?.close();
    await throttle?.close();
    await keeper.release();
  }
}

/** The replica throttle of a run, recorded in the move's history with the replicas it watches. */
async function throttleFor(
  admin: DirectoryAdmin,
  owner: string,
  session: MoveSession,
  options: ResolvedMoveOptions,
  login: ShardLogin,
  signal: AbortSignal,
): Promise<ReplicaThrottle> {
  const replicas = await replicasOf(session.source, login, options.replicas);
  const throttle = replicaThrottle(replicas, options.throttleReplicaLagMs ?? 0, signal);
  await admin.updateMove(
    session.options.moveId,
    owner,
    {},
    {
      message:
        replicas.length > 0
          ? `copy and cleanup wait while a replica lags more than ${options.throttleReplicaLagMs} ms (${throttle.replicas.join(", ")})`
          : `no replica of ${session.options.source.name} to watch (none given, none reports its host): copy and cleanup are not throttled`,
    },
  );
  return throttle;
}

async function timed(c: PhaseContext, phase: string, work: () => Promise<void>): Promise<void> {
  const started = performance.now();
  try {
    await work();
  } finally {
    c.report.phaseMs[phase] =
      (c.report.phaseMs[phase] ?? 0) + Math.round(performance.now() - started);
  }
}

async function runPhases(c: PhaseContext, goal: MoveGoal): Promise<void> {
  const at = ORDER.indexOf(standing(c.move));
  const o = c.options;
  if (goal === "verify") {
    await timed(c, "verifying", () =>
      verifyPhase({ ...c, options: { ...o, verify: o.verify === "none" ? "checksum" : o.verify } }),
    );
    return;
  }
  if (goal === "cleanup") {
    await timed(c, "cleaning", () => cleanupPhase(c));
    return;
  }
  const stopAfter = goal === "rest" ? o.stopAfter : undefined;
  if (at <= ORDER.indexOf("copying")) {
    await timed(c, "copying", () => copyPhase(c));
    if (stopAfter === "copy") return;
  }
  if (at <= ORDER.indexOf("verifying") && o.verify !== "none") {
    await timed(c, "verifying", () => verifyPhase(c));
    if (stopAfter === "verify") return;
  }
  if (at <= ORDER.indexOf("cutting_over")) await timed(c, "cutting_over", () => cutoverPhase(c));
  if (o.cleanup) await timed(c, "cleaning", () => cleanupPhase(c));
}

async function summarise(c: PhaseContext): Promise<MoveSummary> {
  const move = await c.admin.getMove(c.move.id);
  const summary: MoveSummary = {
    moveId: c.move.id,
    state: move.state,
    rowsCopied:
      [...c.session.progress.tables.values()].reduce((n, t) => n + t.rowsCopied, 0) ||
      Number(c.move.progress.rowsCopied ?? 0),
    eventsApplied: c.session.progress.eventsApplied || Number(c.move.progress.eventsApplied ?? 0),
    verify: c.report.verify
      ? {
          mode: c.report.verify.mode,
          differences: c.report.verify.differences,
          tables: c.report.verify.tables,
        }
      : null,
    pauseMs: c.report.pauseMs,
    phaseMs: { ...c.report.phaseMs },
    rowsDeleted: c.report.rowsDeleted,
    dryRun: false,
  };
  c.emit({ type: "done", summary });
  return summary;
}

/**
 * Records a failed run in the directory: `failed`, where it failed, why. Past the switch it
 * fails in `switched` at the earliest, so resume only goes forward. A lost lease is not
 * recorded (the move is no longer this mover's).
 */
async function recordFailure(
  admin: DirectoryAdmin,
  id: string,
  owner: string,
  signal: AbortSignal,
  error: unknown,
): Promise<unknown> {
  const failure =
    signal.aborted && error === signal.reason && !(error instanceof MoveError)
      ? new MoveError(
          "MOVE_CANCELLED",
          `move ${id} was cancelled (${messageOf(error)}); resume it with shardkit move resume ${id}`,
          { cause: error },
        )
      : error;
  if ((failure as { code?: string }).code === "MOVE_LEASED") return failure;
  try {
    const move = await admin.getMove(id);
    if (move.state === "done" || move.state === "aborted") return failure;
    const code = (failure as { code?: string }).code ?? "INTERNAL";
    if (code === "CUTOVER_TIMEOUT" && (move.state === "copied" || move.state === "verified")) {
      // The cutover backed off: the move rests where it was, source serving, ready to try again.
      await admin.updateMove(
        id,
        owner,
        { error: messageOf(failure) },
        {
          message: messageOf(failure),
          details: { code },
        },
      );
      return failure;
    }
    let failedIn = standing(move);
    if (move.switchedVersion !== null && ORDER.indexOf(failedIn) < ORDER.indexOf("switched"))
      failedIn = "switched";
    await admin.updateMove(
      id,
      owner,
      { state: "failed", failedIn, error: messageOf(failure) },
      {
        message: `failed in ${failedIn}: ${messageOf(failure)}`,
        details: { code },
      },
    );
  } catch {
    // The failure itself is what the caller needs; the directory may be what failed.
  }
  return failure;
}
