import { DirectoryError } from "../../errors/directory-error.js";
import { ShardkitError } from "../../errors/shardkit-error.js";
import { canonicalKeyString } from "../../key-function.js";
import { formatKeyRange, type KeyRange, rangeEquals } from "../../key-range.js";
import type { DirectorySnapshot, PinnedKey, RangeAssignment } from "../../model.js";
import {
  canMoveTransition,
  ENDED_MOVE_STATES,
  type MoveRecord,
  type MoveState,
} from "../../move-model.js";
import type { SqlConnection } from "../../mysql/sql-connection.js";
import type {
  ChangeResult,
  CreateMoveInput,
  MoveEventInput,
  MovePatch,
} from "../directory-admin.js";
import { type FenceRowChange, runChange, type StoreParts } from "./change-transaction.js";
import { requireNoMove, requireServing, requireShard } from "./directory-invariants.js";
import { checkMoveInput, checkPatch, jsonObject, type PatchValues } from "./move-input-checks.js";
import { inTransaction, requireLease } from "./move-lease.js";
import { appendMoveEvent, findMove, requireMove } from "./move-records.js";
import { readVersion } from "./snapshot-reader.js";

/**
 * Records a move, state `created`, and marks its range (split off its assignment when it is
 * only part of one) or its pin `moving`, in one change that bumps the version.
 */
export async function createMove(
  parts: StoreParts,
  input: CreateMoveInput,
): Promise<ChangeResult & { move: MoveRecord }> {
  checkMoveInput(input);
  const options = jsonObject("options", input.options ?? {});
  const result = await runChange(parts, async ({ before, tx }) => {
    if (await findMove(tx, input.id)) {
      throw new DirectoryError(
        "MOVE_EXISTS",
        `a move with id ${input.id} exists already; give the new move an id of its own`,
        { details: { move: input.id } },
      );
    }
    requireShard(before, input.source);
    requireShard(before, input.target);
    requireNoMove(before, input.range, `move ${formatKeyRange(input.range)}`);
    let rows: FenceRowChange[] = [];
    let keyText: string | null = null;
    if (input.kind === "range") {
      rows = await markRangeMoving(tx, before, input.range, input.source);
    } else {
      const pin = pinOf(before, input.keyBytes as Uint8Array, input.source, input.range);
      keyText = input.keyText ?? pin.keyText;
      await tx.execute("UPDATE shardkit_pins SET state = 'moving' WHERE key_bytes = ?", [
        Buffer.from(pin.keyBytes),
      ]);
    }
    await tx.execute(
      `INSERT INTO shardkit_moves (id, kind, range_start, range_end, key_bytes, key_text, source, target, state, options, progress)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, '{}')`,
      [
        input.id,
        input.kind,
        input.range.start,
        input.range.end,
        input.keyBytes ? Buffer.from(input.keyBytes) : null,
        keyText,
        input.source,
        input.target,
        options,
      ],
    );
    const what = input.kind === "key" ? `key ${keyText}` : `range ${formatKeyRange(input.range)}`;
    await appendMoveEvent(
      tx,
      input.id,
      "created",
      `recorded: move ${what} from ${input.source} to ${input.target}`,
    );
    return { fence: [], rows };
  });
  const move = await parts.directory.serial(async () =>
    requireMove(await parts.directory.ready(), input.id),
  );
  return { ...result, move };
}

/**
 * Changes a move's record by its lease holder. A state change the state machine allows is
 * recorded with an event; ending the move (`done`, `aborted`) is a directory change that bumps
 * the version and gives the range (or pin) back its `serving` state.
 */
export async function updateMove(
  parts: StoreParts,
  id: string,
  owner: string,
  patch: MovePatch,
  event?: MoveEventInput,
): Promise<ChangeResult & { move: MoveRecord }> {
  const set = checkPatch(patch, event);
  const { directory } = parts;
  if (patch.state && ENDED_MOVE_STATES.includes(patch.state)) {
    const result = await runChange(parts, async ({ before, tx }) => {
      const move = await requireMove(tx, id, true);
      await applyPatch(tx, move, owner, patch, set, event, before);
      return { fence: [] };
    });
    const move = await directory.serial(async () => requireMove(await directory.ready(), id));
    return { ...result, move };
  }
  return directory.serial(async () => {
    const conn = await directory.ready();
    const move = await inTransaction(conn, async () => {
      const move = await requireMove(conn, id, true);
      await applyPatch(conn, move, owner, patch, set, event);
      return requireMove(conn, id);
    });
    return { version: await readVersion(conn), move };
  });
}

