import type { DirectoryAdmin, MoveState } from "@shardkit/directory";
import { failpoint } from "../failpoints.js";
import { MoveError, messageOf } from "../move-error.js";
import type { MoveSession } from "../workflow/move-session.js";

/** One cutover attempt as the CLI shows it. */
export interface CutoverAttempt {
  readonly attempt: number;
  /** How long writes to the range were refused (freeze to switch, or freeze to unfreeze). */
  readonly pauseMs: number;
  readonly ok: boolean;
  readonly reason?: string;
}

/** What the cutover needs. */
export interface CutoverOptions {
  readonly admin: DirectoryAdmin;
  readonly moveId: string;
  readonly owner: string;
  readonly session: MoveSession;
  /** Writes are never refused longer than this (the switch included, as far as it can be foreseen). */
  readonly maxPauseMs: number;
  /** The cutover starts only when the applier lags less than this. */
  readonly maxLagMs: number;
  /** Attempts before giving up. Default 5. */
  readonly attempts?: number;
  /** How long to wait for the lag to come under `maxLagMs` before giving up. Default 300000. */
  readonly lagWaitMs?: number;
  /** The state to go back to when an attempt backs off (`copied` or `verified`). */
  readonly restingState: Extract<MoveState, "copied" | "verified">;
  readonly signal?: AbortSignal;
  readonly onAttempt?: (attempt: CutoverAttempt) => void;
  readonly onLag?: (lagMs: number) => void;
}

/** What a cutover that succeeded measured. */
export interface CutoverResult {
  readonly pauseMs: number;
  readonly attempts: number;
  readonly switchedVersion: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The only write pause of a move. Waits until the applier lags less than `maxLagMs`; freezes
 * the range on the source through the fence (the freeze waits for writes in flight: the
 * drain); only then writes a marker on the source and applies until the target has it, which
 * proves every write before the freeze is on the target; then switches ownership in the
 * directory (the point of no return). When the marker is not applied in time, unfreezes,
 * backs off and tries again, up to `attempts`; then fails with CUTOVER_TIMEOUT, the source
 * serving as before.
 */
export async function cutover(o: CutoverOptions): Promise<CutoverResult> {
  const attempts = o.attempts ?? 5;
  const s = o.session;
  let lastReason = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await waitForLag(o);
    const frozenAt = performance.now();
    await o.admin.freezeRange(o.moveId, o.owner, {
      drainTimeoutSeconds: Math.max(1, Math.ceil(o.maxPauseMs / 1000)),
    });
    const freezeMs = performance.now() - frozenAt;
    let switched = false;
    try {
      failpoint("after-freeze");
      const seq = await s.markers.write();
      // The switch costs about what the freeze cost: leave it room within the pause.
      const deadline = frozenAt + o.maxPauseMs - freezeMs;
      while (!s.markers.isApplied(seq) && performance.now() < deadline) {
        await s.catchUp.step(Math.max(1, Math.min(5, deadline - performance.now())));
      }
      if (s.markers.isApplied(seq)) {
        failpoint("before-directory-switch");
        const result = await o.admin.switchRange(o.moveId, o.owner);
        switched = true;
        const pauseMs = Math.round(performance.now() - frozenAt);
        o.onAttempt?.({ attempt, pauseMs, ok: true });
        failpoint("after-directory-switch");
        return { pauseMs, attempts: attempt, switchedVersion: result.version };
      }
      lastReason = `the target had not applied the writes before the freeze within ${o.maxPauseMs} ms`;
    } catch (error) {
      if (!switched) await backOut(o, error);
      throw error;
    }
    await o.admin.unfreezeRange(o.moveId, o.owner);
    const pauseMs = Math.round(performance.now() - frozenAt);
    o.onAttempt?.({ attempt, pauseMs, ok: false, reason: lastReason });
    await o.admin.updateMove(
      o.moveId,
      o.owner,
      { state: o.restingState },
      {
        message: `cutover attempt ${attempt} backed off after ${pauseMs} ms: ${lastReason}`,
        details: { attempt, pauseMs },
      },
    );
    if (attempt < attempts) await catchUpFor(o, 250 * 2 ** (attempt - 1));
  }
  throw new MoveError(
    "CUTOVER_TIMEOUT",
    `the cutover did not fit in ${o.maxPauseMs} ms in ${attempts} attempts (${lastReason}); the source serves the range as before: retry when writes are calmer, or allow a longer pause (--max-pause-ms)`,
    { details: { move: o.moveId, attempts, maxPauseMs: o.maxPauseMs } },
  );
}

/** Keeps the applier running for `ms` (backing off between attempts). */
async function catchUpFor(o: CutoverOptions, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    o.signal?.throwIfAborted();
    await o.session.catchUp.step(Math.min(50, until - performance.now()));
  }
  await sleep(0);
}

/** Applies until a fresh marker shows the lag under `maxLagMs`, or fails after `lagWaitMs`. */
async function waitForLag(o: CutoverOptions): Promise<void> {
  const limit = o.lagWaitMs ?? 300_000;
  const started = performance.now();
  for (;;) {
    o.signal?.throwIfAborted();
    const lag = await o.session.catchUpNow(limit);
    o.onLag?.(lag);
    if (lag < o.maxLagMs) return;
    if (performance.now() - started > limit) {
      throw new MoveError(
        "CUTOVER_TIMEOUT",
        `the applier still lags ${Math.round(lag)} ms behind the source after ${Math.round(limit / 1000)} s, above the ${o.maxLagMs} ms a cutover starts under; retry when writes are calmer, or allow more (--max-lag-ms)`,
        { details: { move: o.moveId, lagMs: Math.round(lag) } },
      );
    }
  }
}

/** After a failure before the switch: the source serves the range again (best effort; the error is what matters). */
async function backOut(o: CutoverOptions, error: unknown): Promise<void> {
  try {
    const move = await o.admin.getMove(o.moveId);
    if (move.switchedVersion !== null) return;
    await o.admin.unfreezeRange(o.moveId, o.owner);
  } catch (undo) {
    if (error instanceof Error) {
      error.message = `${error.message} (and unfreezing the source failed too: ${messageOf(undo)}; run shardkit move abort or resume)`;
    }
  }
}
