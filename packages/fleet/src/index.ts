export { defaultSearchPath, findMysqlBinaries, type MysqlBinaries } from "./binaries.js";
export { FLEET_ERROR_CODES, FleetError, type FleetErrorCode } from "./errors.js";
export {
  FLEET_BACKENDS,
  type Fleet,
  type FleetBackend,
  type StartFleetOptions,
  startFleet,
} from "./fleet.js";
export type { FleetServer } from "./fleet-server.js";
export { fleetRoot, sweepStale } from "./local/local-backend.js";
