// `@shardkit/migrate/internal`: the engine's parts, for shardkit's own CLI, tests and
// benchmarks. No stability promise outside shardkit.
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
export { detectFlavour } from "./flavour/detect-flavour.js";
export { mariadbFlavour } from "./flavour/mariadb-flavour.js";
export { mysqlFlavour } from "./flavour/mysql-flavour.js";
export type { ServerFlavour, SnapshotSessions } from "./flavour/server-flavour.js";
