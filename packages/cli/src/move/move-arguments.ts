// The options the move commands share: how they read from the command line and what they hand
// the engine. Each command picks the ones that apply to it.
import type { CredentialResolver } from "@shardkit/directory";
import type { MoveOptions } from "@shardkit/migrate";
import { type Command, Option } from "commander";
import { UsageError } from "../cli-errors.js";

/** The move options as commander parses them (every one optional). */
export interface MoveFlags {
  readonly chunkSize?: number;
  readonly verify?: "checksum" | "count" | "none";
  readonly maxPauseMs?: number;
  readonly maxLagMs?: number;
  readonly throttleReplicaLagMs?: number;
  readonly replica?: readonly string[];
  readonly user?: string;
  /** False with --no-cleanup; unset when the command also has --cleanup and neither was given. */
  readonly cleanup?: boolean;
  readonly dryRun?: boolean;
  readonly stopAfter?: "copy" | "verify";
  readonly leaseTtlMs?: number;
  /** Serve the move's Prometheus metrics on this port while it runs. */
  readonly metricsPort?: number;
  /** The address of the metrics endpoint (default 127.0.0.1). */
  readonly metricsHost?: string;
}

/** The names of the shared options, to say which ones a command takes. */
export type MoveFlagName =
  | "chunkSize"
  | "verify"
  | "maxPauseMs"
  | "maxLagMs"
  | "throttle"
  | "user"
  | "cleanup"
  | "cleanupEither"
  | "dryRun"
  | "stopAfter"
  | "leaseTtl"
  | "metrics";

/** Reads a whole number option (`--chunk-size 500`); anything else is a one-line BAD_ARGUMENT. */
function wholeNumber(flag: string, min: number): (text: string) => number {
  return (text) => {
    if (!/^\d+$/.test(text.trim()) || Number(text) < min) {
      throw new UsageError(
        "BAD_ARGUMENT",
        `invalid ${flag} "${text}": give a whole number of at least ${min}`,
      );
    }
    return Number(text);
  };
}

const collect = (value: string, previous: readonly string[] = []) => [...previous, value];

const OPTIONS: Readonly<Record<MoveFlagName, () => Option[]>> = {
  chunkSize: () => [
    new Option(
      "--chunk-size <rows>",
      "source rows read per copy, verify and cleanup chunk (default 1000)",
    ).argParser(wholeNumber("--chunk-size", 1)),
  ],
  verify: () => [
    new Option(
      "--verify <mode>",
      "how the copy is compared with the source before the cutover (default checksum)",
    ).choices(["checksum", "count", "none"]),
  ],
  maxPauseMs: () => [
    new Option(
      "--max-pause-ms <ms>",
      "never refuse writes to the range longer than this at the cutover; a cutover that would is undone and tried again later (default 500)",
    ).argParser(wholeNumber("--max-pause-ms", 10)),
  ],
  maxLagMs: () => [
    new Option(
      "--max-lag-ms <ms>",
      "start the cutover only when the copy lags the source by less than this (default 1000)",
    ).argParser(wholeNumber("--max-lag-ms", 1)),
  ],
  throttle: () => [
    new Option(
      "--throttle-replica-lag-ms <ms>",
      "pause copy and cleanup while a replica of the source lags more than this: those given with --replica, else those the source lists (SHOW SLAVE HOSTS)",
    ).argParser(wholeNumber("--throttle-replica-lag-ms", 0)),
    new Option(
      "--replica <url>",
      "a replica of the source to watch for --throttle-replica-lag-ms, mysql://user:password@host:port (repeat for each one; default: the replicas the source lists)",
    ).argParser(collect),
  ],
  user: () => [
    new Option(
      "--user <name>",
      "log in to the shards as this MySQL user (one with only the mover's grants); its password comes from SHARDKIT_MOVER_PASSWORD_<SHARD> or SHARDKIT_MOVER_PASSWORD (default: each shard's registered user and password)",
    ),
  ],
  cleanup: () => [
    new Option(
      "--no-cleanup",
      "leave the moved rows on the source after the cutover (shardkit cleanup <id> deletes them later)",
    ),
  ],
  // A run that continues a move keeps the choice it was started with unless told otherwise.
  cleanupEither: () => [
    new Option(
      "--cleanup",
      "delete the moved rows from the source after the cutover (default: as the move was started)",
    ),
    new Option("--no-cleanup", "leave the moved rows on the source after the cutover"),
  ],
  dryRun: () => [new Option("--dry-run", "run every check and change nothing")],
  leaseTtl: () => [
    new Option(
      "--lease-ttl-ms <ms>",
      "how long the move stays claimed by this mover after it stops renewing its lease (it died); until then another mover is refused (default 15000)",
    ).argParser(wholeNumber("--lease-ttl-ms", 1000)),
  ],
  metrics: () => [
    new Option(
      "--metrics-port <port>",
      "serve the move's Prometheus metrics at http://<metrics-host>:<port>/metrics while it runs",
    ).argParser(wholeNumber("--metrics-port", 1)),
    new Option(
      "--metrics-host <host>",
      "the address the metrics endpoint listens on (default 127.0.0.1)",
    ),
  ],
  stopAfter: () => [
    new Option(
      "--stop-after <phase>",
      "stop once copied (copy) or verified (verify); the move rests there until shardkit move cutover <id> catches up and cuts it over",
    ).choices(["copy", "verify"]),
  ],
};

