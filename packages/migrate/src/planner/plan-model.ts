import type { KeyRange } from "@shardkit/directory";
import type { Load, PlanMetric, RangeLoad } from "./range-loads.js";

/** What the planner is given: every range with its measured load, and loads it cannot move. */
export interface PlanInput {
  /** Every range of the directory with its owner and load; together they cover the keyspace. */
  readonly ranges: readonly RangeLoad[];
  /** Rows of pinned keys per shard: they count towards a shard's load and never move. Default none. */
  readonly pinned?: Readonly<Record<string, Load>>;
}

/** What to plan for; every field has a default. */
export interface PlanOptions {
  /** Shards to scale out to (registered, owning nothing yet). Default none. */
  readonly add?: readonly string[];
  /** Shards to empty before retiring them. Default none. */
  readonly drain?: readonly string[];
  /** Every shard ends within this many percent of its fair share. Default 10. */
  readonly maxImbalance?: number;
  /** A shard's relative size (its fair share is proportional to it). Default 1 each. */
  readonly weights?: Readonly<Record<string, number>>;
  /** Balance rows or bytes. Default `bytes`. */
  readonly by?: PlanMetric;
}

/** One step of a plan: a split (metadata only) or an online move of a whole range. */
export type PlanStep =
  | { readonly kind: "split"; readonly range: KeyRange; readonly at: number }
  | {
      readonly kind: "move";
      readonly range: KeyRange;
      readonly from: string;
      readonly to: string;
      readonly rows: number;
      readonly bytes: number;
    };

/** One shard's place in a plan: its fair share and its load before and after. */
export interface ShardBalance {
  readonly shard: string;
  readonly weight: number;
  /** Being emptied (`drain`): its fair share is 0. */
  readonly drained: boolean;
  /** Its fair share of the metric balanced. */
  readonly target: number;
  readonly before: Load;
  readonly after: Load;
}

/** What the planner proposes, and how good it is. */
export interface Plan {
  readonly by: PlanMetric;
  readonly maxImbalance: number;
  readonly shards: readonly ShardBalance[];
  /** Splits first (in the order to run them), then moves. */
  readonly steps: readonly PlanStep[];
  readonly rowsMoved: number;
  readonly bytesMoved: number;
  /** No plan can move fewer bytes than this and end within the imbalance. */
  readonly lowerBoundBytes: number;
  /** bytesMoved / lowerBoundBytes (1 when both are 0): 1 is the best possible. */
  readonly closeness: number;
  /** True when every shard ends within the imbalance (and drained shards own nothing). */
  readonly withinImbalance: boolean;
  /** Why not, when `withinImbalance` is false. */
  readonly unmet: readonly string[];
  /** The largest load over the mean load (of shards not drained), before and after. */
  readonly maxOverMean: { readonly before: number; readonly after: number };
}
