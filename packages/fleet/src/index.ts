export {
  FLEET_BACKENDS,
  type FleetBackend,
} from "./backend.js";
export { MYSQL_URLS_VARIABLE, parseServerUrls } from "./env/env-backend.js";
export { FLEET_ERROR_CODES, FleetError, type FleetErrorCode } from "./errors.js";
export { type Fleet, type StartFleetOptions, startFleet } from "./fleet.js";
export type { FleetServer, ServerAddress } from "./fleet-server.js";
export {
  type DetachedServer,
  detachedServerRunning,
  type StartDetachedServersOptions,
  startDetachedServers,
  stopDetachedServers,
} from "./local/detached-servers.js";
export {
  defaultSearchPath,
  findMysqlBinaries,
  type MysqlBinaries,
} from "./local/mysql-binaries.js";
export { fleetRoot, sweepStale } from "./local/stale-sweep.js";
