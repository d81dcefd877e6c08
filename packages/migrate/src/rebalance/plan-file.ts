import {
  type DirectorySnapshot,
  formatKeyRange,
  formatKsid,
  parseKeyRange,
  parseKsid,
} from "@shardkit/directory";
import { MoveError } from "../move-error.js";
import { makePlan } from "../planner/make-plan.js";
import type { Plan, PlanOptions, ShardBalance } from "../planner/plan-model.js";
import type { Load, PlanMetric, RangeLoad } from "../planner/range-loads.js";
import type { StatsReport } from "../stats/stats-model.js";

/** The version of the plan file format this code writes and reads. */
export const PLAN_FORMAT_VERSION = 1;

/** A step as written in a plan file: ranges in range notation, numbered from 1. */
export type PlanFileStep =
  | { readonly step: number; readonly kind: "split"; readonly range: string; readonly at: string }
  | {
      readonly step: number;
      readonly kind: "move";
      readonly range: string;
      readonly from: string;
      readonly to: string;
      readonly rows: number;
      readonly bytes: number;
    };

/** The directory as the plan saw it: what `apply` compares with the directory now. */
export interface PlanLayout {
  readonly shards: readonly string[];
  readonly tables: readonly string[];
  readonly ranges: readonly { readonly range: string; readonly shard: string }[];
  readonly pins: readonly { readonly key: string; readonly shard: string }[];
}

/** A plan file (`shardkit plan --out`): what to do, what it was made from, what it assumed. */
export interface PlanFile {
  readonly format: "shardkit-plan";
  readonly formatVersion: number;
  readonly createdAt: string;
  /** The directory version the plan was made from. */
  readonly directoryVersion: number;
  /** What the planner assumed: its options and the measurement it planned on. */
  readonly assumed: {
    readonly by: PlanMetric;
    readonly maxImbalance: number;
    readonly add: readonly string[];
    readonly drain: readonly string[];
    readonly weights: Readonly<Record<string, number>>;
    readonly stats: {
      readonly takenAt: string;
      readonly sample: number | null;
      readonly relativeErrorBound: number | null;
    };
  };
  readonly layout: PlanLayout;
  readonly shards: readonly ShardBalance[];
  readonly rowsMoved: number;
  readonly bytesMoved: number;
  readonly lowerBoundBytes: number;
  readonly closeness: number | null;
  readonly withinImbalance: boolean;
  readonly unmet: readonly string[];
  readonly maxOverMean: Plan["maxOverMean"];
  readonly steps: readonly PlanFileStep[];
}

