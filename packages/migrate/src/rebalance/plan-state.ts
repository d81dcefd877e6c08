import {
  type ActiveMove,
  type DirectorySnapshot,
  formatKeyRange,
  type KeyRange,
  parseKeyRange,
  parseKsid,
} from "@shardkit/directory";
import { MoveError } from "../move-error.js";
import { layoutOf, type PlanFile, type PlanFileStep } from "./plan-file.js";

type MoveStep = Extract<PlanFileStep, { kind: "move" }>;

/** Where one move step of a plan stands in the directory now. */
export type MoveStepState =
  | { readonly state: "pending" }
  | { readonly state: "active"; readonly moveId: string }
  | { readonly state: "done" };

/** Where a plan stands, derived from the directory (apply records nothing of its own). */
export interface PlanProgress {
  /** Split steps whose split point is a range boundary already. */
  readonly splitsDone: ReadonlySet<number>;
  readonly moves: ReadonlyMap<number, MoveStepState>;
}

/**
 * Compares the directory now with the one the plan was made from, allowing exactly the changes
 * the plan's own steps make (so that a plan run halfway can continue), and says where each step
 * stands. PLAN_STALE naming the first thing that changed otherwise.
 */
export function planProgress(plan: PlanFile, snapshot: DirectorySnapshot): PlanProgress {
  const now = layoutOf(snapshot);
  const stale = (what: string) =>
    new MoveError(
      "PLAN_STALE",
      `the directory changed since the plan was made (version ${plan.directoryVersion}, now ${snapshot.version}): ${what}; make a new plan with shardkit plan`,
    );
  const diff = (kind: string, then: readonly string[], current: readonly string[]) => {
    const added = current.filter((x) => !then.includes(x));
    const removed = then.filter((x) => !current.includes(x));
    if (added.length > 0) throw stale(`${kind} ${added.join(", ")} added`);
    if (removed.length > 0) throw stale(`${kind} ${removed.join(", ")} removed`);
  };
  diff("shard", plan.layout.shards, now.shards);
  diff("table", plan.layout.tables, now.tables);
  diff(
    "pin",
    plan.layout.pins.map((p) => `${p.key} (on ${p.shard})`),
    now.pins.map((p) => `${p.key} (on ${p.shard})`),
  );

  const original = plan.layout.ranges.map((r) => ({
    range: parseKeyRange(r.range),
    shard: r.shard,
  }));
  const splits = plan.steps.filter((s) => s.kind === "split");
  const moves = plan.steps.filter((s): s is MoveStep => s.kind === "move");
  const planBounds = new Set<number>(original.map((r) => r.range.start));
  for (const s of splits) planBounds.add(parseKsid(s.at));
  const currentBounds = new Set(snapshot.ranges.map((r) => r.range.start));
  for (const b of currentBounds) {
    if (!planBounds.has(b))
      throw stale(
        `a range now starts at ${formatKeyRange({ start: b, end: 2 ** 32 }).split("-")[0]}, which the plan never splits at`,
      );
  }
  for (const r of original) {
    if (!currentBounds.has(r.range.start))
      throw stale(`range ${formatKeyRange(r.range)} was merged with another`);
  }
  const movedTo = new Map<string, MoveStep>(moves.map((m) => [m.range, m]));
  const ownerThen = (ksid: number) =>
    original.find((r) => r.range.start <= ksid && ksid < r.range.end)?.shard;
  const moveOf = (ksid: number) =>
    moves.find((m) => {
      const r = parseKeyRange(m.range);
      return r.start <= ksid && ksid < r.end;
    });
  for (const a of snapshot.ranges) {
    // Every sub-range of `a` between plan boundaries must be on its old owner, or (moved) its target.
    const inside = [...planBounds]
      .filter((b) => b >= a.range.start && b < a.range.end)
      .sort((x, y) => x - y);
    for (const start of inside) {
      const step = moveOf(start);
      const then = ownerThen(start);
      const allowed = step ? [step.from, step.to] : [then];
      if (!allowed.includes(a.shard)) {
        throw stale(
          `range ${formatKeyRange(a.range)} is on ${a.shard}, the plan expects ${allowed.join(" or ")}`,
        );
      }
      if (step && a.shard === step.to && formatKeyRange(a.range) !== step.range) {
        throw stale(
          `range ${formatKeyRange(a.range)} is on ${a.shard}, the plan moves ${step.range} there alone`,
        );
      }
    }
  }
  const active = new Map<number, string>();
  for (const m of snapshot.moves) {
    const step = m.kind === "range" ? movedTo.get(formatKeyRange(m.range)) : undefined;
    if (!step || step.from !== m.source || step.to !== m.target)
      throw stale(`${describe(m)} is running and is not in the plan`);
    active.set(step.step, m.id);
  }

  const splitsDone = new Set<number>();
  for (const s of splits) if (currentBounds.has(parseKsid(s.at))) splitsDone.add(s.step);
  const progress = new Map<number, MoveStepState>();
  for (const m of moves) {
    const id = active.get(m.step);
    const owner = snapshot.ranges.find((a) => formatKeyRange(a.range) === m.range)?.shard;
    progress.set(
      m.step,
      id !== undefined
        ? { state: "active", moveId: id }
        : owner === m.to
          ? { state: "done" }
          : { state: "pending" },
    );
  }
  return { splitsDone, moves: progress };
}

function describe(m: ActiveMove): string {
  return `move ${m.id} (${m.kind === "key" ? "a key" : `range ${formatKeyRange(m.range as KeyRange)}`} from ${m.source} to ${m.target})`;
}
