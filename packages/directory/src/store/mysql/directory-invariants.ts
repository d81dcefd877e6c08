import { DirectoryError } from "../../errors/directory-error.js";
import {
  checkCoverage,
  formatKeyRange,
  type KeyRange,
  rangeEquals,
  rangesOverlap,
} from "../../key-range.js";
import type { DirectorySnapshot, RangeAssignment, ShardRecord } from "../../model.js";
import type { ActiveMove } from "../../move-model.js";

/** The directory's invariants, checked inside every change before it commits. */
export function checkInvariants(s: DirectorySnapshot): void {
  if (s.ranges.length > 0) {
    const coverage = checkCoverage(s.ranges.map((r) => r.range));
    if (!coverage.ok) {
      throw new DirectoryError(
        "COVERAGE_BROKEN",
        `refused: the change would break coverage (${coverage.message})`,
      );
    }
  }
  const names = new Set(s.shards.map((x) => x.name));
  for (const r of s.ranges) {
    if (!names.has(r.shard)) {
      throw new DirectoryError(
        "UNKNOWN_SHARD",
        `refused: range ${formatKeyRange(r.range)} would be owned by unknown shard ${r.shard}`,
      );
    }
  }
  for (const p of s.pins) {
    if (!names.has(p.shard)) {
      throw new DirectoryError(
        "UNKNOWN_SHARD",
        `refused: key ${p.keyText} would be pinned to unknown shard ${p.shard}`,
      );
    }
  }
  for (const [i, m] of s.moves.entries()) {
    for (const shard of [m.source, m.target]) {
      if (!names.has(shard)) {
        throw new DirectoryError(
          "UNKNOWN_SHARD",
          `refused: move ${m.id} would name unknown shard ${shard}`,
        );
      }
    }
    const other = s.moves.slice(i + 1).find((o) => rangesOverlap(o.range, m.range));
    if (other) {
      throw new DirectoryError(
        "RANGE_BUSY",
        `refused: moves ${m.id} and ${other.id} would both move ${formatKeyRange(m.range)}; wait for one to end`,
      );
    }
  }
}

/**
 * RANGE_BUSY when an active move overlaps `range` (for a pinned key, `[ksid, ksid + 1)`),
 * naming the move: its rows are being copied and its fences belong to the move.
 */
export function requireNoMove(s: DirectorySnapshot, range: KeyRange, doing: string): void {
  const move = s.moves.find((m) => rangesOverlap(m.range, range));
  if (move) throw moveBusy(move, doing);
}

/** RANGE_BUSY when any move is active: every sharded table's rows are being copied. */
export function requireNoMoves(s: DirectorySnapshot, doing: string): void {
  const [move] = s.moves;
  if (move) throw moveBusy(move, doing);
}

function moveBusy(move: ActiveMove, doing: string): DirectoryError {
  const what = move.kind === "key" ? "a pinned key" : `range ${formatKeyRange(move.range)}`;
  return new DirectoryError(
    "RANGE_BUSY",
    `cannot ${doing} while move ${move.id} (${what}, ${move.source} to ${move.target}) is ${move.state}; wait for it to finish or abort it (shardkit move abort ${move.id})`,
    { details: { move: move.id, range: formatKeyRange(move.range), state: move.state } },
  );
}

/** The registered shard called `name`; UNKNOWN_SHARD listing the registered ones otherwise. */
export function requireShard(s: DirectorySnapshot, name: string): ShardRecord {
  const shard = s.shards.find((x) => x.name === name);
  if (!shard) {
    const known = s.shards.map((x) => x.name).join(", ") || "none";
    throw new DirectoryError(
      "UNKNOWN_SHARD",
      `unknown shard "${name}" (registered: ${known}); see shardkit shard list`,
    );
  }
  return shard;
}

/** The assignment of exactly `range`; NO_LAYOUT or UNKNOWN_RANGE otherwise. */
export function requireRange(s: DirectorySnapshot, range: KeyRange): RangeAssignment {
  if (s.ranges.length === 0) {
    throw new DirectoryError(
      "NO_LAYOUT",
      "the directory has no ranges yet; lay them out with shardkit layout even <n>",
    );
  }
  const found = s.ranges.find((r) => rangeEquals(r.range, range));
  if (!found) {
    throw new DirectoryError(
      "UNKNOWN_RANGE",
      `no range ${formatKeyRange(range)} in the directory; name an existing range exactly (see shardkit ranges)`,
    );
  }
  return found;
}

/** Refuses a range that is frozen or moving: a move owns it. */
export function requireServing(a: RangeAssignment): void {
  if (a.state !== "serving") {
    throw new DirectoryError(
      "RANGE_BUSY",
      `range ${formatKeyRange(a.range)} is ${a.state} (a move is in progress); wait for it to finish or abort it`,
    );
  }
}

/** BAD_NAME for a shard, table, column or sequence name shardkit does not accept. */
export function badName(kind: string, name: string): DirectoryError {
  return new DirectoryError(
    "BAD_NAME",
    kind === "shard"
      ? `invalid shard name "${name}": start with a letter, then up to 63 letters, digits, _ or -`
      : `invalid ${kind} name "${name}": use a plain identifier (letters, digits, _ and $, not starting with a digit)`,
  );
}
