// The planner: a greedy pass that takes the cheapest pieces off the most loaded shards, then a
// pass that leaves out every move the result does not need. Pure: no I/O, no clock.
import { formatKeyRange, type KeyRange } from "@shardkit/directory";
import { MoveError } from "../move-error.js";
import { lowerBoundBytes } from "./lower-bound.js";
import { PieceTable } from "./piece-table.js";
import type { Plan, PlanInput, PlanOptions, PlanStep, ShardBalance } from "./plan-model.js";
import { bucketStart, type Load, metricOf, PLAN_METRICS } from "./range-loads.js";

/** The options with defaults applied, and each shard's bounds. */
export interface Bounds {
  readonly shards: readonly string[];
  readonly drained: ReadonlySet<string>;
  readonly weight: ReadonlyMap<string, number>;
  readonly target: ReadonlyMap<string, number>;
  readonly lower: ReadonlyMap<string, number>;
  readonly upper: ReadonlyMap<string, number>;
}

/**
 * Proposes splits and moves that bring every shard within `maxImbalance` percent of its fair
 * share (by rows or bytes) while moving the fewest bytes it finds; never moves a range twice.
 * Refuses bad options (BAD_ARGUMENT, UNKNOWN_SHARD) with one line.
 *
 * @example
 * const plan = makePlan({ ranges }, { add: ["s3", "s4"], maxImbalance: 10 });
 * console.log(plan.bytesMoved, plan.lowerBoundBytes, plan.steps);
 */
export function makePlan(input: PlanInput, options: PlanOptions = {}): Plan {
  const by = options.by ?? "bytes";
  if (!PLAN_METRICS.includes(by)) {
    throw new MoveError("BAD_ARGUMENT", `invalid --by ${JSON.stringify(by)}: use rows or bytes`);
  }
  const fresh = () => new PieceTable(input.ranges, input.pinned ?? {}, by);
  let table = fresh();
  const bounds = boundsOf(table, options);
  const unmet: string[] = [];
  for (const shard of bounds.drained) {
    const pinned = input.pinned?.[shard];
    if (pinned && pinned.rows > 0) {
      unmet.push(
        `${shard} holds pinned keys (${pinned.rows} rows): move them with shardkit move --key first`,
      );
    }
  }
  const before = table.loads();
  const lower = lowerBoundBytes(table, bounds);
  // Each way of sizing pieces wins on some layouts: keep the plan within bounds that moves least.
  let best: { table: PieceTable; ok: boolean; bytes: number; moves: number } | undefined;
  const runs: [Sizing, Fallback][] = SIZINGS.map((sizing) => [sizing, "largest"]);
  // By rows, pieces differ in bytes per row: one more run prefers the cheaper rows.
  if (by === "rows") runs.push(["both", "efficient"]);
  for (const [sizing, fallback] of runs) {
    const t = fresh();
    greedy(t, bounds, sizing, fallback);
    prune(t, bounds);
    const moved = t.movedPieces();
    const candidate = {
      table: t,
      ok: within(t, bounds),
      bytes: moved.reduce((sum, p) => sum + p.bytes, 0),
      moves: moved.length,
    };
    if (
      best === undefined ||
      (candidate.ok && !best.ok) ||
      (candidate.ok === best.ok &&
        (candidate.bytes < best.bytes ||
          (candidate.bytes === best.bytes && candidate.moves < best.moves)))
    ) {
      best = candidate;
    }
  }
  table = (best as { table: PieceTable }).table;
  for (const s of bounds.shards) {
    const m = table.metric(s);
    const ownsRanges = table.ownedPieces(s) > 0;
    if (bounds.drained.has(s)) {
      if (ownsRanges) unmet.push(`${s} still owns ranges: no shard has room for them`);
    } else if (m > (bounds.upper.get(s) ?? 0) || m < (bounds.lower.get(s) ?? 0)) {
      unmet.push(
        `${s} ends at ${m} ${by}, outside ${Math.ceil(bounds.lower.get(s) ?? 0)}-${Math.floor(bounds.upper.get(s) ?? 0)}: ranges cannot be cut finely enough (measure with more rows, or allow more imbalance)`,
      );
    }
  }
  const after = table.loads();
  const shards: ShardBalance[] = bounds.shards.map((s) => ({
    shard: s,
    weight: bounds.weight.get(s) ?? 1,
    drained: bounds.drained.has(s),
    target: bounds.target.get(s) ?? 0,
    before: before.get(s) ?? { rows: 0, bytes: 0 },
    after: after.get(s) ?? { rows: 0, bytes: 0 },
  }));
  const steps = stepsOf(table);
  let rowsMoved = 0;
  let bytesMoved = 0;
  for (const step of steps) {
    if (step.kind !== "move") continue;
    rowsMoved += step.rows;
    bytesMoved += step.bytes;
  }
  return {
    by,
    maxImbalance: options.maxImbalance ?? 10,
    shards,
    steps,
    rowsMoved,
    bytesMoved,
    lowerBoundBytes: lower,
    closeness: lower === 0 ? (bytesMoved === 0 ? 1 : Number.POSITIVE_INFINITY) : bytesMoved / lower,
    withinImbalance: unmet.length === 0,
    unmet,
    maxOverMean: {
      before: maxOverTarget(shards, (b) => b.before, by),
      after: maxOverTarget(shards, (b) => b.after, by),
    },
  };
}

