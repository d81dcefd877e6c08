import { randomUUID } from "node:crypto";
import {
  credentialResolver,
  type DirectoryAdmin,
  formatKeyRange,
  type MoveRecord,
  shardPasswordVariable,
} from "@shardkit/directory";
import { resolveRequest } from "../checks/request-checks.js";
import { checkShards } from "../checks/shard-checks.js";
import type { ShardLoginResolver } from "../connection/shard-connection.js";
import { MoveError } from "../move-error.js";
import { abortMove as abortRun } from "./abort-move.js";
import { retryingAdmin } from "./deadlock-retry.js";
import {
  type MoveOptions,
  type MoveRequest,
  type MoveSummary,
  type ResolvedMoveOptions,
  recordedOptions,
  resolveOptions,
} from "./move-options.js";
import { type MoveGoal, runMove } from "./move-runner.js";

function loginOf(o: MoveOptions): ShardLoginResolver {
  const password = o.credentials ?? credentialResolver();
  return (shard) => ({
    user: o.user ?? shard.user,
    password: password(shard.name),
    passwordFrom: passwordSource(o, shard.name),
  });
}

/** Where the mover's password for `shard` comes from, for a refused login's message. */
function passwordSource(o: MoveOptions, shard: string): string {
  const variable = shardPasswordVariable(shard);
  if (!o.credentials) return `${variable} or SHARDKIT_SHARD_PASSWORD`;
  if (o.user === undefined)
    return `the credentials given for it (shardkit: ${variable} or the config's)`;
  // shardkit move --user reads the mover's password from these (see docs/operations.md).
  const mover = `SHARDKIT_MOVER_PASSWORD_${shard.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
  return `the mover's credentials (shardkit move --user: ${mover} or SHARDKIT_MOVER_PASSWORD)`;
}

/**
 * Moves a key range (every sharded table's rows in it) or one key to another shard, online:
 * checks (one-line refusals, nothing changed), records the move, copies with binlog catch-up,
 * verifies, cuts over with a write pause of milliseconds, and cleans the source up. Its id
 * comes first in the `started` event; a failure is recorded and `resumeMove` continues it.
 *
 * @example
 * const summary = await startMove(admin, { range: "40-80", to: "s3" }, {
 *   onEvent: (e) => console.log(JSON.stringify(e)),
 * });
 * console.log(summary.pauseMs, summary.rowsCopied);
 */
export async function startMove(
  directory: DirectoryAdmin,
  request: MoveRequest,
  options: MoveOptions = {},
): Promise<MoveSummary> {
  const admin = retryingAdmin(directory);
  const o = resolveOptions(options);
  const login = loginOf(o);
  const snapshot = await admin.snapshot();
  const resolved = await resolveRequest(snapshot, request, login);
  await checkShards(snapshot, resolved, login, o.chunkSize);
  if (o.dryRun) {
    return {
      moveId: "",
      state: "created",
      rowsCopied: 0,
      eventsApplied: 0,
      verify: null,
      pauseMs: null,
      phaseMs: {},
      rowsDeleted: 0,
      dryRun: true,
    };
  }
  let range = resolved.range;
  let keyBytes: Uint8Array | undefined;
  if (resolved.key) {
    keyBytes = resolved.key.bytes;
    if (!resolved.key.pinned) {
      // Pinned where its rows are: nothing moves yet, and the pin is what the cutover hands over.
      await admin.pinKey(resolved.key.value, resolved.source.name);
    }
    const pin = (await admin.snapshot()).pins.find((p) =>
      Buffer.from(p.keyBytes).equals(Buffer.from(keyBytes as Uint8Array)),
    );
    if (pin) range = { start: pin.ksid, end: pin.ksid + 1 };
  }
  const id = randomUUID();
  const created = await admin.createMove({
    id,
    kind: resolved.kind,
    range,
    ...(keyBytes ? { keyBytes, keyText: resolved.key?.text } : {}),
    source: resolved.source.name,
    target: resolved.target.name,
    options: recordedOptions(o),
  });
  // `started` (the id people resume with) comes once the lease is held, so that a resume
  // started on seeing it is refused rather than taking the move over.
  return runMove(admin, id, "rest", o, login, {
    version: created.version,
    event: {
      type: "started",
      moveId: id,
      source: resolved.source.name,
      target: resolved.target.name,
      range: formatKeyRange(range),
      ...(resolved.key ? { key: resolved.key.text } : {}),
    },
  });
}

