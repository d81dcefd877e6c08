import type { KeyRange } from "@shardkit/directory";
import {
  bucketCount,
  type Load,
  metricOf,
  type PlanMetric,
  type RangeLoad,
} from "./range-loads.js";

/** A run of buckets `[lo, hi)` of one range, and where it goes once moved. */
export interface Piece extends Load {
  readonly index: number;
  readonly lo: number;
  readonly hi: number;
  to?: string;
}

/** One measured range while planning: what is still movable (`lo`..`hi`) and what moved. */
export interface RangeState {
  readonly range: KeyRange;
  readonly shard: string;
  readonly buckets: number;
  /** Prefix sums of rows and bytes over the buckets (length buckets + 1). */
  readonly rows: readonly number[];
  readonly bytes: readonly number[];
  lo: number;
  hi: number;
  readonly moved: Piece[];
}

/**
 * The planner's working state: every range cut into buckets, the pieces moved so far, and each
 * shard's load kept up to date. A piece is taken from either end of what is left of a range,
 * so a range is moved in at most two pieces and never moved twice.
 */
export class PieceTable {
  private readonly states: RangeState[];
  private readonly load = new Map<string, { rows: number; bytes: number }>();
  private readonly byShard = new Map<string, number[]>();
  private readonly receivedBy = new Map<string, number>();

  constructor(
    ranges: readonly RangeLoad[],
    pinned: Readonly<Record<string, Load>>,
    readonly by: PlanMetric,
  ) {
    this.states = ranges.map((r, index) => {
      const n = r.buckets && r.buckets.length === bucketCount(r.range) ? r.buckets.length : 1;
      const buckets = n === 1 ? [{ rows: r.rows, bytes: r.bytes }] : (r.buckets as Load[]);
      const rows = [0];
      const bytes = [0];
      for (const b of buckets) {
        rows.push((rows.at(-1) as number) + b.rows);
        bytes.push((bytes.at(-1) as number) + b.bytes);
      }
      const list = this.byShard.get(r.shard) ?? [];
      list.push(index);
      this.byShard.set(r.shard, list);
      this.add(r.shard, rows[n] as number, bytes[n] as number);
      return { range: r.range, shard: r.shard, buckets: n, rows, bytes, lo: 0, hi: n, moved: [] };
    });
    for (const [shard, l] of Object.entries(pinned)) this.add(shard, l.rows, l.bytes);
  }

  private add(shard: string, rows: number, bytes: number): void {
    const l = this.load.get(shard) ?? { rows: 0, bytes: 0 };
    l.rows += rows;
    l.bytes += bytes;
    this.load.set(shard, l);
  }

  /** Shards owning a range at the start. */
  owners(): Set<string> {
    return new Set(this.byShard.keys());
  }

  /** The metric summed over every shard. */
  total(): number {
    let t = 0;
    for (const l of this.load.values()) t += metricOf(l, this.by);
    return t;
  }

  /** A shard's load in the metric balanced. */
  metric(shard: string): number {
    const l = this.load.get(shard);
    return l ? metricOf(l, this.by) : 0;
  }

  /** Every shard's load now. */
  loads(): Map<string, Load> {
    return new Map([...this.load].map(([s, l]) => [s, { rows: l.rows, bytes: l.bytes }]));
  }

  /** The ranges `shard` owned at the start. */
  statesOf(shard: string): readonly RangeState[] {
    return (this.byShard.get(shard) ?? []).map((i) => this.states[i] as RangeState);
  }

  /** Every range's state. */
  rangeStates(): readonly RangeState[] {
    return this.states;
  }

  /** How many ranges (or pieces of ranges) `shard` owns now. */
  ownedPieces(shard: string): number {
    let n = this.receivedBy.get(shard) ?? 0;
    for (const r of this.statesOf(shard)) {
      const movedBuckets = r.moved.reduce((sum, p) => sum + (p.hi - p.lo), 0);
      if (movedBuckets < r.buckets) n++;
    }
    return n;
  }

  /**
   * The piece of `shard`'s movable ranges to move next: the cheapest (in bytes) whose metric is
   * from `need` to `cap`, whole ranges before pieces; else the largest below `need`. Undefined
   * when none fits under `cap` (or when every piece is empty, unless `takeEmpty`).
   */
  choose(shard: string, need: number, cap: number, takeEmpty: boolean): Piece | undefined {
    let best: Piece | undefined;
    let bestKey: readonly number[] | undefined;
    const consider = (r: RangeState, index: number, lo: number, hi: number) => {
      const rows = (r.rows[hi] as number) - (r.rows[lo] as number);
      const bytes = (r.bytes[hi] as number) - (r.bytes[lo] as number);
      const m = this.by === "rows" ? rows : bytes;
      if (m > cap || (m <= 0 && !takeEmpty)) return;
      const cuts = (lo > r.lo ? 1 : 0) + (hi < r.hi ? 1 : 0);
      // Fits: cheapest first, then fewer cuts. Short of need: largest first, then cheapest.
      const key = m >= need ? [0, bytes, cuts] : [1, -m, bytes, cuts];
      if (bestKey === undefined || less(key, bestKey)) {
        bestKey = key;
        best = { index, lo, hi, rows, bytes };
      }
    };
    for (const index of this.byShard.get(shard) ?? []) {
      const r = this.states[index] as RangeState;
      if (r.lo >= r.hi) continue;
      consider(r, index, r.lo, r.hi);
      for (let k = r.lo + 1; k < r.hi; k++) {
        consider(r, index, r.lo, k);
        consider(r, index, k, r.hi);
      }
    }
    return best;
  }

  /** Moves `piece` to `to` (taking it off what is left of its range when it comes from there). */
  move(piece: Piece, to: string): void {
    const r = this.states[piece.index] as RangeState;
    if (piece.lo === r.lo && piece.hi <= r.hi) r.lo = piece.hi;
    else if (piece.hi === r.hi && piece.lo >= r.lo) r.hi = piece.lo;
    piece.to = to;
    r.moved.push(piece);
    this.add(r.shard, -piece.rows, -piece.bytes);
    this.add(to, piece.rows, piece.bytes);
    this.receivedBy.set(to, (this.receivedBy.get(to) ?? 0) + 1);
  }

  /** Undoes `move` (the piece stays with its range's owner and is no longer movable). */
  unmove(piece: Piece): void {
    const r = this.states[piece.index] as RangeState;
    const to = piece.to as string;
    r.moved.splice(r.moved.indexOf(piece), 1);
    this.add(to, -piece.rows, -piece.bytes);
    this.add(r.shard, piece.rows, piece.bytes);
    this.receivedBy.set(to, (this.receivedBy.get(to) ?? 1) - 1);
    piece.to = undefined;
  }

  /** Every piece moved. */
  movedPieces(): Piece[] {
    return this.states.flatMap((r) => r.moved);
  }
}

function less(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if ((a[i] as number) !== (b[i] as number)) return (a[i] as number) < (b[i] as number);
  }
  return false;
}
