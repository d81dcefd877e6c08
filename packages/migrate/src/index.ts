// The public API of @shardkit/migrate: the move engine, one function per command. Its parts are
// on the `@shardkit/migrate/internal` subpath (src/internal.ts).
export { FAILPOINTS, type FailpointName } from "./failpoints.js";
export { MoveMetrics } from "./metrics/move-metrics.js";
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
export {
  APPLIER_VARIABLE,
  READ_ONLY_SQLSTATE,
} from "./reference/read-only-guard.js";
export {
  type AddReferenceInput,
  addReferenceTable,
  type CopySyncResult,
  copyReferenceTablesTo,
  type ReferenceOptions,
  type ReferenceSyncResult,
  removeReferenceTable,
  resyncReferenceTable,
} from "./reference/reference-commands.js";
export {
  type FollowEvent,
  type FollowOptions,
  followReferenceTables,
  type ReferenceFollower,
} from "./reference/reference-follower.js";
export {
  REFERENCE_COPIES_TABLE,
  REFERENCE_COPY_STATES,
  type ReferenceCopyState,
  referenceCopyId,
} from "./reference/reference-state.js";
export {
  checkReferenceCopies,
  listReferenceCopies,
  type ReferenceCopyStatus,
  type ReferenceProblem,
  requireReferenceCopies,
} from "./reference/reference-status.js";
export {
  type KnexMigrationOptions,
  type KnexMigrationResult,
  runKnexMigrations,
  type ShardMigrationResult,
} from "./schema/knex-migrations.js";
export {
  applySchemaChange,
  type ChangeTarget,
  type SchemaApplyEvent,
  type SchemaApplyOptions,
  type SchemaApplyResult,
  SHARD_OUTCOMES,
  type ShardChangeResult,
  type ShardOutcome,
} from "./schema/schema-apply.js";
export { SCHEMA_CHANGES_TABLE } from "./schema/schema-change-records.js";
export {
  type DiffTable,
  diffSchemas,
  type SchemaDifference,
  type SchemaDiffReport,
  sourceLabel,
} from "./schema/schema-diff.js";
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
