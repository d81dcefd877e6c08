import { DirectoryError } from "../../errors/directory-error.js";
import { ShardkitError } from "../../errors/shardkit-error.js";
import type { FenceRowKey } from "../../fence/fence-row-edits.js";
import { formatKeyRange, rangeEquals } from "../../key-range.js";
import type { DirectorySnapshot, RangeState } from "../../model.js";
import { canMoveTransition, isMoveActive, type MoveRecord } from "../../move-model.js";
import { mysqlCodeOf, type SqlConnection } from "../../mysql/sql-connection.js";
import type { ChangeResult, FreezeOptions } from "../directory-admin.js";
import { type ChangePlan, runChange, type StoreParts } from "./change-transaction.js";
import { requireShard } from "./directory-invariants.js";
import { badTransition } from "./move-changes.js";
import { requireLease } from "./move-lease.js";
import { appendMoveEvent, requireMove } from "./move-records.js";

const MAX_DRAIN_SECONDS = 3600;

/**
 * Freezes the move's range (or pin) on its source: the directory says `frozen` and the
 * source's one fence row is updated, waiting for writes in flight that hold it (the drain);
 * the move becomes `cutting_over`. Idempotent: when already frozen, only re-asserts the row.
 */
export async function freezeRange(
  parts: StoreParts,
  id: string,
  owner: string,
  options: FreezeOptions = {},
): Promise<ChangeResult> {
  const wait = options.drainTimeoutSeconds;
  if (wait !== undefined && (!Number.isInteger(wait) || wait < 1 || wait > MAX_DRAIN_SECONDS)) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `invalid drain timeout ${wait} s: give a whole number of seconds from 1 to ${MAX_DRAIN_SECONDS}`,
    );
  }
  let what = `the range of move ${id}`;
  try {
    return await runChange(parts, async ({ before, tx }) => {
      const move = await movingMove(tx, id, owner, "freeze");
      what = describe(move);
      if (
        move.state !== "cutting_over" &&
        !canMoveTransition(move.state, "cutting_over", move.failedIn)
      ) {
        throw badTransition(move, "cutting_over");
      }
      const rows = [{ shard: move.source, keys: [ownKey(move)], lockWaitSeconds: wait }];
      if (sourceState(before, move) === "frozen" && move.state === "cutting_over") {
        return { fence: [], rows, unchanged: true };
      }
      await setSourceState(tx, move, "frozen");
      if (move.state !== "cutting_over") {
        await tx.execute(
          "UPDATE shardkit_moves SET state = 'cutting_over', failed_in = NULL, error = NULL, updated_at = CURRENT_TIMESTAMP(3) WHERE id = ?",
          [id],
        );
      }
      await appendMoveEvent(tx, id, "cutting_over", `froze ${what} on ${move.source}`);
      return { fence: [], rows };
    });
  } catch (error) {
    if (mysqlCodeOf(error) !== "ER_LOCK_WAIT_TIMEOUT") throw error;
    throw new DirectoryError(
      "DEADLINE_EXCEEDED",
      `writes in flight on ${what} held its fence row past the drain timeout, so nothing was frozen; try the cutover again`,
      { details: { move: id }, cause: error },
    );
  }
}

/** Undoes {@link freezeRange} before the switch; idempotent (re-asserts the serving row). */
export async function unfreezeRange(
  parts: StoreParts,
  id: string,
  owner: string,
): Promise<ChangeResult> {
  return runChange(parts, async ({ before, tx }) => {
    const move = await movingMove(tx, id, owner, "unfreeze");
    const rows = [{ shard: move.source, keys: [ownKey(move)] }];
    if (sourceState(before, move) !== "frozen") return { fence: [], rows, unchanged: true };
    await setSourceState(tx, move, "moving");
    await tx.execute("UPDATE shardkit_moves SET updated_at = CURRENT_TIMESTAMP(3) WHERE id = ?", [
      id,
    ]);
    await appendMoveEvent(tx, id, move.state, `unfroze ${describe(move)} on ${move.source}`);
    return { fence: [], rows };
  });
}

/**
 * The point of no return, one directory change: the target owns the range (or pin); the
 * source's fence rows change before the target's (never two shards accepting it); the move is
 * `switched` at the new version; the directory commits last. Idempotent once switched.
 */