async function applyPatch(
  conn: SqlConnection,
  move: MoveRecord,
  owner: string,
  patch: MovePatch,
  set: PatchValues,
  event: MoveEventInput | undefined,
  before?: DirectorySnapshot,
): Promise<void> {
  requireLease(move, owner);
  const to = patch.state ?? move.state;
  if (!canMoveTransition(move.state, to, move.failedIn)) throw badTransition(move, to);
  if ((to === "copied" || to === "verified" || to === "aborted") && (await isFrozen(conn, move))) {
    throw new DirectoryError(
      "MOVE_STATE",
      `move ${move.id} still has its source frozen; unfreeze it before it goes ${to}`,
      { details: { move: move.id, state: move.state, to } },
    );
  }
  const failedIn = to === "failed" ? failedState(move, patch) : null;
  // Leaving `failed` clears the error unless the patch sets one.
  const error =
    patch.error !== undefined
      ? patch.error
      : move.state === "failed" && to !== "failed"
        ? null
        : move.error;
  await conn.execute(
    `UPDATE shardkit_moves SET state = ?, failed_in = ?, error = ?, progress = COALESCE(?, progress),
       options = COALESCE(?, options), updated_at = CURRENT_TIMESTAMP(3) WHERE id = ?`,
    [to, failedIn, error, set.progress ?? null, set.options ?? null, move.id],
  );
  if (to === "aborted" && before) await giveBackServing(conn, before, move);
  if (to !== move.state || event) {
    const message = event?.message ?? `${move.state} -> ${to}`;
    await appendMoveEvent(conn, move.id, to, message, JSON.parse(set.details));
  }
}

/** An aborted move leaves its range (or pin) on the source, serving as before it started. */
async function giveBackServing(conn: SqlConnection, before: DirectorySnapshot, move: MoveRecord) {
  if (move.kind === "key") {
    await conn.execute(
      "UPDATE shardkit_pins SET state = 'serving' WHERE key_bytes = ? AND shard = ?",
      [Buffer.from(move.keyBytes ?? []), move.source],
    );
    return;
  }
  const a = before.ranges.find((r) => rangeEquals(r.range, move.range));
  if (a?.shard === move.source) {
    await conn.execute("UPDATE shardkit_ranges SET state = 'serving' WHERE range_start = ?", [
      a.range.start,
    ]);
  }
}

/** Whether the move's range (or pin) is frozen on its source in the directory. */
export async function isFrozen(conn: SqlConnection, move: MoveRecord): Promise<boolean> {
  const rows =
    move.kind === "key"
      ? await conn.query(
          "SELECT 1 FROM shardkit_pins WHERE key_bytes = ? AND shard = ? AND state = 'frozen'",
          [Buffer.from(move.keyBytes ?? []), move.source],
        )
      : await conn.query(
          "SELECT 1 FROM shardkit_ranges WHERE range_start = ? AND range_end = ? AND shard = ? AND state = 'frozen'",
          [move.range.start, move.range.end, move.source],
        );
  return rows.length > 0;
}

/** MOVE_STATE for a state change the state machine does not allow. */
export function badTransition(move: MoveRecord, to: MoveState): DirectoryError {
  const from = move.state === "failed" ? `failed (in ${move.failedIn})` : move.state;
  const advice =
    move.switchedVersion !== null
      ? "it is past the switch and can only go forward: resume it"
      : `see shardkit move status ${move.id}`;
  return new DirectoryError(
    "MOVE_STATE",
    `move ${move.id} cannot go from ${from} to ${to}; ${advice}`,
    { details: { move: move.id, state: move.state, failedIn: move.failedIn, to } },
  );
}

function failedState(move: MoveRecord, patch: MovePatch): MoveState {
  if (patch.failedIn) return patch.failedIn;
  return move.state === "failed" ? (move.failedIn ?? "created") : move.state;
}

