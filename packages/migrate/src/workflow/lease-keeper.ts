import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { DirectoryAdmin, MoveRecord } from "@shardkit/directory";
import { messageOf } from "../move-error.js";

/** A name for this mover process, recorded as the lease owner: host, pid and a random tag. */
export function moverName(): string {
  return `${hostname().slice(0, 80)}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

/**
 * Holds a move's lease while a mover runs it: taken at the start (MOVE_LEASED when another
 * mover holds it), renewed every third of its time to live; when a renewal fails, `signal`
 * aborts with the reason, so the run stops before another mover could take over.
 */
export class LeaseKeeper {
  readonly owner: string;
  readonly #admin: DirectoryAdmin;
  readonly #id: string;
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout | null = null;

  private constructor(admin: DirectoryAdmin, id: string, owner: string) {
    this.#admin = admin;
    this.#id = id;
    this.owner = owner;
  }

  /** Takes the lease of move `id` and starts renewing it; returns the keeper and the move as leased. */
  static async acquire(
    admin: DirectoryAdmin,
    id: string,
    ttlMs: number,
    owner = moverName(),
  ): Promise<{ keeper: LeaseKeeper; move: MoveRecord }> {
    const move = await admin.acquireMoveLease(id, owner, ttlMs);
    const keeper = new LeaseKeeper(admin, id, owner);
    keeper.#timer = setInterval(
      () => {
        admin.renewMoveLease(id, owner, ttlMs).catch((error: unknown) => {
          keeper.#stopTimer();
          keeper.#controller.abort(
            error instanceof Error
              ? error
              : new Error(`lost the lease of move ${id}: ${messageOf(error)}`),
          );
        });
      },
      Math.max(100, Math.floor(ttlMs / 3)),
    );
    keeper.#timer.unref();
    return { keeper, move };
  }

  /** Aborts when the lease is lost. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Stops renewing and gives the lease up (best effort: it lapses anyway). */
  async release(): Promise<void> {
    this.#stopTimer();
    await this.#admin.releaseMoveLease(this.#id, this.owner).catch(() => undefined);
  }
}
