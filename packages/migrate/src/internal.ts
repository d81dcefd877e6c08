// `@shardkit/migrate/internal`: the engine's parts, for shardkit's own CLI, tests and
// benchmarks. No stability promise outside shardkit.

export { BinlogReader } from "./apply/binlog-reader.js";
export { CatchUp, type CatchUpOptions } from "./apply/catch-up.js";
export { CREATE_MARKER_TABLE, MARKER_TABLE, MarkerClock } from "./apply/marker-clock.js";
export { RowWriter } from "./apply/row-writer.js";
export {
  type BinlogPosition,
  comparePositions,
  formatPosition,
} from "./binlog/binlog-position.js";
export type {
  BinlogItem,
  BinlogProgress,
  BinlogSchemaChange,
  BinlogSource,
  BinlogSourceOptions,
  BinlogTransaction,
  Row,
  RowChange,
} from "./binlog/binlog-source.js";
export { binlogServerId, openZongjiBinlogSource } from "./binlog/zongji-binlog-source.js";
export {
  openShardConnection,
  type ShardConnection,
  type ShardConnectOptions,
  type ShardLogin,
  type ShardLoginResolver,
  shardConnectOptions,
} from "./connection/shard-connection.js";
export { readChunk, readSpan } from "./copy/chunk-reader.js";
export { type CopyProgress, copyTable, type TableCopyOptions } from "./copy/table-copier.js";
export {
  dropProgress,
  loadProgress,
  POSITION_TABLE,
  PROGRESS_TABLE,
  type TableProgress,
  type TargetProgress,
} from "./copy/target-progress.js";
export {
  compareTargetTables,
  createTargetTables,
  type TargetTables,
} from "./copy/target-tables.js";
export {
  armFailpoint,
  disarmFailpoint,
  FAILPOINTS,
  type FailpointName,
  failpoint,
} from "./failpoints.js";
export { detectFlavour } from "./flavour/detect-flavour.js";
export { mariadbFlavour } from "./flavour/mariadb-flavour.js";
export { mysqlFlavour } from "./flavour/mysql-flavour.js";
export type { ServerFlavour, SnapshotSessions } from "./flavour/server-flavour.js";
export { randomLayout, seeded } from "./planner/planner-fixtures.js";
export {
  comparePrimaryKeys,
  type PrimaryKey,
  primaryKeyOf,
  primaryKeyText,
} from "./rows/primary-key.js";
export { keySelector, type RowSelector, rangeSelector } from "./rows/row-selector.js";
export { readTableSchemas, type TableSchema } from "./rows/table-schema.js";
export {
  type BinlogOpener,
  MoveSession,
  type MoveSessionOptions,
} from "./workflow/move-session.js";