function maxOverTarget(
  shards: readonly ShardBalance[],
  load: (b: ShardBalance) => Load,
  by: "rows" | "bytes",
): number {
  let max = 0;
  for (const b of shards) {
    if (b.drained || b.target <= 0) continue;
    max = Math.max(max, metricOf(load(b), by) / b.target);
  }
  return max;
}

/** Each shard's fair share and bounds; refuses bad options. */
export function boundsOf(table: PieceTable, options: PlanOptions): Bounds {
  const p = options.maxImbalance ?? 10;
  if (!Number.isFinite(p) || p < 0 || p >= 100) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `invalid --max-imbalance ${p}: give a percentage from 0 to below 100, e.g. 10`,
    );
  }
  const owners = table.owners();
  const shards = [...owners];
  for (const s of options.add ?? []) {
    if (owners.has(s)) {
      throw new MoveError(
        "BAD_ARGUMENT",
        `${s} already owns ranges: --add names new shards; plan without --add to rebalance`,
      );
    }
    if (!shards.includes(s)) shards.push(s);
  }
  const drained = new Set(options.drain ?? []);
  for (const s of drained) {
    if (!shards.includes(s)) {
      throw new MoveError(
        "UNKNOWN_SHARD",
        `cannot drain ${s}: it owns no range; name a shard that owns ranges (shardkit ranges)`,
      );
    }
  }
  const weight = new Map<string, number>();
  for (const [s, w] of Object.entries(options.weights ?? {})) {
    if (!shards.includes(s)) {
      throw new MoveError(
        "UNKNOWN_SHARD",
        `--weight names ${s}, which owns no range and is not in --add; name a shard of the plan`,
      );
    }
    if (!Number.isFinite(w) || w <= 0) {
      throw new MoveError("BAD_ARGUMENT", `invalid weight ${w} for ${s}: give a number above 0`);
    }
    weight.set(s, w);
  }
  const receiving = shards.filter((s) => !drained.has(s));
  if (receiving.length === 0) {
    throw new MoveError(
      "BAD_ARGUMENT",
      "every shard would be drained: keep one, or add one with --add",
    );
  }
  const total = table.total();
  const totalWeight = receiving.reduce((sum, s) => sum + (weight.get(s) ?? 1), 0);
  const target = new Map<string, number>();
  const lower = new Map<string, number>();
  const upper = new Map<string, number>();
  for (const s of shards) {
    const t = drained.has(s) ? 0 : (total * (weight.get(s) ?? 1)) / totalWeight;
    target.set(s, t);
    lower.set(s, t * (1 - p / 100));
    upper.set(s, t * (1 + p / 100));
  }
  shards.sort();
  return { shards, drained, weight, target, lower, upper };
}

/**
 * How much a move from a donor to a receiver should carry at least: enough for both (`both`),
 * for the donor while it is above its bound and else for the receiver (`donor`), or the
 * smaller of the two (`least`).
 */
const SIZINGS = ["both", "donor", "least"] as const;
type Sizing = (typeof SIZINGS)[number];
/** What to take when no piece is large enough (see `PieceTable.choose`). */
type Fallback = "largest" | "efficient";

/** How far `s` is above its upper bound (drained: all of it). */
function excess(table: PieceTable, b: Bounds, s: string): number {
  const m = table.metric(s);
  return b.drained.has(s)
    ? table.ownedPieces(s) > 0
      ? Math.max(m, 1)
      : 0
    : m - (b.upper.get(s) ?? 0);
}

/** How far `s` is below its lower bound. */
function deficit(table: PieceTable, b: Bounds, s: string): number {
  return b.drained.has(s) ? 0 : (b.lower.get(s) ?? 0) - table.metric(s);
}

/**
 * Moves pieces from the shard furthest above its bound (or, once none is, from the one with
 * the most to spare) to the one furthest below (or with the most room): each time the
 * cheapest piece that does what is needed without overfilling the receiver.
 */
function greedy(table: PieceTable, b: Bounds, sizing: Sizing, fallback: Fallback): void {
  const receivers = b.shards.filter((s) => !b.drained.has(s));
  for (let guard = 0; guard < 100_000; guard++) {
    const over = b.shards
      .filter((s) => excess(table, b, s) > 0)
      .sort((x, y) => rank(table, b, y) - rank(table, b, x));
    const under = receivers.filter((s) => deficit(table, b, s) > 0);
    if (over.length === 0 && under.length === 0) return;
    // Donors: those above their bound first; to fill a shard below its bound, any with room to give.
    const donors =
      over.length > 0
        ? over
        : b.shards
            .filter((s) => table.metric(s) > (b.lower.get(s) ?? 0))
            .sort((x, y) => spare(table, b, y) - spare(table, b, x));
    const takers = (under.length > 0 ? under : receivers)
      .slice()
      .sort((x, y) => room(table, b, y) / weightOf(b, y) - room(table, b, x) / weightOf(b, x));
    let moved = false;
    for (const d of donors) {
      for (const r of takers) {
        if (r === d) continue;
        if (tryMove(table, b, d, r, sizing, fallback)) {
          moved = true;
          break;
        }
      }
      if (moved) break;
    }
    if (!moved) return;
  }
}