/**
 * Marks the move's range `moving`, first splitting it off the source's range that holds it;
 * returns the fence rows the split changes on the source (none when it is a whole range).
 */
async function markRangeMoving(
  tx: SqlConnection,
  before: DirectorySnapshot,
  range: KeyRange,
  source: string,
): Promise<FenceRowChange[]> {
  const holder = holderOf(before, range, source);
  const starts = new Set([holder.range.start, range.start]);
  if (range.start > holder.range.start) {
    await tx.execute("UPDATE shardkit_ranges SET range_end = ? WHERE range_start = ?", [
      range.start,
      holder.range.start,
    ]);
    await tx.execute(
      "INSERT INTO shardkit_ranges (range_start, range_end, shard, state) VALUES (?, ?, ?, 'serving')",
      [range.start, holder.range.end, source],
    );
  }
  if (range.end < holder.range.end) {
    starts.add(range.end);
    await tx.execute("UPDATE shardkit_ranges SET range_end = ? WHERE range_start = ?", [
      range.end,
      range.start,
    ]);
    await tx.execute(
      "INSERT INTO shardkit_ranges (range_start, range_end, shard, state) VALUES (?, ?, ?, 'serving')",
      [range.end, holder.range.end, source],
    );
  }
  await tx.execute("UPDATE shardkit_ranges SET state = 'moving' WHERE range_start = ?", [
    range.start,
  ]);
  if (starts.size === 1) return [];
  const keys = [...starts].map((start) => ({
    kind: "range" as const,
    start,
    keyBytes: new Uint8Array(0),
  }));
  return [{ shard: source, keys }];
}

/** The source's serving range that holds all of `range`; refused otherwise, saying why. */
function holderOf(before: DirectorySnapshot, range: KeyRange, source: string): RangeAssignment {
  if (before.ranges.length === 0) {
    throw new DirectoryError(
      "NO_LAYOUT",
      "the directory has no ranges yet; lay them out with shardkit layout even <n>",
    );
  }
  const holder = before.ranges.find(
    (r) => r.range.start <= range.start && range.end <= r.range.end,
  );
  if (!holder) {
    throw new DirectoryError(
      "UNKNOWN_RANGE",
      `range ${formatKeyRange(range)} spans more than one range of the directory; move each range on its own (see shardkit ranges)`,
      { details: { range: formatKeyRange(range) } },
    );
  }
  if (holder.shard !== source) {
    throw new DirectoryError(
      "RANGE_BUSY",
      `range ${formatKeyRange(range)} is served by ${holder.shard}, not ${source}; move it from ${holder.shard}`,
      { details: { range: formatKeyRange(range), owner: holder.shard } },
    );
  }
  requireServing(holder);
  return holder;
}

/** The pin of a key move: pinned to `source`, serving, at `range`. */
function pinOf(
  before: DirectorySnapshot,
  keyBytes: Uint8Array,
  source: string,
  range: KeyRange,
): PinnedKey {
  const id = canonicalKeyString(keyBytes);
  const pin = before.pins.find((p) => canonicalKeyString(p.keyBytes) === id);
  const hex = `0x${Buffer.from(keyBytes).toString("hex")}`;
  if (!pin) {
    throw new DirectoryError(
      "NOT_PINNED",
      `key ${hex} is not pinned; pin it to ${source} first (shardkit pin <key> ${source}), then move it`,
    );
  }
  if (pin.shard !== source) {
    throw new DirectoryError(
      "RANGE_BUSY",
      `key ${pin.keyText} is pinned to ${pin.shard}, not ${source}; move it from ${pin.shard}`,
      { details: { key: pin.keyText, owner: pin.shard } },
    );
  }
  if (pin.ksid !== range.start || range.end !== pin.ksid + 1) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `a key move's range must be [ksid, ksid + 1) of its key (${formatKeyRange({ start: pin.ksid, end: pin.ksid + 1 })} for ${pin.keyText}); pass that range`,
    );
  }
  if (pin.state !== "serving") {
    throw new DirectoryError(
      "RANGE_BUSY",
      `key ${pin.keyText} is ${pin.state} (a move is in progress); wait for it to finish or abort it`,
    );
  }
  return pin;
}
