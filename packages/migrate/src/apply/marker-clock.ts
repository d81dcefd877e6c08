import type { SqlConnection } from "@shardkit/directory/internal";

/** The table on the source where the mover writes its markers: heartbeats and the cutover marker. */
export const MARKER_TABLE = "shardkit_move_markers";

/** DDL of the marker table; idempotent. */
export const CREATE_MARKER_TABLE = `CREATE TABLE IF NOT EXISTS ${MARKER_TABLE} (
  move_id VARCHAR(36) NOT NULL PRIMARY KEY,
  seq BIGINT UNSIGNED NOT NULL,
  at TIMESTAMP(3) NOT NULL
) ENGINE=InnoDB`;

/**
 * Measures the applier's lag with markers written on the source: the mover's own clock when a
 * marker is written against the same clock when the applier has committed it on the target,
 * so the servers' clocks never enter.
 */
export class MarkerClock {
  readonly #source: SqlConnection;
  readonly #moveId: string;
  readonly #written = new Map<number, number>();
  #seq: number;
  #applied = 0;
  #lastLagMs = 0;

  /** `startSeq`: markers above any this move wrote before (the clock of the machine is fine). */
  constructor(source: SqlConnection, moveId: string, startSeq = Date.now()) {
    this.#source = source;
    this.#moveId = moveId;
    this.#seq = startSeq;
  }

  /**
   * Continues above the last marker this move wrote (its row on the source), so a marker of an
   * earlier run met again in the binlog never passes for a new one, whatever the clocks did.
   */
  async resume(): Promise<void> {
    const rows = await this.#source.query<{ seq: number | string }>(
      `SELECT seq FROM ${MARKER_TABLE} WHERE move_id = ?`,
      [this.#moveId],
    );
    const last = Number(rows[0]?.seq ?? 0);
    if (last >= this.#seq) this.#seq = last;
  }

  /** Writes the next marker on the source and returns its number. */
  async write(): Promise<number> {
    const seq = ++this.#seq;
    this.#written.set(seq, performance.now());
    await this.#source.execute(
      `INSERT INTO ${MARKER_TABLE} (move_id, seq, at) VALUES (?, ?, NOW(3)) ON DUPLICATE KEY UPDATE seq = VALUES(seq), at = VALUES(at)`,
      [this.#moveId, seq],
    );
    return seq;
  }

  /** The applier committed marker `seq` on the target (with everything before it). */
  applied(seq: number): void {
    if (seq <= this.#applied) return;
    this.#applied = seq;
    const at = this.#written.get(seq);
    if (at !== undefined) this.#lastLagMs = performance.now() - at;
    for (const s of this.#written.keys()) if (s <= seq) this.#written.delete(s);
  }

  /** True once marker `seq` is on the target. */
  isApplied(seq: number): boolean {
    return this.#applied >= seq;
  }

  /** The lag now: the age of the oldest marker not yet applied, or the last measured lag. */
  lagMs(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const at of this.#written.values()) oldest = Math.min(oldest, at);
    return Number.isFinite(oldest)
      ? Math.max(this.#lastLagMs, performance.now() - oldest)
      : this.#lastLagMs;
  }

  /** True when a marker written is still unapplied. */
  get waiting(): boolean {
    return this.#written.size > 0;
  }

  /** Deletes this move's marker row on the source. */
  async remove(): Promise<void> {
    await this.#source.execute(`DELETE FROM ${MARKER_TABLE} WHERE move_id = ?`, [this.#moveId]);
  }
}
