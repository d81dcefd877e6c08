export { defaultSearchPath, findMysqlBinaries, type MysqlBinaries } from "./binaries.js";
export { FleetError, type FleetErrorCode, FLEET_ERROR_CODES } from "./errors.js";
export { type Fleet, type FleetBackend, FLEET_BACKENDS, type StartFleetOptions, startFleet } from "./fleet.js";
export type { FleetServer } from "./fleet-server.js";
export { fleetRoot, sweepStale } from "./local/local-backend.js";
