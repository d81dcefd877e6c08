// The public API of @shardkit/migrate: the move engine, one function per command. Its parts are
// on the `@shardkit/migrate/internal` subpath (src/internal.ts).
export { FAILPOINTS, type FailpointName } from "./failpoints.js";
export { MoveError } from "./move-error.js";
export {
  type Forecast,
  type ForecastOptions,
  type ForecastPoint,
  forecast,
  type ShardForecast,
} from "./planner/forecast.js";
export { makePlan, stepText } from "./planner/make-plan.js";
export type {
  Plan,
  PlanInput,
  PlanOptions,
  PlanStep,
  ShardBalance,
} from "./planner/plan-model.js";
export {
  bucketCount,
  bucketOf,
  bucketStart,
  LOAD_BUCKETS,
  type Load,
  PLAN_METRICS,
  type PlanMetric,
  type RangeLoad,
} from "./planner/range-loads.js";
export {
  type AppliedMove,
  type ApplyEvent,
  type ApplyOptions,
  type ApplyResult,
  applyPlan,
} from "./rebalance/apply-plan.js";
export {
  checkPlanOptions,
  layoutOf,
  makePlanFile,
  PLAN_FORMAT_VERSION,
  type PlanFile,
  type PlanFileStep,
  type PlanLayout,
  parsePlanFile,
} from "./rebalance/plan-file.js";
export { type MoveStepState, type PlanProgress, planProgress } from "./rebalance/plan-state.js";
export { type MeasureOptions, measureLoads } from "./stats/measure-loads.js";
export {
  type RangeStats,
  type ShardStats,
  type StatsReport,
  sampleBound,
  type TopKey,
} from "./stats/stats-model.js";
export type { TableVerifyResult, VerifyMode, VerifyResult } from "./verify/range-verifier.js";
export { VERIFY_MODES } from "./verify/range-verifier.js";
export {
  abortMove,
  cleanupMove,
  cutoverMove,
  resumeMove,
  startMove,
  verifyMove,
} from "./workflow/move-commands.js";
export type {
  MoveEvent,
  MoveOptions,
  MoveRequest,
  MoveSummary,
} from "./workflow/move-options.js";
