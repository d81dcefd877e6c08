export { createRouter } from "./create-router.js";
export {
  DESTINATION_KINDS,
  type Destination,
  type DestinationKind,
  type KeyOwner,
  type KeyTarget,
  resolveDestination,
  type ShardDestination,
} from "./destination.js";
export {
  ROUTER_QUERY_KINDS,
  type RouterMetricsOptions,
  type RouterQueryKind,
} from "./metrics/router-metrics.js";
export type {
  ReferencePosition,
  WaitForReferenceOptions,
} from "./reference/reference-tables.js";
export type { Router } from "./router.js";
export { RouterError, ScatterError, type ShardFailure } from "./router-errors.js";
export type {
  InsertOptions,
  InsertResult,
  KeyOptions,
  KeyWriteOptions,
  KeyWriteResult,
  RouterOptions,
  Row,
  ScatterOptions,
  ScatterResult,
  WriteOptions,
  WriteResult,
} from "./router-options.js";
export {
  AGGREGATE_FUNCTIONS,
  type AggregateFunction,
  type AggregateSpec,
} from "./scatter/aggregates.js";
export {
  HAVING_OPERATORS,
  type HavingCondition,
  type HavingOperator,
  type HavingPredicate,
} from "./scatter/having.js";
export { ORDER_DIRECTIONS, type OrderTerm } from "./scatter/row-order.js";
export type { GroupTerm } from "./scatter/scatter-terms.js";
export type { FenceParams } from "./write/fence-params.js";
