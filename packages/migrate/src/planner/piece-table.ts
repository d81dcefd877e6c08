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
   * from `need` to `cap`, whole ranges before pieces. Else one short of `need`: the largest
   * (`fallback` `largest`), or of those at least half as large, the fewest bytes per unit of the
   * metric (`efficient`). Undefined when none fits under `cap` (or every piece is empty, unless
   * `takeEmpty`).
   */
  choose(
    shard: string,
    need: number,
    cap: number,
    takeEmpty: boolean,
    fallback: "largest" | "efficient" = "largest",
  ): Piece | undefined {
    const byRows = this.by === "rows";
    const indexes = this.byShard.get(shard) ?? [];
    let fit: Piece | undefined;
    let fitBytes = Number.POSITIVE_INFINITY;
    let fitCuts = 3;
    let big: Piece | undefined;
    let bigM = Number.NEGATIVE_INFINITY;
    let bigBytes = Number.POSITIVE_INFINITY;
    let bigCuts = 3;
    // Plain loops, no arrays per candidate: this runs for every piece of every range of a shard.
    const consider = (r: RangeState, index: number, lo: number, hi: number) => {
      const rows = (r.rows[hi] as number) - (r.rows[lo] as number);
      const bytes = (r.bytes[hi] as number) - (r.bytes[lo] as number);
      const m = byRows ? rows : bytes;
      if (m > cap || (m <= 0 && !takeEmpty)) return;
      const cuts = (lo > r.lo ? 1 : 0) + (hi < r.hi ? 1 : 0);
      if (m >= need) {
        if (bytes < fitBytes || (bytes === fitBytes && cuts < fitCuts)) {
          fit = { index, lo, hi, rows, bytes };
          fitBytes = bytes;
          fitCuts = cuts;
        }
      } else if (
        m > bigM ||
        (m === bigM && (bytes < bigBytes || (bytes === bigBytes && cuts < bigCuts)))
      ) {
        big = { index, lo, hi, rows, bytes };
        bigM = m;
        bigBytes = bytes;
        bigCuts = cuts;
      }
    };
    const each = (visit: (r: RangeState, index: number, lo: number, hi: number) => void) => {
      for (const index of indexes) {
        const r = this.states[index] as RangeState;
        if (r.lo >= r.hi) continue;
        visit(r, index, r.lo, r.hi);
        for (let k = r.lo + 1; k < r.hi; k++) {
          visit(r, index, r.lo, k);
          visit(r, index, k, r.hi);
        }
      }
    };
    each(consider);
    if (fit || fallback === "largest" || !big || bigM <= 0) return fit ?? big;
    let best: Piece = big;
    let bestRatio = bigBytes / bigM;
    let bestM = bigM;
    each((r, index, lo, hi) => {
      const rows = (r.rows[hi] as number) - (r.rows[lo] as number);
      const bytes = (r.bytes[hi] as number) - (r.bytes[lo] as number);
      const m = byRows ? rows : bytes;
      if (m > cap || m >= need || m < bigM / 2 || m <= 0) return;
      const ratio = bytes / m;
      if (ratio < bestRatio || (ratio === bestRatio && m > bestM)) {
        best = { index, lo, hi, rows, bytes };
        bestRatio = ratio;
        bestM = m;
      }
    });
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
