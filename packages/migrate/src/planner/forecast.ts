import { MoveError } from "../move-error.js";

/** One stored measurement as the forecast reads it: when, and each shard's bytes. */
export interface ForecastPoint {
  readonly takenAt: Date;
  readonly shards: readonly { readonly shard: string; readonly bytes: number }[];
}

/** Options of {@link forecast}. */
export interface ForecastOptions {
  /** Bytes a shard can hold. Required. */
  readonly capacity: number;
  /** How many months ahead to look. Default 12. */
  readonly months?: number;
  /** Growth in percent per month; default: fitted to the points' history (two or more points). */
  readonly growthPercent?: number;
}

/** One shard's outlook. */
export interface ShardForecast {
  readonly shard: string;
  readonly bytes: number;
  /** Months from the last measurement until it holds `capacity` (0: full already; null: never, at this growth). */
  readonly fullInMonths: number | null;
  /** The day it fills up (ISO date), or null. */
  readonly fullOn: string | null;
}

/** What the next months need. */
export interface Forecast {
  readonly capacity: number;
  readonly growthPercentPerMonth: number;
  /** Where the growth comes from: fitted to the stored snapshots, or given. */
  readonly growthFrom: "history" | "given";
  /** The measurements used: how many, first and last. */
  readonly basedOn: { readonly snapshots: number; readonly from: string; readonly to: string };
  readonly totalBytes: number;
  readonly shards: readonly ShardForecast[];
  /** Shards owning data now. */
  readonly currentShards: number;
  /** Month by month from the last measurement: total bytes and the shards they need at `capacity` each. */
  readonly months: readonly {
    readonly month: number;
    readonly totalBytes: number;
    readonly shardsNeeded: number;
  }[];
  /** Shards needed at the end of the period (never fewer than there are). */
  readonly shardsNeeded: number;
}

/** Average month, for turning time into months. */
export const MONTH_MS = 30.436875 * 24 * 3600 * 1000;

/**
 * When each shard fills up and how many shards the next months need: growth is compound, fitted
 * (least squares on the logarithm of the total bytes) to the measurements' history, or given.
 * Every shard is assumed to grow at the whole's rate. Refuses (BAD_ARGUMENT) what it cannot
 * answer: no measurement, or one alone without a growth rate.
 *
 * @example
 * forecast(points, { capacity: 500 * 2 ** 30, months: 12 }).shardsNeeded
 */
export function forecast(points: readonly ForecastPoint[], options: ForecastOptions): Forecast {
  const capacity = options.capacity;
  const months = options.months ?? 12;
  if (!(Number.isFinite(capacity) && capacity > 0)) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `invalid --capacity ${capacity}: give the bytes a shard holds, e.g. 500G`,
    );
  }
  if (!Number.isInteger(months) || months < 1 || months > 600) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `invalid --months ${months}: give a whole number from 1 to 600`,
    );
  }
  if (points.length === 0) {
    throw new MoveError("BAD_ARGUMENT", "no stored measurements: run shardkit stats first");
  }
  const sorted = [...points].sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime());
  const first = sorted[0] as ForecastPoint;
  const last = sorted.at(-1) as ForecastPoint;
  let growth: number;
  let growthFrom: Forecast["growthFrom"];
  if (options.growthPercent !== undefined) {
    if (!Number.isFinite(options.growthPercent) || options.growthPercent <= -100) {
      throw new MoveError(
        "BAD_ARGUMENT",
        `invalid --growth ${options.growthPercent}: give percent per month above -100, e.g. 5`,
      );
    }
    growth = options.growthPercent / 100;
    growthFrom = "given";
  } else {
    growth = fittedGrowth(sorted);
    growthFrom = "history";
  }
  const total = (p: ForecastPoint) => p.shards.reduce((s, x) => s + x.bytes, 0);
  const totalBytes = total(last);
  const monthsToFill = (bytes: number): number | null => {
    if (bytes >= capacity) return 0;
    if (growth <= 0 || bytes <= 0) return null;
    return Math.log(capacity / bytes) / Math.log(1 + growth);
  };
  const shards = last.shards.map((s) => {
    const m = monthsToFill(s.bytes);
    return {
      shard: s.shard,
      bytes: s.bytes,
      fullInMonths: m,
      fullOn:
        m === null
          ? null
          : new Date(last.takenAt.getTime() + m * MONTH_MS).toISOString().slice(0, 10),
    };
  });
  const currentShards = last.shards.filter((s) => s.bytes > 0).length;
  const outlook = Array.from({ length: months }, (_, i) => {
    const bytes = totalBytes * (1 + growth) ** (i + 1);
    return {
      month: i + 1,
      totalBytes: Math.round(bytes),
      shardsNeeded: Math.max(currentShards, Math.ceil(bytes / capacity)),
    };
  });
  return {
    capacity,
    growthPercentPerMonth: growth * 100,
    growthFrom,
    basedOn: {
      snapshots: sorted.length,
      from: first.takenAt.toISOString(),
      to: last.takenAt.toISOString(),
    },
    totalBytes,
    shards,
    currentShards,
    months: outlook,
    shardsNeeded: (outlook.at(-1) as { shardsNeeded: number }).shardsNeeded,
  };
}

/** Monthly compound growth fitted to the totals' logarithms; refuses a history too short to fit. */
function fittedGrowth(points: readonly ForecastPoint[]): number {
  const xs: number[] = [];
  const ys: number[] = [];
  const t0 = (points[0] as ForecastPoint).takenAt.getTime();
  for (const p of points) {
    const bytes = p.shards.reduce((s, x) => s + x.bytes, 0);
    if (bytes <= 0) continue;
    xs.push((p.takenAt.getTime() - t0) / MONTH_MS);
    ys.push(Math.log(bytes));
  }
  const span = xs.length > 0 ? Math.max(...xs) - Math.min(...xs) : 0;
  if (xs.length < 2 || span <= 0) {
    throw new MoveError(
      "BAD_ARGUMENT",
      "one measurement is no history: give --growth <percent per month>, or run shardkit stats again later",
    );
  }
  const mx = xs.reduce((s, x) => s + x, 0) / xs.length;
  const my = ys.reduce((s, y) => s + y, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return Math.exp(num / den) - 1;
}
