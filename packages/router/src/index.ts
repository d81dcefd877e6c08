export { FENCE_PARAM, FencedMysqlClient, type FenceParams } from "./knex/fenced-mysql-client.js";
export {
  createRouter,
  type KeyOptions,
  type KeyTarget,
  Router,
  type RouterOptions,
  type ScatterOptions,
  type ScatterResult,
  type WriteOptions,
} from "./router.js";
export {
  ROUTER_ERROR_CODES,
  RouterError,
  type RouterErrorCode,
  type RouterErrorFacts,
  ScatterError,
  type ShardFailure,
} from "./router-errors.js";
export {
  AGGREGATE_FUNCTIONS,
  type AggregateFunction,
  type AggregateSpec,
} from "./scatter/aggregates.js";
export type { OrderTerm } from "./scatter/row-order.js";
