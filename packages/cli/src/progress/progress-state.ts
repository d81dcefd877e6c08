import type { MoveEvent } from "@shardkit/migrate";

/** The phases a move's progress shows, one bar each, in this order. */
export const PROGRESS_PHASES = ["copy", "catch-up", "verify", "cutover", "cleanup"] as const;
/** One of {@link PROGRESS_PHASES}. */
export type ProgressPhase = (typeof PROGRESS_PHASES)[number];

/** What one phase's bar shows: how far (`value` of `total`, when there is a total) and a line of figures. */
export interface PhaseLine {
  readonly phase: ProgressPhase;
  readonly value: number;
  /** Null when the phase has no known end (catch-up, cutover). */
  readonly total: number | null;
  readonly text: string;
}

interface TableCopy {
  rowsCopied: number;
  rowsRead: number;
  totalEstimate: number;
}

/**
 * A move's progress folded from its events: rows copied, rows/s and ETA of the copy, the
 * catch-up's events and lag, verify chunks, cutover attempts, rows cleaned up. Pure, so the
 * figures are tested without a terminal.
 */
export class ProgressState {
  readonly #copy = new Map<string, TableCopy>();
  /** When the first copy event came and how many rows had been read then (a resumed copy starts past zero). */
  #copyStart: { at: number; read: number } | null = null;
  #copyRate = 0;
  #readRate = 0;
  /** Every table copied: the copy bar is full whatever the estimate said. */
  #copied = false;
  #catchup: { eventsApplied: number; lagMs: number } | null = null;
  readonly #verify = new Map<string, { chunks: number; differences: number }>();
  #cutover: { attempt: number; pauseMs: number; ok: boolean; reason?: string } | null = null;
  readonly #cleanup = new Map<string, number>();

  /** Takes one event in, at `nowMs`; returns the phase it changed, if any. */
  apply(event: MoveEvent, nowMs: number): ProgressPhase | null {
    switch (event.type) {
      case "phase":
        if (event.phase !== "copying" && event.phase !== "created" && this.#copy.size > 0) {
          this.#copied = true;
          return "copy";
        }
        return null;
      case "copy":
        this.#copy.set(event.table, {
          rowsCopied: event.rowsCopied,
          rowsRead: event.rowsRead,
          totalEstimate: event.totalEstimate,
        });
        this.#copyStart ??= { at: nowMs, read: this.#rowsRead() };
        this.#copyRate = event.rowsPerSecond;
        this.#readRate = this.#readRateAt(nowMs);
        return "copy";
      case "catchup":
        this.#catchup = { eventsApplied: event.eventsApplied, lagMs: event.lagMs };
        return "catch-up";
      case "verify":
        this.#verify.set(event.table, { chunks: event.chunks, differences: event.differences });
        return "verify";
      case "cutover":
        this.#cutover = {
          attempt: event.attempt,
          pauseMs: event.pauseMs,
          ok: event.ok,
          ...(event.reason ? { reason: event.reason } : {}),
        };
        return "cutover";
      case "cleanup":
        this.#cleanup.set(event.table, event.rowsDeleted);
        return "cleanup";
      default:
        return null;
    }
  }

  /** Source rows read per second since the first copy event (the ETA's speed: every row is read, not all copied). */
  #readRateAt(nowMs: number): number {
    const start = this.#copyStart ?? { at: nowMs, read: 0 };
    const seconds = (nowMs - start.at) / 1000;
    return seconds > 0.2 ? (this.#rowsRead() - start.read) / seconds : 0;
  }

  #rowsRead(): number {
    return sum([...this.#copy.values()].map((t) => t.rowsRead));
  }

  /** The line of each phase seen so far, in {@link PROGRESS_PHASES} order. */
  lines(): PhaseLine[] {
    const lines: PhaseLine[] = [];
    if (this.#copy.size > 0) lines.push(this.#copyLine());
    if (this.#catchup) {
      lines.push({
        phase: "catch-up",
        value: 0,
        total: null,
        text: `${count(this.#catchup.eventsApplied)} events applied, lag ${count(this.#catchup.lagMs)} ms`,
      });
    }
    if (this.#verify.size > 0) {
      const v = [...this.#verify.values()];
      const differences = sum(v.map((x) => x.differences));
      lines.push({
        phase: "verify",
        value: 0,
        total: null,
        text: `${count(sum(v.map((x) => x.chunks)))} chunks in ${plural(this.#verify.size, "table")}, ${differences === 0 ? "no differences" : `${count(differences)} rows differ`}`,
      });
    }
    if (this.#cutover) {
      const c = this.#cutover;
      lines.push({
        phase: "cutover",
        value: 0,
        total: null,
        text: c.ok
          ? `switched on attempt ${c.attempt}, write pause ${c.pauseMs} ms`
          : `attempt ${c.attempt} backed off after ${c.pauseMs} ms${c.reason ? ` (${c.reason})` : ""}`,
      });
    }
    if (this.#cleanup.size > 0) {
      const deleted = sum([...this.#cleanup.values()]);
      const copied = this.rowsCopied();
      lines.push({
        phase: "cleanup",
        value: deleted,
        total: copied > 0 ? Math.max(copied, deleted) : null,
        text: `${count(deleted)} rows deleted from the source`,
      });
    }
    return lines;
  }

  /** Rows copied so far, over every table. */
  rowsCopied(): number {
    return sum([...this.#copy.values()].map((t) => t.rowsCopied));
  }

  #copyLine(): PhaseLine {
    const tables = [...this.#copy.values()];
    const read = this.#rowsRead();
    const total = this.#copied ? read : Math.max(read, sum(tables.map((t) => t.totalEstimate)));
    const eta = this.#copied
      ? "copied"
      : this.#readRate > 0 && total > read
        ? `ETA ${duration((total - read) / this.#readRate)}`
        : "ETA -";
    const lag = this.#catchup ? `, lag ${count(this.#catchup.lagMs)} ms` : "";
    return {
      phase: "copy",
      value: read,
      total,
      text: `${count(this.rowsCopied())} rows copied (${count(read)} of ~${count(total)} read), ${count(this.#copyRate)} rows/s, ${eta}${lag}`,
    };
  }
}

/** `1 table`, `2 tables`. */
export function plural(n: number, noun: string): string {
  return `${count(n)} ${noun}${n === 1 ? "" : "s"}`;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** A count with thousands separators: 12,345. */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Seconds as people read them: 45 s, 3 min 5 s, 2 h 10 min. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
