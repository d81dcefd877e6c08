import { DirectoryError } from "../../errors/directory-error.js";
import { ShardkitError } from "../../errors/shardkit-error.js";
import {
  evenSplit,
  formatKeyRange,
  type KeyRange,
  mergeRanges as mergeKeyRanges,
  rangesAdjacent,
  splitRange as splitKeyRange,
} from "../../key-range.js";
import type { ChangeResult } from "../directory-admin.js";
import { runChange, type StoreParts } from "./change-transaction.js";
import {
  requireNoMove,
  requireRange,
  requireServing,
  requireShard,
} from "./directory-invariants.js";

const MAX_RANGES = 65_536;

/** Lays out `evenSplit(n)` round-robin over `shards` (default: the serving shards by name); once only. */
export async function layoutEven(
  parts: StoreParts,
  n: number,
  shards?: readonly string[],
): Promise<ChangeResult> {
  if (!Number.isInteger(n) || n < 1 || n > MAX_RANGES) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `invalid number of ranges "${n}": give a whole number from 1 to ${MAX_RANGES}`,
    );
  }
  if (shards) checkShardList(shards);
  return runChange(parts, async ({ before, tx }) => {
    if (before.ranges.length > 0) {
      throw new DirectoryError(
        "LAYOUT_EXISTS",
        `the directory already has ${before.ranges.length} ranges; a layout is made once (use split, merge or a move to change it)`,
      );
    }
    const names = shards ?? before.shards.filter((s) => s.state === "serving").map((s) => s.name);
    for (const name of names) requireShard(before, name);
    if (names.length === 0) {
      throw new DirectoryError(
        "NO_SHARDS",
        "no shards are registered; add some first with shardkit shard add <name> <url>",
      );
    }
    const ranges = evenSplit(n);
    await tx.execute(
      "INSERT INTO shardkit_ranges (range_start, range_end, shard, state) VALUES ?",
      [ranges.map((r, i) => [r.start, r.end, names[i % names.length], "serving"])],
    );
    return { fence: [...new Set(names)] };
  });
}

/** Splits one range in two on the same shard (metadata only). */
export async function splitRange(
  parts: StoreParts,
  range: KeyRange,
  at?: number,
): Promise<ChangeResult & { ranges: [KeyRange, KeyRange] }> {
  let halves: [KeyRange, KeyRange] | undefined;
  const result = await runChange(parts, async ({ before, tx }) => {
    const owner = requireRange(before, range);
    requireNoMove(before, range, `split range ${formatKeyRange(range)}`);
    requireServing(owner);
    halves = splitKeyRange(range, at);
    await tx.execute("UPDATE shardkit_ranges SET range_end = ? WHERE range_start = ?", [
      halves[0].end,
      range.start,
    ]);
    await tx.execute(
      "INSERT INTO shardkit_ranges (range_start, range_end, shard, state) VALUES (?, ?, ?, 'serving')",
      [halves[1].start, halves[1].end, owner.shard],
    );
    return { fence: [owner.shard] };
  });
  return { ...result, ranges: halves as [KeyRange, KeyRange] };
}

/** Merges two adjacent serving ranges of one shard. */
export async function mergeRanges(
  parts: StoreParts,
  a: KeyRange,
  b: KeyRange,
): Promise<ChangeResult & { range: KeyRange }> {
  let merged: KeyRange | undefined;
  const result = await runChange(parts, async ({ before, tx }) => {
    const left = requireRange(before, a.start <= b.start ? a : b);
    const right = requireRange(before, a.start <= b.start ? b : a);
    if (!rangesAdjacent(left.range, right.range)) {
      throw new DirectoryError(
        "NOT_ADJACENT",
        `ranges ${formatKeyRange(left.range)} and ${formatKeyRange(right.range)} are not adjacent; only neighbouring ranges can be merged`,
      );
    }
    if (left.shard !== right.shard) {
      throw new DirectoryError(
        "DIFFERENT_SHARDS",
        `range ${formatKeyRange(left.range)} is on ${left.shard} and ${formatKeyRange(right.range)} on ${right.shard}; move one so both are on the same shard, then merge`,
      );
    }
    const both = { start: left.range.start, end: right.range.end };
    requireNoMove(
      before,
      both,
      `merge ranges ${formatKeyRange(left.range)} and ${formatKeyRange(right.range)}`,
    );
    requireServing(left);
    requireServing(right);
    merged = mergeKeyRanges(left.range, right.range);
    await tx.execute("DELETE FROM shardkit_ranges WHERE range_start = ?", [right.range.start]);
    await tx.execute("UPDATE shardkit_ranges SET range_end = ? WHERE range_start = ?", [
      merged.end,
      left.range.start,
    ]);
    return { fence: [left.shard] };
  });
  return { ...result, range: merged as KeyRange };
}

/** Gives a whole range from `from` to `to`: revoke on the old owner before the grant on the new. */
export async function assignRange(
  parts: StoreParts,
  range: KeyRange,
  from: string,
  to: string,
): Promise<ChangeResult> {
  return runChange(parts, async ({ before, tx }) => {
    const owner = requireRange(before, range);
    requireShard(before, to);
    requireNoMove(before, range, `assign range ${formatKeyRange(range)}`);
    if (owner.shard !== from) {
      throw new DirectoryError(
        "RANGE_BUSY",
        `range ${formatKeyRange(range)} is owned by ${owner.shard}, not ${from}; refresh and try again`,
      );
    }
    if (from === to) return { fence: [] };
    await tx.execute(
      "UPDATE shardkit_ranges SET shard = ?, state = 'serving' WHERE range_start = ?",
      [to, range.start],
    );
    return { fence: [from, to] };
  });
}

/** An explicit list of shards must name at least one, each once. */
function checkShardList(shards: readonly string[]): void {
  if (shards.length === 0) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      "the list of shards is empty; name at least one or leave --shards out",
    );
  }
  const twice = shards.filter((s, i) => shards.indexOf(s) !== i);
  if (twice.length > 0) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `shard ${[...new Set(twice)].join(", ")} is named more than once in the list of shards; name each shard once`,
      { details: { shards: [...shards] } },
    );
  }
}
