import { MOVE_STATES } from "@shardkit/directory";
import { Counter, Gauge, Registry } from "prom-client";
import type { MoveEvent } from "../workflow/move-options.js";

/**
 * A move's Prometheus metrics, fed by the engine's progress events (`onEvent`) and failures
 * (`failed`): phase, rows copied and rows/s, binlog events applied, catch-up lag, verify
 * differences, cutover pause and attempts, rows cleaned up, errors. Every metric carries the
 * move's id as the `move` label.
 *
 * @example
 * const metrics = new MoveMetrics();
 * await startMove(admin, request, { onEvent: (e) => metrics.onEvent(e) });
 */
export class MoveMetrics {
  /** The registry holding the move's metrics. */
  readonly registry: Registry;
  #move = "unknown";
  readonly #phase: Gauge<"move" | "phase">;
  readonly #rowsCopied: Gauge<"move" | "table">;
  readonly #rowsRead: Gauge<"move" | "table">;
  readonly #rowsPerSecond: Gauge<"move">;
  readonly #eventsApplied: Gauge<"move">;
  readonly #lag: Gauge<"move">;
  readonly #verifyDifferences: Gauge<"move" | "table">;
  readonly #verifyChunks: Gauge<"move" | "table">;
  readonly #pause: Gauge<"move">;
  readonly #cutovers: Counter<"move" | "result">;
  readonly #rowsDeleted: Gauge<"move" | "table">;
  readonly #errors: Counter<"move" | "code">;

  constructor(options: { readonly registry?: Registry } = {}) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    const gauge = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Gauge<L>({ name, help, labelNames, registers });
    this.#phase = gauge(
      "shardkit_move_phase",
      "1 for the phase (move state) the move is in, 0 for the others.",
      ["move", "phase"],
    );
    this.#rowsCopied = gauge(
      "shardkit_move_rows_copied",
      "Rows of the range copied to the target so far, by table.",
      ["move", "table"],
    );
    this.#rowsRead = gauge(
      "shardkit_move_rows_read",
      "Source rows read by the copy so far (the range's and others), by table.",
      ["move", "table"],
    );
    this.#rowsPerSecond = gauge(
      "shardkit_move_copy_rows_per_second",
      "The copy's current rate, rows per second.",
      ["move"],
    );
    this.#eventsApplied = gauge(
      "shardkit_move_events_applied",
      "Binlog row events the catch-up applied so far.",
      ["move"],
    );
    this.#lag = gauge(
      "shardkit_move_catchup_lag_seconds",
      "How far the catch-up is behind the source's binlog, in seconds.",
      ["move"],
    );
    this.#verifyDifferences = gauge(
      "shardkit_move_verify_differences",
      "Chunks of the range that differ between source and target in the last verify, by table.",
      ["move", "table"],
    );
    this.#verifyChunks = gauge(
      "shardkit_move_verify_chunks",
      "Chunks compared by the verify so far, by table.",
      ["move", "table"],
    );
    this.#pause = gauge(
      "shardkit_move_cutover_pause_seconds",
      "The write pause of the last cutover attempt, in seconds.",
      ["move"],
    );
    this.#cutovers = new Counter({
      name: "shardkit_move_cutover_attempts_total",
      help: "Cutover attempts, by result (ok, or backed_off when the pause bound was near).",
      labelNames: ["move", "result"],
      registers,
    });
    this.#rowsDeleted = gauge(
      "shardkit_move_rows_deleted",
      "Moved rows deleted from the source by the cleanup so far, by table.",
      ["move", "table"],
    );
    this.#errors = new Counter({
      name: "shardkit_move_errors_total",
      help: "Runs of the move that failed, by shardkit error code.",
      labelNames: ["move", "code"],
      registers,
    });
  }

  /** Takes one progress event of the engine (pass as or inside `onEvent`). */
  onEvent(event: MoveEvent): void {
    const move = this.#move;
    switch (event.type) {
      case "started":
        this.#move = event.moveId;
        return;
      case "phase":
        this.#move = event.moveId;
        for (const phase of MOVE_STATES) {
          this.#phase.set({ move: event.moveId, phase }, phase === event.phase ? 1 : 0);
        }
        return;
      case "copy":
        this.#rowsCopied.set({ move, table: event.table }, event.rowsCopied);
        this.#rowsRead.set({ move, table: event.table }, event.rowsRead);
        this.#rowsPerSecond.set({ move }, event.rowsPerSecond);
        return;
      case "catchup":
        this.#eventsApplied.set({ move }, event.eventsApplied);
        this.#lag.set({ move }, event.lagMs / 1000);
        return;
      case "verify":
        this.#verifyDifferences.set({ move, table: event.table }, event.differences);
        this.#verifyChunks.set({ move, table: event.table }, event.chunks);
        return;
      case "cutover":
        this.#pause.set({ move }, event.pauseMs / 1000);
        this.#cutovers.inc({ move, result: event.ok ? "ok" : "backed_off" });
        return;
      case "cleanup":
        this.#rowsDeleted.set({ move, table: event.table }, event.rowsDeleted);
        return;
      case "done":
        this.#move = event.summary.moveId;
        return;
    }
  }

  /** Counts a failed run of the move, by its error code. */
  failed(error: unknown): void {
    const code = (error as { code?: unknown } | undefined)?.code;
    this.#errors.inc({ move: this.#move, code: typeof code === "string" ? code : "INTERNAL" });
  }
}
