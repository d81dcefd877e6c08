import type { CredentialResolver, KeyRange, MoveState } from "@shardkit/directory";
import { MoveError } from "../move-error.js";
import type { TableVerifyResult, VerifyMode } from "../verify/range-verifier.js";
import type { BinlogOpener } from "./move-session.js";

/** What to move: a range served whole by one shard (the part of one assignment is split off), or one key. */
export interface MoveRequest {
  /** The key range, as a range or in CLI notation (`40-80`). */
  readonly range?: KeyRange | string;
  /** Or one key: its rows move, and it is pinned to the target. */
  readonly key?: unknown;
  /** With `key`: read the key as this sharded table's key column stores it (`"042"` is 42 in a BIGINT column). */
  readonly table?: string;
  /** The shard the rows go to. */
  readonly to: string;
}

/** How a move runs; every field has a default. */
export interface MoveOptions {
  /** Source rows read per verify and cleanup chunk, and by each table's first copy chunk. Default 1000. */
  readonly chunkSize?: number;
  /**
   * Copy chunks then grow or shrink so that each takes about this long (from a tenth to 20
   * times `chunkSize`), as pt-online-schema-change's --chunk-time; 0 keeps them at `chunkSize`.
   * Default 200.
   */
  readonly chunkTimeMs?: number;
  /** How the copy is verified before the cutover. Default `checksum`. */
  readonly verify?: VerifyMode;
  /** Writes to the range are never refused longer than this at the cutover. Default 500. */
  readonly maxPauseMs?: number;
  /** The cutover starts only when the applier lags less than this. Default 1000. */
  readonly maxLagMs?: number;
  /** Cutover attempts before giving up (each backs off longer). Default 5. */
  readonly cutoverAttempts?: number;
  /** Copy and cleanup wait while a replica of the source lags more than this. Default: no throttle. */
  readonly throttleReplicaLagMs?: number;
  /** MySQL URLs of the source's replicas to watch. Default: those the source lists (`SHOW SLAVE HOSTS`, replicas with `report_host`). */
  readonly replicas?: readonly string[];
  /** Delete the moved rows from the source once routers moved on. Default true. */
  readonly cleanup?: boolean;
  /** Run every check and change nothing. Default false. */
  readonly dryRun?: boolean;
  /** Stop once copied (`copy`) or verified (`verify`); `cutoverMove` continues. Default: run to the end. */
  readonly stopAfter?: "copy" | "verify";
  /** Wait at most this long for live routers to hold the switched version before cleaning up. Default 30000. */
  readonly cleanupGraceMs?: number;
  /** A router whose heartbeat is older than this is not waited for. Default 10000. */
  readonly routerLiveMs?: number;
  /** Pause between cleanup chunks. Default 5. */
  readonly cleanupPauseMs?: number;
  /** The lease on the move lapses this long after the mover stops renewing it. Default 15000. */
  readonly leaseTtlMs?: number;
  /** Passwords of the shards (default: `credentialResolver()`, the environment). */
  readonly credentials?: CredentialResolver;
  /** Log in to every shard as this user instead of the user the shard was registered with. Default: the registered user. */
  readonly user?: string;
  /** The binlog client (default: zongji). */
  readonly openBinlog?: BinlogOpener;
  /** Progress for the CLI. */
  readonly onEvent?: (event: MoveEvent) => void;
  /** Cancels the run: the move is recorded failed where it stood, resumable. */
  readonly signal?: AbortSignal;
}

/** Progress of a move, for the CLI's bars or JSON lines. */
export type MoveEvent =
  | {
      readonly type: "started";
      readonly moveId: string;
      readonly source: string;
      readonly target: string;
      readonly range: string;
      readonly key?: string;
    }
  | { readonly type: "phase"; readonly moveId: string; readonly phase: MoveState }
  | {
      readonly type: "copy";
      readonly table: string;
      readonly rowsCopied: number;
      readonly rowsRead: number;
      readonly totalEstimate: number;
      readonly rowsPerSecond: number;
    }
  | { readonly type: "catchup"; readonly eventsApplied: number; readonly lagMs: number }
  | {
      readonly type: "verify";
      readonly table: string;
      readonly chunks: number;
      readonly differences: number;
    }
  | {
      readonly type: "cutover";
      readonly attempt: number;
      readonly pauseMs: number;
      readonly ok: boolean;
      readonly reason?: string;
    }
  | { readonly type: "cleanup"; readonly table: string; readonly rowsDeleted: number }
  | { readonly type: "done"; readonly summary: MoveSummary };

