// The public API of @shardkit/directory. Internals that other shardkit packages need are on
// the `@shardkit/directory/internal` subpath (src/internal.ts), not here.
export {
  DirectoryClient,
  type DirectoryClientOptions,
  type DirectoryClientStatus,
} from "./client/directory-client.js";
export { DirectoryMap, type KeyLocation } from "./client/directory-map.js";
export {
  type CredentialResolver,
  type CredentialsConfig,
  credentialResolver,
  shardPasswordVariable,
} from "./credentials.js";
export { DirectoryError } from "./errors/directory-error.js";
export {
  ERROR_CATEGORIES,
  ERROR_CODES,
  type ErrorCategory,
  type ErrorCode,
  errorCategory,
  isErrorCode,
  isRetryable,
} from "./errors/error-codes.js";
export {
  KeyRangeError,
  ShardKeyError,
  ShardkitError,
  type ShardkitErrorOptions,
} from "./errors/shardkit-error.js";
export type { FenceDifference } from "./fence/ownership-fence.js";
export {
  columnKey,
  KEY_COLUMN_KINDS,
  type KeyColumnKind,
  type KeyColumnType,
  type TextComparison,
} from "./key-function/column-key.js";
export {
  canonicalKeyBytes,
  canonicalKeyString,
  getKeyFunction,
  hashKeyFunction,
  identityKeyFunction,
  isKeyFunctionName,
  KEY_FUNCTION_NAMES,
  type KeyFunction,
  type KeyFunctionName,
  type KsidResult,
  parseKeyArgument,
  type ShardKey,
} from "./key-function.js";
export {
  type CoverageResult,
  checkCoverage,
  compareRanges,
  evenSplit,
  FULL_RANGE,
  formatKeyRange,
  formatKsid,
  KEYSPACE_SIZE,
  type KeyRange,
  keyRange,
  mergeRanges,
  parseKeyRange,
  parseKsid,
  rangeContains,
  rangeEquals,
  rangesAdjacent,
  rangesOverlap,
  splitRange,
} from "./key-range.js";
export {
  type DirectorySnapshot,
  isValidIdentifier,
  isValidShardName,
  type PinnedKey,
  RANGE_STATES,
  type RangeAssignment,
  type RangeState,
  type ReferenceTable,
  type RouterHeartbeat,
  SHARD_STATES,
  type ShardedTable,
  type ShardRecord,
  type ShardState,
} from "./model.js";
export {
  type ActiveMove,
  canMoveTransition,
  ENDED_MOVE_STATES,
  isMoveActive,
  isMoveKind,
  isMoveState,
  MOVE_KINDS,
  MOVE_STATES,
  MOVE_TRANSITIONS,
  type MoveEventRecord,
  type MoveKind,
  type MoveRecord,
  type MoveState,
} from "./move-model.js";
export {
  formatEndpoint,
  type MysqlEndpoint,
  parseMysqlUrl,
  redactSecrets,
  redactUrl,
} from "./mysql/mysql-url.js";
export { MysqlError, type MysqlErrorCode } from "./mysql/sql-connection.js";
export type {
  AddShardInput,
  AddTableOptions,
  ChangeResult,
  CreateMoveInput,
  DirectoryAdmin,
  DoctorReport,
  FreezeOptions,
  InitOptions,
  InitResult,
  MoveEventInput,
  MoveLease,
  MovePatch,
  StatsSnapshotInput,
  StatsSnapshotRecord,
} from "./store/directory-admin.js";
export type { DirectorySource, IdBlock } from "./store/directory-source.js";
export {
  HttpDirectorySource,
  type HttpDirectorySourceOptions,
} from "./store/http/http-directory-source.js";
export { DIRECTORY_SCHEMA_VERSION } from "./store/mysql/directory-schema.js";
export {
  MysqlDirectoryStore,
  type MysqlDirectoryStoreOptions,
} from "./store/mysql/mysql-directory-store.js";
export {
  type OpenDirectorySourceOptions,
  openDirectorySource,
} from "./store/open-directory-source.js";