export async function switchRange(
  parts: StoreParts,
  id: string,
  owner: string,
): Promise<ChangeResult> {
  return runChange(parts, async ({ before, tx }): Promise<ChangePlan> => {
    const move = await requireMove(tx, id, true);
    requireLease(move, owner);
    if (move.switchedVersion !== null) return { fence: [], unchanged: true };
    if (!canMoveTransition(move.state, "switched", move.failedIn)) {
      throw badTransition(move, "switched");
    }
    requireShard(before, move.target);
    if (sourceState(before, move) !== "frozen") {
      throw new DirectoryError(
        "MOVE_STATE",
        `${describe(move)} is not frozen on ${move.source} by move ${id}; freeze it first (the cutover does)`,
        { details: { move: id } },
      );
    }
    if (move.kind === "key") {
      await tx.execute(
        "UPDATE shardkit_pins SET shard = ?, state = 'serving' WHERE key_bytes = ?",
        [move.target, Buffer.from(move.keyBytes ?? [])],
      );
    } else {
      await tx.execute(
        "UPDATE shardkit_ranges SET shard = ?, state = 'serving' WHERE range_start = ?",
        [move.target, move.range.start],
      );
    }
    await tx.execute(
      "UPDATE shardkit_moves SET state = 'switched', failed_in = NULL, error = NULL, switched_version = ?, updated_at = CURRENT_TIMESTAMP(3) WHERE id = ?",
      [before.version + 1, id],
    );
    await appendMoveEvent(
      tx,
      id,
      "switched",
      `switched: ${move.target} owns ${describe(move)} from version ${before.version + 1}`,
    );
    // The source refuses before the target accepts.
    return {
      fence: [],
      rows: [
        { shard: move.source, keys: fenceKeys(move, "source") },
        { shard: move.target, keys: fenceKeys(move, "target") },
      ],
    };
  });
}

/** The move, locked, held by `owner`, active and not past the switch. */
async function movingMove(
  tx: SqlConnection,
  id: string,
  owner: string,
  doing: string,
): Promise<MoveRecord> {
  const move = await requireMove(tx, id, true);
  requireLease(move, owner);
  if (!isMoveActive(move.state) || move.switchedVersion !== null) {
    const why =
      move.switchedVersion !== null
        ? "past the switch, so it can only go forward: resume it"
        : `${move.state}, so there is nothing to ${doing}`;
    throw new DirectoryError("MOVE_STATE", `cannot ${doing} move ${id}: it is ${why}`, {
      details: { move: id, state: move.state },
    });
  }
  return move;
}

/** The directory state of the move's range (or pin) on its source; refused when it is not there. */
function sourceState(before: DirectorySnapshot, move: MoveRecord): RangeState {
  const found =
    move.kind === "key"
      ? before.pins.find(
          (p) =>
            p.shard === move.source &&
            Buffer.from(p.keyBytes).equals(Buffer.from(move.keyBytes ?? [])),
        )
      : before.ranges.find((r) => r.shard === move.source && rangeEquals(r.range, move.range));
  if (!found) {
    throw new DirectoryError(
      "MOVE_STATE",
      `${describe(move)} is no longer held by ${move.source} in the directory, so move ${move.id} cannot change it; see shardkit move status ${move.id}`,
      { details: { move: move.id } },
    );
  }
  return found.state;
}

async function setSourceState(tx: SqlConnection, move: MoveRecord, state: RangeState) {
  if (move.kind === "key") {
    await tx.execute("UPDATE shardkit_pins SET state = ? WHERE key_bytes = ? AND shard = ?", [
      state,
      Buffer.from(move.keyBytes ?? []),
      move.source,
    ]);
  } else {
    await tx.execute("UPDATE shardkit_ranges SET state = ? WHERE range_start = ? AND shard = ?", [
      state,
      move.range.start,
      move.source,
    ]);
  }
}

/** The fence row that lets the source take writes for the move's range (or key). */
function ownKey(move: MoveRecord): FenceRowKey {
  const [own] = fenceKeys(move, "source");
  return own as FenceRowKey;
}

/**
 * The fence rows a move changes on one side: the range's row; for a key, its `pin` row and
 * its `pin_away` row (the source trades the first for the second, the target the reverse).
 */
function fenceKeys(move: MoveRecord, side: "source" | "target"): FenceRowKey[] {
  if (move.kind === "range") {
    return [{ kind: "range", start: move.range.start, keyBytes: new Uint8Array(0) }];
  }
  const keyBytes = move.keyBytes ?? new Uint8Array(0);
  const pin = { kind: "pin" as const, start: move.range.start, keyBytes };
  const away = { kind: "pin_away" as const, start: move.range.start, keyBytes };
  return side === "source" ? [pin, away] : [away, pin];
}

function describe(move: MoveRecord): string {
  return move.kind === "key" ? `key ${move.keyText}` : `range ${formatKeyRange(move.range)}`;
}
