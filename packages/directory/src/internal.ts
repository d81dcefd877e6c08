// `@shardkit/directory/internal`: what other shardkit packages (router, cli, migrate, service)
// need from the directory and applications do not. No stability promise outside shardkit.

export {
  type FencedKeyWriteShape,
  fencedKeyWriteSql,
  fenceJoinSql,
} from "./fence/fenced-key-write-sql.js";
export {
  CREATE_FENCE_TABLE,
  diffFence,
  ensureFence,
  expectedFence,
  FENCE_ERRNO,
  FENCE_KINDS,
  FENCE_PROCEDURES,
  FENCE_PROCEDURES_VERSION,
  FENCE_SQLSTATE,
  FENCE_STATES,
  FENCE_TABLE,
  type FenceKind,
  type FenceRow,
  type FenceState,
  fencedInsertSql,
  readFence,
  writeFence,
} from "./fence/ownership-fence.js";
export {
  RANGE_FENCE_SELECT,
  type RangeFenceRow,
  rangeFenceRefusal,
} from "./fence/range-fence.js";
export {
  collationProbeSql,
  comparesCodePoints,
  keyColumnKind,
  keyColumnTypeOf,
  keyColumnTypesSql,
  readKeyColumnTypes,
  type SqlRunner,
  textComparisonOf,
} from "./key-function/column-key.js";
export {
  type ConnectOptions,
  connect,
  isConnectError,
  type MysqlErrorOptions,
  mysqlCodeOf,
  quoteIdentifier,
  type SqlConnection,
  wrapMysqlError,
} from "./mysql/sql-connection.js";
export { APPLIED_POSITION_TABLE, referenceCopyId } from "./reference-copy-id.js";
export {
  decodeHeartbeat,
  decodeSnapshot,
  encodeHeartbeat,
  encodeSnapshot,
  ksidHex,
  type WireHeartbeat,
  type WireRange,
  type WireSnapshot,
  wireRange,
} from "./store/http/directory-wire.js";
export { DIRECTORY_MIGRATIONS, SCHEMA_VERSION_TABLE } from "./store/mysql/directory-schema.js";
