import type { DirectoryAdmin, MoveRecord, MoveState } from "@shardkit/directory";
import { selectorOf } from "../checks/shard-checks.js";
import { deleteMovedRows } from "../cleanup/row-deleter.js";
import { dropProgress, inTransaction, saveTableProgress } from "../copy/target-progress.js";
import { compareTargetTables, createTargetTables } from "../copy/target-tables.js";
import { cutover } from "../cutover/cutover.js";
import { MoveError } from "../move-error.js";
import { type VerifyResult, verifyRange } from "../verify/range-verifier.js";
import type { MoveEvent, ResolvedMoveOptions } from "./move-options.js";
import type { MoveSession } from "./move-session.js";
import { waitForRouters } from "./router-wait.js";

/** What this run did, gathered for its summary. */
export interface RunReport {
  verify: VerifyResult | null;
  pauseMs: number | null;
  rowsDeleted: number;
  readonly phaseMs: Record<string, number>;
}

/** Everything a phase works with. */
export interface PhaseContext {
  readonly admin: DirectoryAdmin;
  readonly move: MoveRecord;
  readonly owner: string;
  readonly options: ResolvedMoveOptions;
  readonly session: MoveSession;
  readonly signal: AbortSignal;
  readonly emit: (event: MoveEvent) => void;
  readonly report: RunReport;
  /** A directory version that knows of the move: routers must hold it before the target holds copies. */
  readonly movedVersion: number;
  readonly throttle?: () => Promise<void>;
}

/** Moves the record to `state` (with an event) and tells the CLI. */
export async function enter(c: PhaseContext, state: MoveState, message?: string): Promise<void> {
  await c.admin.updateMove(
    c.move.id,
    c.owner,
    { state, progress: progressOf(c) },
    message ? { message } : undefined,
  );
  c.emit({ type: "phase", moveId: c.move.id, phase: state });
}

/** The summary kept in the directory for `move status` (the authoritative copy is on the target). */
export function progressOf(c: PhaseContext): Record<string, unknown> {
  const tables: Record<string, unknown> = {};
  for (const t of c.session.progress.tables.values()) {
    tables[t.table] = { rowsCopied: t.rowsCopied, rowsRead: t.rowsRead, copied: t.copied };
  }
  return {
    rowsCopied: [...c.session.progress.tables.values()].reduce((n, t) => n + t.rowsCopied, 0),
    eventsApplied: c.session.progress.eventsApplied,
    lagMs: Math.round(c.session.markers.lagMs()),
    tables,
    ...(c.report.verify
      ? { verify: { mode: c.report.verify.mode, differences: c.report.verify.differences } }
      : {}),
    ...(c.report.pauseMs !== null ? { pauseMs: c.report.pauseMs } : {}),
  };
}

/** Records the progress summary, at most every two seconds (best effort). */
function reporter(c: PhaseContext): () => void {
  let last = performance.now();
  return () => {
    if (performance.now() - last < 2000) return;
    last = performance.now();
    c.admin.updateMove(c.move.id, c.owner, { progress: progressOf(c) }).catch(() => undefined);
  };
}

/** Copy: creates missing tables on the target, then copies every table with the applier in step. */
export async function copyPhase(c: PhaseContext): Promise<void> {
  await enter(c, "copying");
  const s = c.session;
  const tables = await compareTargetTables(s.source, s.target, [...s.schemas.keys()]);
  const different = tables.different[0];
  if (different) {
    throw new MoveError(
      "SCHEMA_MISMATCH",
      `table ${different.table} on target ${c.move.target} is not defined as on ${c.move.source} (${different.difference}); make the definitions equal, then resume or abort the move`,
    );
  }
  if (!copyStarted(c)) {
    // A router that has not loaded the move would count the target's copies in its scatters.
    await awaitRouters(c, c.movedVersion, "before the copy, ");
  }
  await createTargetTables(s.target, tables.missing);
  for (const m of tables.missing) {
    const t = {
      table: m.table,
      lastPk: null,
      copied: false,
      rowsCopied: 0,
      rowsRead: 0,
      createdTable: true,
    };
    await inTransaction(s.target, () => saveTableProgress(s.target, c.move.id, t));
    s.progress.tables.set(m.table, t);
  }
  const report = reporter(c);
  let caughtUpAt = performance.now();
  await s.copy(
    (p) => {
      c.emit({ type: "copy", ...p });
      if (performance.now() - caughtUpAt > 1000) {
        caughtUpAt = performance.now();
        c.emit({
          type: "catchup",
          eventsApplied: s.progress.eventsApplied,
          lagMs: Math.round(s.markers.lagMs()),
        });
      }
      report();
    },
    c.signal,
    c.throttle,
  );
  c.emit({
    type: "catchup",
    eventsApplied: s.progress.eventsApplied,
    lagMs: Math.round(s.markers.lagMs()),
  });
  await enter(c, "copied");
}