/** The directory's layout in the form a plan file keeps. */
export function layoutOf(snapshot: DirectorySnapshot): PlanLayout {
  return {
    shards: snapshot.shards.map((s) => s.name).sort(),
    tables: snapshot.tables.map((t) => t.name).sort(),
    ranges: snapshot.ranges.map((r) => ({ range: formatKeyRange(r.range), shard: r.shard })),
    pins: snapshot.pins
      .map((p) => ({ key: p.keyText, shard: p.shard }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
  };
}

/**
 * Plans from a measurement of the directory at `snapshot`: the ranges' loads, pinned keys'
 * loads as fixed, and the planner's options. Refuses a measurement of other ranges, shards
 * to add that are not registered or already own ranges, and shards to drain that do not exist.
 */
export function makePlanFile(
  snapshot: DirectorySnapshot,
  stats: StatsReport,
  options: PlanOptions,
): PlanFile {
  const layout = layoutOf(snapshot);
  const running = snapshot.moves[0];
  if (running) {
    throw new MoveError(
      "RANGE_BUSY",
      `move ${running.id} (${formatKeyRange(running.range)} from ${running.source} to ${running.target}) is running: let it finish (shardkit move status ${running.id}) or abort it, then plan again`,
    );
  }
  const measured = stats.ranges.map((r) => `${r.range}@${r.shard}`).join(",");
  const now = layout.ranges.map((r) => `${r.range}@${r.shard}`).join(",");
  if (measured !== now) {
    throw new MoveError(
      "PLAN_STALE",
      `the ranges changed since they were measured (directory version ${stats.directoryVersion}, now ${snapshot.version}): measure again (shardkit stats, or run shardkit plan again)`,
    );
  }
  const registered = new Set(layout.shards);
  for (const s of [
    ...(options.add ?? []),
    ...(options.drain ?? []),
    ...Object.keys(options.weights ?? {}),
  ]) {
    if (!registered.has(s)) {
      throw new MoveError(
        "UNKNOWN_SHARD",
        `unknown shard ${s}: register it first with shardkit shard add ${s} ... (registered: ${layout.shards.join(", ")})`,
      );
    }
  }
  const ranges: RangeLoad[] = stats.ranges.map((r) => ({
    range: parseKeyRange(r.range),
    shard: r.shard,
    rows: r.rows,
    bytes: r.bytes,
    buckets: r.buckets,
  }));
  const pinned: Record<string, Load> = {};
  for (const s of stats.shards) pinned[s.shard] = s.pinned;
  const plan = makePlan({ ranges, pinned }, options);
  let n = 0;
  const steps: PlanFileStep[] = plan.steps.map((s) =>
    s.kind === "split"
      ? { step: ++n, kind: "split", range: formatKeyRange(s.range), at: formatKsid(s.at) }
      : {
          step: ++n,
          kind: "move",
          range: formatKeyRange(s.range),
          from: s.from,
          to: s.to,
          rows: s.rows,
          bytes: s.bytes,
        },
  );
  return {
    format: "shardkit-plan",
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    directoryVersion: snapshot.version,
    assumed: {
      by: plan.by,
      maxImbalance: plan.maxImbalance,
      add: options.add ?? [],
      drain: options.drain ?? [],
      weights: options.weights ?? {},
      stats: {
        takenAt: stats.takenAt,
        sample: stats.sample,
        relativeErrorBound: stats.errorBound?.relative ?? null,
      },
    },
    layout,
    shards: plan.shards,
    rowsMoved: plan.rowsMoved,
    bytesMoved: plan.bytesMoved,
    lowerBoundBytes: plan.lowerBoundBytes,
    closeness: Number.isFinite(plan.closeness) ? plan.closeness : null,
    withinImbalance: plan.withinImbalance,
    unmet: plan.unmet,
    maxOverMean: plan.maxOverMean,
    steps,
  };
}

/**
 * Checks the planner's options against the directory before anything is measured (unknown
 * shards, shards to add that own ranges, a drain of every shard): the same refusals as
 * {@link makePlanFile}, from a measurement of nothing.
 */
export function checkPlanOptions(snapshot: DirectorySnapshot, options: PlanOptions): void {
  makePlanFile(
    snapshot,
    {
      directoryVersion: snapshot.version,
      takenAt: "",
      sample: null,
      errorBound: null,
      ranges: snapshot.ranges.map((r) => ({
        range: formatKeyRange(r.range),
        shard: r.shard,
        rows: 0,
        bytes: 0,
        tables: {},
        buckets: [],
      })),
      shards: [],
      tables: [],
      topKeys: [],
      unroutableRows: 0,
      strayRows: 0,
    },
    options,
  );
}

/** Reads a plan file's text; BAD_PLAN (one line) when it is not one this shardkit writes. */
export function parsePlanFile(text: string, name: string): PlanFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MoveError(
      "BAD_PLAN",
      `${name} is not JSON: give a file written by shardkit plan --out`,
    );
  }
  const v = value as Partial<PlanFile> | null;
  if (!v || typeof v !== "object" || v.format !== "shardkit-plan") {
    throw new MoveError(
      "BAD_PLAN",
      `${name} is not a shardkit plan: give a file written by shardkit plan --out`,
    );
  }
  if (v.formatVersion !== PLAN_FORMAT_VERSION) {
    throw new MoveError(
      "BAD_PLAN",
      `${name} has plan format ${v.formatVersion}, this shardkit reads ${PLAN_FORMAT_VERSION}: make the plan again with this shardkit`,
    );
  }
  if (!Array.isArray(v.steps) || !v.layout || typeof v.directoryVersion !== "number") {
    throw new MoveError("BAD_PLAN", `${name} is missing its steps or layout: make the plan again`);
  }
  for (const s of v.steps) {
    try {
      parseKeyRange(s.range);
      if (s.kind === "split") parseKsid(s.at);
      else if (s.kind !== "move" || typeof s.from !== "string" || typeof s.to !== "string")
        throw new Error();
    } catch {
      throw new MoveError(
        "BAD_PLAN",
        `${name}: step ${s.step} is not a split or move shardkit reads; make the plan again`,
      );
    }
  }
  return v as PlanFile;
}