/** What a run of a move did. */
export interface MoveSummary {
  readonly moveId: string;
  /** The state the move rests in after this run. */
  readonly state: MoveState;
  readonly rowsCopied: number;
  readonly eventsApplied: number;
  readonly verify: {
    readonly mode: Exclude<VerifyMode, "none">;
    readonly differences: number;
    readonly tables: readonly TableVerifyResult[];
  } | null;
  /** The write pause of the cutover, freeze to switch; null when this run did not cut over. */
  readonly pauseMs: number | null;
  /** Milliseconds spent in each phase during this run. */
  readonly phaseMs: Readonly<Record<string, number>>;
  readonly rowsDeleted: number;
  /** True for a dry run: checked, nothing changed. */
  readonly dryRun: boolean;
}

/** The options with their defaults applied. */
export type ResolvedMoveOptions = Required<
  Pick<
    MoveOptions,
    | "chunkSize"
    | "chunkTimeMs"
    | "verify"
    | "maxPauseMs"
    | "maxLagMs"
    | "cutoverAttempts"
    | "cleanup"
    | "dryRun"
    | "cleanupGraceMs"
    | "routerLiveMs"
    | "cleanupPauseMs"
    | "leaseTtlMs"
  >
> &
  MoveOptions;

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `invalid ${name} ${value}: give a whole number of at least ${min}`,
    );
  }
  return value;
}

/** Applies the defaults and refuses nonsense (BAD_ARGUMENT, one line). */
export function resolveOptions(options: MoveOptions = {}): ResolvedMoveOptions {
  const verify = options.verify ?? "checksum";
  if (!["checksum", "count", "none"].includes(verify)) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `invalid verify mode ${JSON.stringify(verify)}: use checksum, count or none`,
    );
  }
  if (options.stopAfter !== undefined && !["copy", "verify"].includes(options.stopAfter)) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `invalid stop-after ${JSON.stringify(options.stopAfter)}: use copy or verify`,
    );
  }
  if (options.stopAfter === "verify" && verify === "none") {
    throw new MoveError(
      "BAD_ARGUMENT",
      "stop-after verify with verify none would never stop: pick a verify mode or stop after copy",
    );
  }
  if (options.throttleReplicaLagMs !== undefined)
    positive("throttle-replica-lag-ms", options.throttleReplicaLagMs, 0);
  return {
    ...options,
    chunkSize: positive("chunk size", options.chunkSize, 1000),
    chunkTimeMs: positive("chunk time", options.chunkTimeMs, 200, 0),
    verify,
    maxPauseMs: positive("max-pause-ms", options.maxPauseMs, 500, 10),
    maxLagMs: positive("max-lag-ms", options.maxLagMs, 1000),
    cutoverAttempts: positive("cutover attempts", options.cutoverAttempts, 5),
    cleanup: options.cleanup ?? true,
    dryRun: options.dryRun ?? false,
    cleanupGraceMs: positive("cleanup grace", options.cleanupGraceMs, 30_000, 0),
    routerLiveMs: positive("router live window", options.routerLiveMs, 10_000),
    cleanupPauseMs: positive("cleanup pause", options.cleanupPauseMs, 5, 0),
    leaseTtlMs: positive("lease ttl", options.leaseTtlMs, 15_000, 1000),
  };
}

/** The options recorded with a move, for resume and `move status` (nothing secret, no functions). */
export function recordedOptions(o: ResolvedMoveOptions): Record<string, unknown> {
  return {
    chunkSize: o.chunkSize,
    chunkTimeMs: o.chunkTimeMs,
    verify: o.verify,
    maxPauseMs: o.maxPauseMs,
    maxLagMs: o.maxLagMs,
    cleanup: o.cleanup,
    ...(o.stopAfter ? { stopAfter: o.stopAfter } : {}),
    ...(o.throttleReplicaLagMs !== undefined
      ? { throttleReplicaLagMs: o.throttleReplicaLagMs }
      : {}),
    ...(o.user ? { user: o.user } : {}),
  };
}
