import { DirectoryError } from "../../errors/directory-error.js";
import { KeyRangeError, ShardkitError } from "../../errors/shardkit-error.js";
import { KEYSPACE_SIZE } from "../../key-range.js";
import { isMoveKind, isMoveState } from "../../move-model.js";
import type { CreateMoveInput, MoveEventInput, MovePatch } from "../directory-admin.js";

const MOVE_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,35}$/;
const MAX_KEY_BYTES = 255;

/** What a patch writes, checked and serialised before any transaction starts. */
export interface PatchValues {
  readonly progress?: string;
  readonly options?: string;
  readonly details: string;
}

/** Refuses a move input that is malformed, before the directory is touched. */
export function checkMoveInput(input: CreateMoveInput): void {
  if (typeof input.id !== "string" || !MOVE_ID.test(input.id)) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `invalid move id ${JSON.stringify(String(input.id).slice(0, 40))}: use up to 36 letters, digits and dashes (a UUID)`,
    );
  }
  if (!isMoveKind(input.kind)) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `invalid move kind ${JSON.stringify(String(input.kind).slice(0, 20))}: use "range" or "key"`,
    );
  }
  const { start, end } = input.range ?? {};
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(end) ||
    start < 0 ||
    start >= end ||
    end > KEYSPACE_SIZE
  ) {
    throw new KeyRangeError(
      "BAD_KEY_RANGE",
      `invalid key range [${start}, ${end}) for a move: give whole numbers with 0 <= start < end <= 2^32`,
    );
  }
  if (input.source === input.target) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `the move's target is its source (${input.source}); name another shard as the target`,
    );
  }
  const bytes = input.keyBytes;
  if (
    input.kind === "key" &&
    (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > MAX_KEY_BYTES)
  ) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `a key move needs the key's canonical bytes (1 to ${MAX_KEY_BYTES}); pass keyBytes`,
    );
  }
  if (input.kind === "range" && bytes !== undefined) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      "a range move takes no keyBytes; leave them out, or make it a key move",
    );
  }
}

/** Refuses a malformed patch or event; returns what it writes, as JSON. */
export function checkPatch(patch: MovePatch, event: MoveEventInput | undefined): PatchValues {
  if (patch.state !== undefined && !isMoveState(patch.state)) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `unknown move state ${JSON.stringify(String(patch.state).slice(0, 20))}; use one of the MOVE_STATES`,
    );
  }
  if (patch.state === "switched") {
    throw new DirectoryError(
      "MOVE_STATE",
      "a move becomes switched only by the directory switch; call switchRange",
    );
  }
  if (patch.failedIn !== undefined && (patch.state !== "failed" || !isMoveState(patch.failedIn))) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      "failedIn goes with state failed and names a move state; pass both, or neither",
    );
  }
  if (patch.error !== undefined && patch.error !== null && typeof patch.error !== "string") {
    throw new ShardkitError("BAD_ARGUMENT", "a move's error is a string (or null to clear it)");
  }
  if (event !== undefined && (typeof event.message !== "string" || event.message === "")) {
    throw new ShardkitError("BAD_ARGUMENT", "a move event needs a message; pass one");
  }
  return {
    ...(patch.progress === undefined ? {} : { progress: jsonObject("progress", patch.progress) }),
    ...(patch.options === undefined ? {} : { options: jsonObject("options", patch.options) }),
    details: jsonObject("event details", event?.details ?? {}),
  };
}

/** A plain object as JSON text; BAD_ARGUMENT for anything else. */
export function jsonObject(what: string, value: unknown): string {
  let text: string | undefined;
  try {
    text =
      value !== null && typeof value === "object" && !Array.isArray(value)
        ? JSON.stringify(value)
        : undefined;
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    throw new ShardkitError(
      "BAD_ARGUMENT",
      `a move's ${what} must be a plain object that JSON can hold (no cycles, no bigint); pass one`,
    );
  }
  return text;
}
