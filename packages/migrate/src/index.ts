// The public API of @shardkit/migrate: the move engine, one function per command. Its parts are
// on the `@shardkit/migrate/internal` subpath (src/internal.ts).
export { FAILPOINTS, type FailpointName } from "./failpoints.js";
export { MoveMetrics } from "./metrics/move-metrics.js";
export { MoveError } from "./move-error.js";
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