/** Adds the shared options `names` to `command`. */
export function withMoveFlags<C extends Command>(command: C, names: readonly MoveFlagName[]): C {
  for (const name of names) for (const option of OPTIONS[name]()) command.addOption(option);
  return command;
}

/** The environment variable with the mover's password for one shard: `SHARDKIT_MOVER_PASSWORD_<NAME>`. */
export function moverPasswordVariable(shardName: string): string {
  return `SHARDKIT_MOVER_PASSWORD_${shardName.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** The passwords of the `--user` login: SHARDKIT_MOVER_PASSWORD_<NAME>, then SHARDKIT_MOVER_PASSWORD, else empty. */
export function moverCredentials(env: NodeJS.ProcessEnv): CredentialResolver {
  return (shardName) => env[moverPasswordVariable(shardName)] ?? env.SHARDKIT_MOVER_PASSWORD ?? "";
}

/**
 * The engine's options for what was given on the command line (unset ones fall back to the
 * move's recorded options or the engine's defaults); `login.user` is the login in effect
 * (given now or recorded), whose password is the mover's rather than the shard's.
 */
export function moveOptionsOf(
  flags: MoveFlags,
  login: {
    readonly user: string | undefined;
    readonly env: NodeJS.ProcessEnv;
    readonly credentials: CredentialResolver;
  },
): MoveOptions {
  return {
    ...(flags.chunkSize !== undefined ? { chunkSize: flags.chunkSize } : {}),
    ...(flags.verify !== undefined ? { verify: flags.verify } : {}),
    ...(flags.maxPauseMs !== undefined ? { maxPauseMs: flags.maxPauseMs } : {}),
    ...(flags.maxLagMs !== undefined ? { maxLagMs: flags.maxLagMs } : {}),
    ...(flags.throttleReplicaLagMs !== undefined
      ? { throttleReplicaLagMs: flags.throttleReplicaLagMs }
      : {}),
    ...(flags.replica?.length ? { replicas: flags.replica } : {}),
    ...(flags.cleanup !== undefined ? { cleanup: flags.cleanup } : {}),
    ...(flags.dryRun ? { dryRun: true } : {}),
    ...(flags.stopAfter !== undefined ? { stopAfter: flags.stopAfter } : {}),
    ...(flags.user !== undefined ? { user: flags.user } : {}),
    ...(flags.leaseTtlMs !== undefined ? { leaseTtlMs: flags.leaseTtlMs } : {}),
    credentials: login.user === undefined ? login.credentials : moverCredentials(login.env),
  };
}
