// The demo behind `npm run demo`: its run, and its parts for tests (the workload, the
// exactly-once check, the report drawn from recorded data, the scale-out step).
export { type LoadOptions, loadDemoRows } from "./demo-load.js";
export { type DemoModel, emptyModel } from "./demo-model.js";
export {
  type DemoReportData,
  latencyChart,
  type ReportCheck,
  type ReportCutover,
  renderReport,
  rowsChart,
} from "./demo-report.js";
export {
  createDemoTables,
  DEMO_SHARDED,
  DEMO_TABLES,
  initialOrder,
  initialUser,
  type OrderRow,
  type UserRow,
} from "./demo-schema.js";
export {
  type RunningWorkload,
  seeded,
  startWorkload,
  type WorkloadOptions,
  type WorkloadOutcome,
  type WriteSample,
} from "./demo-workload.js";
export { checkExactlyOnce, type ExactlyOnceReport } from "./exactly-once-check.js";
export { type DemoOptions, type DemoResult, runDemo, summaryText } from "./run-demo.js";
export {
  type MoveRecord,
  type ScaleOutResult,
  type ShardkitRunner,
  scaleOut,
  shardkitRunner,
} from "./scale-out.js";