/** The options a move was recorded with, under those given now (`stopAfter` and `dryRun` only from now). */
function optionsFor(move: MoveRecord, given: MoveOptions): ResolvedMoveOptions {
  if (given.dryRun) {
    throw new MoveError(
      "BAD_ARGUMENT",
      "dry run applies to starting a move; see shardkit move status for one that exists",
    );
  }
  const r = move.options;
  const pick = <T>(key: string, check: (v: unknown) => boolean): T | undefined =>
    check(r[key]) ? (r[key] as T) : undefined;
  const isNumber = (v: unknown) => typeof v === "number";
  const recorded: MoveOptions = {
    chunkSize: pick<number>("chunkSize", isNumber),
    chunkTimeMs: pick<number>("chunkTimeMs", isNumber),
    verify: pick("verify", (v) => v === "checksum" || v === "count" || v === "none"),
    maxPauseMs: pick<number>("maxPauseMs", isNumber),
    maxLagMs: pick<number>("maxLagMs", isNumber),
    cleanup: pick<boolean>("cleanup", (v) => typeof v === "boolean"),
    throttleReplicaLagMs: pick<number>("throttleReplicaLagMs", isNumber),
    user: pick<string>("user", (v) => typeof v === "string"),
  };
  const defined = Object.fromEntries(Object.entries(recorded).filter(([, v]) => v !== undefined));
  return resolveOptions({ ...defined, ...given });
}

async function continueMove(
  directory: DirectoryAdmin,
  id: string,
  goal: MoveGoal,
  options: MoveOptions,
): Promise<MoveSummary> {
  const admin = retryingAdmin(directory);
  const o = optionsFor(await admin.getMove(id), options);
  return runMove(admin, id, goal, o, loginOf(o));
}

/** Continues a move from the state recorded (re-opening the binlog at the target's saved position) to its end, or `stopAfter`. */
export function resumeMove(
  admin: DirectoryAdmin,
  id: string,
  options: MoveOptions = {},
): Promise<MoveSummary> {
  return continueMove(admin, id, "rest", options);
}

/** Continues a copied or verified move (stopped with `stopAfter`) through verify, cutover and cleanup. */
export function cutoverMove(
  admin: DirectoryAdmin,
  id: string,
  options: MoveOptions = {},
): Promise<MoveSummary> {
  return continueMove(admin, id, "cutover", options);
}

/** Verifies a copied move again (checksum unless `verify: "count"`); it rests `verified`, or fails naming differing keys. */
export function verifyMove(
  admin: DirectoryAdmin,
  id: string,
  options: MoveOptions = {},
): Promise<MoveSummary> {
  return continueMove(admin, id, "verify", options);
}

/** Deletes a switched move's rows from its source (after the routers moved on, or the grace period); ends it `done`. */
export function cleanupMove(
  admin: DirectoryAdmin,
  id: string,
  options: MoveOptions = {},
): Promise<MoveSummary> {
  return continueMove(admin, id, "cleanup", { ...options, cleanup: true });
}

/** Undoes a move before its point of no return: source serving, target's copies deleted, move `aborted`. */
export async function abortMove(
  directory: DirectoryAdmin,
  id: string,
  options: MoveOptions = {},
): Promise<MoveSummary> {
  const admin = retryingAdmin(directory);
  const o = optionsFor(await admin.getMove(id), options);
  return abortRun(admin, id, o, loginOf(o));
}
