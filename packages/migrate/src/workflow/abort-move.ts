import type { DirectoryAdmin } from "@shardkit/directory";
import { selectorOf } from "../checks/shard-checks.js";
import { deleteMovedRows } from "../cleanup/row-deleter.js";
import type { ShardLoginResolver } from "../connection/shard-connection.js";
import { dropProgress, loadProgress } from "../copy/target-progress.js";
import { dropIfEmpty } from "../copy/target-tables.js";
import { MoveError } from "../move-error.js";
import { LeaseKeeper } from "./lease-keeper.js";
import type { MoveEvent, MoveSummary, ResolvedMoveOptions } from "./move-options.js";
import { standing } from "./move-runner.js";
import { MoveSession } from "./move-session.js";

/**
 * Undoes a move before its point of no return: the source serves the range as before
 * (unfrozen), the target's copies of the range are deleted in chunks, tables the move created
 * there are dropped when empty, its progress and markers are removed, and the move ends
 * `aborted`. Refused (MOVE_STATE) once switched: such a move can only go forward.
 */
export async function abortMove(
  admin: DirectoryAdmin,
  id: string,
  options: ResolvedMoveOptions,
  login: ShardLoginResolver,
): Promise<MoveSummary> {
  const found = await admin.getMove(id);
  if (found.switchedVersion !== null) {
    throw new MoveError(
      "MOVE_STATE",
      `move ${id} is past the point of no return (${found.target} owns the rows since version ${found.switchedVersion}); finish it with shardkit move resume ${id}`,
      { details: { move: id, state: found.state } },
    );
  }
  if (found.state === "done" || found.state === "aborted") {
    throw new MoveError("MOVE_STATE", `move ${id} is ${found.state}; there is nothing to abort`, {
      details: { move: id, state: found.state },
    });
  }
  const { keeper, move } = await LeaseKeeper.acquire(admin, id, options.leaseTtlMs);
  const emit = (event: MoveEvent) => options.onEvent?.(event);
  const started = performance.now();
  let session: MoveSession | null = null;
  let rowsDeleted = 0;
  try {
    await admin.updateMove(
      id,
      keeper.owner,
      { state: "aborting" },
      { message: `aborting from ${standing(move)}` },
    );
    emit({ type: "phase", moveId: id, phase: "aborting" });
    // The source takes writes again before anything else is undone.
    await admin.unfreezeRange(id, keeper.owner);
    const snapshot = await admin.snapshot();
    const source = snapshot.shards.find((s) => s.name === move.source);
    const target = snapshot.shards.find((s) => s.name === move.target);
    if (!source || !target) {
      throw new MoveError(
        "UNKNOWN_SHARD",
        `shard ${source ? move.target : move.source} of move ${id} is no longer registered; register it again, then abort`,
      );
    }
    session = await MoveSession.open({
      moveId: id,
      source,
      target,
      login,
      tables: snapshot.tables,
      selector: selectorOf(move, snapshot),
    });
    const progress = await loadProgress(session.target, id);
    const selector = selectorOf(move, snapshot);
    for (const table of session.schemas.values()) {
      const exists = await session.target.query(
        "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        [table.name],
      );
      if (exists.length === 0) continue;
      rowsDeleted += await deleteMovedRows(session.target, table, selector, {
        chunkSize: options.chunkSize,
        signal: options.signal,
        onChunk: (n) => emit({ type: "cleanup", table: table.name, rowsDeleted: n }),
      });
      if (progress.tables.get(table.name)?.createdTable)
        await dropIfEmpty(session.target, table.name);
    }
    await dropProgress(session.target, id);
    await session.markers.remove();
    await admin.updateMove(
      id,
      keeper.owner,
      { state: "aborted" },
      {
        message: `aborted: deleted ${rowsDeleted} copied rows from ${move.target}; ${move.source} serves the range as before`,
      },
    );
    emit({ type: "phase", moveId: id, phase: "aborted" });
    const summary: MoveSummary = {
      moveId: id,
      state: "aborted",
      rowsCopied: 0,
      eventsApplied: progress.eventsApplied,
      verify: null,
      pauseMs: null,
      phaseMs: { aborting: Math.round(performance.now() - started) },
      rowsDeleted,
      dryRun: false,
    };
    emit({ type: "done", summary });
    return summary;
  } catch (error) {
    await admin
      .updateMove(
        id,
        keeper.owner,
        { state: "failed", failedIn: "aborting", error: (error as Error).message },
        {
          message: `failed in aborting: ${(error as Error).message}`,
        },
      )
      .catch(() => undefined);
    throw error;
  } finally {
    await session?.close();
    await keeper.release();
  }
}
