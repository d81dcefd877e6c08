import type { MoveEvent } from "@shardkit/migrate";
import cliProgress from "cli-progress";
import type { ProgressTerminal } from "../cli-io.js";
import { phaseName } from "./move-summary.js";
import { type PhaseLine, type ProgressPhase, ProgressState } from "./progress-state.js";

const BAR_WIDTH = 24;

/** One phase's row: its name, a bar when the phase has a known end, and its figures. */
function formatRow(line: PhaseLine): string {
  const name = line.phase.padEnd(9);
  if (line.total === null || line.total <= 0)
    return `${name}${" ".repeat(BAR_WIDTH + 8)}${line.text}`;
  const fraction = Math.min(1, line.value / line.total);
  const done = Math.round(fraction * BAR_WIDTH);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${name}[${"#".repeat(done)}${"-".repeat(BAR_WIDTH - done)}] ${percent}  ${line.text}`;
}

/**
 * A move's progress drawn on a terminal: a bar per phase (cli-progress multibar) with rows
 * copied, rows/s, ETA and catch-up lag, redrawn in place; phase changes are printed above them.
 */
export class ProgressBars {
  readonly #state = new ProgressState();
  readonly #bars = new Map<ProgressPhase, cliProgress.SingleBar>();
  readonly #multibar: cliProgress.MultiBar;

  constructor(terminal: ProgressTerminal) {
    this.#multibar = new cliProgress.MultiBar({
      stream: terminal,
      format: (_options, _params, payload: { line: PhaseLine }) => formatRow(payload.line),
      fps: 10,
      hideCursor: true,
      gracefulExit: false,
      clearOnComplete: false,
      linewrap: false,
    });
  }

  /** Takes one event: updates its phase's bar, or prints a phase change above the bars. */
  onEvent(event: MoveEvent): void {
    if (event.type === "phase") {
      this.#multibar.log(`${new Date().toISOString().slice(11, 19)}  ${phaseName(event.phase)}\n`);
    }
    const phase = this.#state.apply(event, performance.now());
    if (phase === null) return;
    for (const line of this.#state.lines()) {
      const total = line.total ?? 1;
      const bar = this.#bars.get(line.phase);
      if (bar) {
        bar.setTotal(total);
        bar.update(line.value, { line });
      } else {
        this.#bars.set(line.phase, this.#multibar.create(total, line.value, { line }));
      }
    }
  }

  /** Draws the last state and leaves the bars on the screen. */
  stop(): void {
    this.#multibar.update();
    this.#multibar.stop();
  }
}
