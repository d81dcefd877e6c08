import type { KeyRange } from "./key-range.js";

/** What a move moves: the rows of one key range, or the rows of one pinned key. */
export const MOVE_KINDS = ["range", "key"] as const;
/** One of {@link MOVE_KINDS}. */
export type MoveKind = (typeof MOVE_KINDS)[number];

/** The states of a move, in the order a move that goes well passes through them. */
export const MOVE_STATES = [
  /** Checked and recorded; nothing copied yet. */
  "created",
  /** Copy and catch-up running. */
  "copying",
  /** Every table copied; catch-up running (where `stopAfter: "copy"` rests). */
  "copied",
  "verifying",
  /** Verified (where `stopAfter: "verify"` rests). */
  "verified",
  /** The source's range (or pin) is frozen or about to be; waiting for the marker. */
  "cutting_over",
  /** Past the point of no return: the target owns the range; cleanup pending. */
  "switched",
  "cleaning",
  "done",
  "aborting",
  "aborted",
  /** A step failed; `error` says why and `failedIn` where; resume or abort continues from there. */
  "failed",
] as const;
/** One of {@link MOVE_STATES}. */
export type MoveState = (typeof MOVE_STATES)[number];

/** States that end a move: routers forget it, and it can change no more. */
export const ENDED_MOVE_STATES: readonly MoveState[] = ["done", "aborted"];

/**
 * The state machine of a move: the states each state may change to. `failed` is not listed:
 * a failed move may go back to the state it failed in, or wherever that state may go.
 * `switched` is reached only through the directory switch, never by a plain update.
 */
export const MOVE_TRANSITIONS: Readonly<Record<MoveState, readonly MoveState[]>> = {
  created: ["copying", "aborting", "failed"],
  copying: ["copied", "aborting", "failed"],
  copied: ["verifying", "cutting_over", "aborting", "failed"],
  verifying: ["verified", "copied", "aborting", "failed"],
  verified: ["verifying", "cutting_over", "aborting", "failed"],
  // Back to copied/verified: a cutover that backs off (the source unfrozen) to try again later.
  cutting_over: ["switched", "copied", "verified", "aborting", "failed"],
  switched: ["cleaning", "failed"],
  cleaning: ["done", "failed"],
  done: [],
  aborting: ["aborted", "failed"],
  aborted: [],
  failed: [],
};

/**
 * Whether a move in `from` may change to `to`. Staying in the same state is allowed (except
 * in an ended one); a failed move goes where the state it failed in (`failedIn`) may go,
 * or back to that state.
 */
export function canMoveTransition(
  from: MoveState,
  to: MoveState,
  failedIn: MoveState | null = null,
): boolean {
  if (ENDED_MOVE_STATES.includes(from)) return false;
  if (from === to) return true;
  if (from === "failed") {
    if (failedIn === null || failedIn === "failed") return to === "aborting";
    return to === failedIn || MOVE_TRANSITIONS[failedIn].includes(to);
  }
  return MOVE_TRANSITIONS[from].includes(to);
}

/** True when a move in `state` has not ended (it is in the snapshot's `moves`). */
export function isMoveActive(state: MoveState): boolean {
  return !ENDED_MOVE_STATES.includes(state);
}

/** True when `value` is one of {@link MOVE_STATES}. */
export function isMoveState(value: unknown): value is MoveState {
  return typeof value === "string" && (MOVE_STATES as readonly string[]).includes(value);
}

/** True when `value` is one of {@link MOVE_KINDS}. */
export function isMoveKind(value: unknown): value is MoveKind {
  return typeof value === "string" && (MOVE_KINDS as readonly string[]).includes(value);
}

/** A move as the directory records it. */
export interface MoveRecord {
  /** The id the mover chose (a UUID). */
  readonly id: string;
  readonly kind: MoveKind;
  /** The range moved; for kind `key`: `[ksid, ksid + 1)` of the key. */
  readonly range: KeyRange;
  /** For kind `key`: the key's canonical bytes; null for a range. */
  readonly keyBytes: Uint8Array | null;
  /** For kind `key`: the key as written when it was pinned, for display; null for a range. */
  readonly keyText: string | null;
  readonly source: string;
  readonly target: string;
  readonly state: MoveState;
  /** The state a failed move failed in (resume continues there); null otherwise. */
  readonly failedIn: MoveState | null;
  /** The mover's options, as given when the move was created (or last updated). */
  readonly options: Readonly<Record<string, unknown>>;
  /** A summary for `move status`; the authoritative copy positions live on the target. */
  readonly progress: Readonly<Record<string, unknown>>;
  /** Why the move failed, when it did. */
  readonly error: string | null;
  /** Who holds the lease (may run the move), and until when; null when free. */
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: Date | null;
  /** The directory version that made the target the owner: set once past the point of no return. */
  readonly switchedVersion: number | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What routers see of a move: a second shard holding copies of a range's (or key's) rows. */
export interface ActiveMove {
  readonly id: string;
  readonly kind: MoveKind;
  /** The range moved; for kind `key`: `[ksid, ksid + 1)` of the key. */
  readonly range: KeyRange;
  /** For kind `key`: the key's canonical bytes; null for a range. */
  readonly keyBytes: Uint8Array | null;
  readonly source: string;
  readonly target: string;
  /** The state when read; changes routers need not see bump no version, so a cached map may show an older one. */
  readonly state: MoveState;
}

/** One entry of a move's history, as `move status` prints it. */
export interface MoveEventRecord {
  readonly moveId: string;
  /** 1, 2, 3, ... per move. */
  readonly seq: number;
  readonly at: Date;
  /** The move's state when the entry was written. */
  readonly state: MoveState;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}
