import type { ServerAddress } from "./fleet-server.js";

/** Ways the fleet can provide servers, tried in this order by default. */
export const FLEET_BACKENDS = ["env", "local", "container"] as const;
/** One of {@link FLEET_BACKENDS}. */
export type FleetBackend = (typeof FLEET_BACKENDS)[number];

/** True when `value` names a backend. */
export function isFleetBackend(value: unknown): value is FleetBackend {
  return (FLEET_BACKENDS as readonly unknown[]).includes(value);
}

/** What every backend is given: the caller's options, resolved. */
export interface BackendContext {
  readonly env: NodeJS.ProcessEnv;
  /** Undefined means the backend's own default. */
  readonly binarySearchPath: readonly string[] | undefined;
  readonly serverArgs: readonly string[];
  readonly signal: AbortSignal | undefined;
}

/** Servers a backend provides, and how to give them back. */
export interface BackendServers {
  readonly addresses: readonly ServerAddress[];
  /** True when the servers outlive the fleet, so the databases it created must be dropped. */
  readonly shared: boolean;
  /** Stops (or lets go of) the servers; never called twice. */
  release(): Promise<void>;
}

/** A backend that can serve here (`start`), or the reason it cannot. */
export type BackendProbe =
  | { readonly available: true; start(count: number): Promise<BackendServers> }
  | { readonly available: false; readonly reason: string };

/** One source of MySQL servers; `probe` must be cheap and fail fast. */
export interface ServerBackend {
  readonly kind: FleetBackend;
  probe(context: BackendContext): Promise<BackendProbe>;
}