function weightOf(b: Bounds, s: string): number {
  return b.weight.get(s) ?? 1;
}

/** How loaded `s` is relative to its bound (drained shards first). */
function rank(table: PieceTable, b: Bounds, s: string): number {
  if (b.drained.has(s)) return Number.POSITIVE_INFINITY;
  return table.metric(s) / Math.max(b.upper.get(s) ?? 1, 1e-9);
}

function spare(table: PieceTable, b: Bounds, s: string): number {
  return b.drained.has(s) ? Number.POSITIVE_INFINITY : table.metric(s) - (b.lower.get(s) ?? 0);
}

function room(table: PieceTable, b: Bounds, s: string): number {
  return (b.upper.get(s) ?? 0) - table.metric(s);
}

/** Moves one piece from `d` to `r` if one helps; false when none does. */
function tryMove(
  table: PieceTable,
  b: Bounds,
  d: string,
  r: string,
  sizing: Sizing,
  fallback: Fallback,
): boolean {
  const cap = Math.min(room(table, b, r), b.drained.has(d) ? table.metric(d) : spare(table, b, d));
  const drainedDonor = b.drained.has(d);
  if (cap <= 0 && !(drainedDonor && table.metric(d) === 0)) {
    // A drained shard's empty ranges still go (they add nothing).
    return false;
  }
  const give = excess(table, b, d);
  const take = deficit(table, b, r);
  const wanted =
    sizing === "both"
      ? Math.max(give, take)
      : sizing === "donor"
        ? give > 0
          ? give
          : take
        : Math.min(...[give, take].filter((x) => x > 0), Number.POSITIVE_INFINITY);
  const need = drainedDonor
    ? Math.min(table.metric(d), cap)
    : Math.min(Math.max(Number.isFinite(wanted) ? wanted : 0, 0), cap);
  const piece = table.choose(d, need, Math.max(cap, 0), drainedDonor, fallback);
  if (!piece) return false;
  table.move(piece, r);
  return true;
}

/** Leaves out every move (largest first) the plan stays within its bounds without. */
function prune(table: PieceTable, b: Bounds): void {
  if (!within(table, b)) return;
  const moved = table.movedPieces().sort((x, y) => y.bytes - x.bytes);
  for (const piece of moved) {
    const to = piece.to as string;
    table.unmove(piece);
    if (!within(table, b)) table.move(piece, to);
  }
}

/** Whether every shard is within its bounds and every drained shard owns nothing. */
export function within(table: PieceTable, b: Bounds): boolean {
  for (const s of b.shards) {
    if (b.drained.has(s)) {
      if (table.ownedPieces(s) > 0) return false;
      continue;
    }
    const m = table.metric(s);
    if (m > (b.upper.get(s) ?? 0) + 1e-9 || m < (b.lower.get(s) ?? 0) - 1e-9) return false;
  }
  return true;
}

/** The splits (in the order to run them) and the moves that carry out the pieces moved. */
function stepsOf(table: PieceTable): PlanStep[] {
  const splits: PlanStep[] = [];
  const moves: PlanStep[] = [];
  for (const r of table.rangeStates()) {
    const pieces = r.moved.slice().sort((x, y) => x.lo - y.lo);
    if (pieces.length === 0) continue;
    const cuts = new Set<number>();
    for (const p of pieces) {
      if (p.lo > 0) cuts.add(p.lo);
      if (p.hi < r.buckets) cuts.add(p.hi);
    }
    // Each cut splits the piece of the range that is left above the previous cut.
    let rest: KeyRange = r.range;
    for (const k of [...cuts].sort((x, y) => x - y)) {
      const at = bucketStart(r.range, k);
      splits.push({ kind: "split", range: rest, at });
      rest = { start: at, end: rest.end };
    }
    for (const p of pieces) {
      moves.push({
        kind: "move",
        range: { start: bucketStart(r.range, p.lo), end: bucketStart(r.range, p.hi) },
        from: r.shard,
        to: p.to as string,
        rows: p.rows,
        bytes: p.bytes,
      });
    }
  }
  return [...splits, ...moves];
}

/** A step as one line: `split 40-80 at 60`, `move 60-80 s1 -> s3`. */
export function stepText(step: PlanStep): string {
  return step.kind === "split"
    ? `split ${formatKeyRange(step.range)} at ${formatKeyRange({ start: step.at, end: step.range.end }).split("-")[0]}`
    : `move ${formatKeyRange(step.range)} from ${step.from} to ${step.to}`;
}