/** True once the target holds (or may hold) copies: some table's copy has begun. */
function copyStarted(c: PhaseContext): boolean {
  return [...c.session.progress.tables.values()].some((t) => t.copied || t.lastPk !== null);
}

/**
 * Waits until every live router holds `version` or later, or the grace period passed (the
 * liveness rule of {@link waitForRouters}), and records what it saw in the move's history.
 */
async function awaitRouters(c: PhaseContext, version: number, when: string): Promise<void> {
  const waited = await waitForRouters(c.admin, version, {
    liveMs: c.options.routerLiveMs,
    graceMs: c.options.cleanupGraceMs,
    signal: c.signal,
  });
  const behind = waited.behind.map((h) => `${h.id} (${h.host}, version ${h.version})`);
  await c.admin.updateMove(
    c.move.id,
    c.owner,
    {},
    {
      message:
        behind.length === 0
          ? `${when}every live router holds version ${version} or later (waited ${waited.waitedMs} ms)`
          : `${when}grace period over after ${waited.waitedMs} ms; routers still behind: ${behind.join(", ")}`,
      details: { version, waitedMs: waited.waitedMs, behind },
    },
  );
}

/** Verify: compares both sides; a difference fails the move with VERIFY_FAILED naming keys. */
export async function verifyPhase(c: PhaseContext): Promise<void> {
  const mode = c.options.verify;
  if (mode === "none") return;
  await enter(c, "verifying");
  const result = await verifyRange(c.session, {
    mode,
    chunkSize: c.options.chunkSize,
    signal: c.signal,
    onChunk: (table, chunks, differences) => c.emit({ type: "verify", table, chunks, differences }),
  });
  c.report.verify = result;
  if (result.differences > 0) {
    const named = result.tables
      .flatMap((t) => t.differingKeys.map((d) => `${t.table} ${d.key} ${d.kind}`))
      .slice(0, 5)
      .join(", ");
    throw new MoveError(
      "VERIFY_FAILED",
      `verify (${mode}) found ${result.differences} rows that differ between ${c.move.source} and ${c.move.target} (${named}); resume to verify again, or abort the move`,
      { details: { differences: result.differences, tables: result.tables } },
    );
  }
  await enter(c, "verified");
}

/** Cutover: the only write pause; ends past the point of no return (`switched`). */
export async function cutoverPhase(c: PhaseContext): Promise<void> {
  c.emit({ type: "phase", moveId: c.move.id, phase: "cutting_over" });
  const result = await cutover({
    admin: c.admin,
    moveId: c.move.id,
    owner: c.owner,
    session: c.session,
    maxPauseMs: c.options.maxPauseMs,
    maxLagMs: c.options.maxLagMs,
    attempts: c.options.cutoverAttempts,
    restingState: c.options.verify === "none" ? "copied" : "verified",
    signal: c.signal,
    onAttempt: (a) => c.emit({ type: "cutover", ...a }),
    onLag: (lagMs) =>
      c.emit({
        type: "catchup",
        eventsApplied: c.session.progress.eventsApplied,
        lagMs: Math.round(lagMs),
      }),
  });
  c.report.pauseMs = result.pauseMs;
  c.emit({ type: "phase", moveId: c.move.id, phase: "switched" });
  await c.admin.updateMove(
    c.move.id,
    c.owner,
    { progress: progressOf(c) },
    {
      message: `cut over in ${result.pauseMs} ms of write pause (attempt ${result.attempts})`,
      details: { pauseMs: result.pauseMs, attempts: result.attempts },
    },
  );
}

/** Cleanup: once routers moved on (or the grace period passed), deletes the moved rows from the source. */
export async function cleanupPhase(c: PhaseContext): Promise<void> {
  const move = await c.admin.getMove(c.move.id);
  const version = move.switchedVersion;
  if (version === null) {
    throw new MoveError(
      "MOVE_STATE",
      `move ${c.move.id} has not switched yet; resume it to cut over first`,
    );
  }
  await enter(c, "cleaning");
  // A router still on an older version reads the range from the source.
  await awaitRouters(c, version, "");
  const selector = selectorOf(move, await c.admin.snapshot());
  const s = c.session;
  for (const table of [...s.schemas.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    c.report.rowsDeleted += await deleteMovedRows(s.source, table, selector, {
      chunkSize: c.options.chunkSize,
      pauseMs: c.options.cleanupPauseMs,
      failpoint: "after-cleanup-chunk",
      signal: c.signal,
      ...(c.throttle ? { throttle: c.throttle } : {}),
      onChunk: (rowsDeleted) => c.emit({ type: "cleanup", table: table.name, rowsDeleted }),
    });
  }
  await dropProgress(s.target, c.move.id);
  await s.markers.remove();
  await enter(c, "done", `deleted ${c.report.rowsDeleted} moved rows from ${c.move.source}`);
}
