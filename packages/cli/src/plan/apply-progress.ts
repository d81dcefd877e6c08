import type { ApplyEvent } from "@shardkit/migrate";
import type { CommandContext } from "../command-context.js";
import { eventLine } from "../progress/move-progress.js";
import { millis, phaseName } from "../progress/move-summary.js";
import { count } from "../progress/progress-state.js";

/**
 * One JSON line per event of `shardkit apply`: a move's events are the move command's lines
 * with `step` and `moveId` added; a finished move is `{"event": "done", step, moveId, summary}`
 * (the move command's last line).
 */
export function applyEventLine(event: ApplyEvent): Record<string, unknown> {
  switch (event.type) {
    case "move": {
      const line = eventLine(event.event);
      return { ...line, step: event.step, moveId: event.moveId ?? line.moveId };
    }
    case "moved":
      return { event: "done", step: event.step, moveId: event.moveId, summary: event.summary };
    default: {
      const { type, ...fields } = event;
      return { event: type, ...fields };
    }
  }
}

/** A line for people on a terminal, or nothing for events too fine to show as lines. */
export function applyEventText(event: ApplyEvent): string | undefined {
  switch (event.type) {
    case "apply":
      return event.alreadyDone > 0
        ? `continuing: ${event.alreadyDone} of ${event.steps} steps done already`
        : `applying ${event.steps} steps`;
    case "split":
      return `step ${event.step}: split ${event.range} at ${event.at} (directory version ${event.version})`;
    case "skipped":
      return `step ${event.step}: done already (${event.reason})`;
    case "moved": {
      const s = event.summary;
      return `step ${event.step}: move ${event.moveId} ${s.state}, ${count(s.rowsCopied)} rows copied, write pause ${s.pauseMs === null ? "-" : millis(s.pauseMs)}`;
    }
    case "move": {
      const e = event.event;
      if (e.type === "started")
        return `step ${event.step}: move ${e.moveId}: range ${e.range} from ${e.source} to ${e.target}`;
      if (e.type === "phase") return `step ${event.step}: ${phaseName(e.phase)}`;
      if (e.type === "cutover" && e.ok)
        return `step ${event.step}: cut over, write pause ${e.pauseMs} ms`;
      return undefined;
    }
  }
}

/** Where apply's progress goes: JSON lines (`--json` or no terminal) or lines of text on stdout. */
export function applyProgress(ctx: CommandContext): {
  readonly lines: boolean;
  onEvent(event: ApplyEvent): void;
} {
  const lines = ctx.json || ctx.io.terminal === undefined;
  return {
    lines,
    onEvent: (event) => {
      // The engine's own `done` is left out: apply prints {"event": "done", step, moveId, summary}.
      if (event.type === "move" && event.event.type === "done") return;
      if (lines) {
        ctx.line(applyEventLine(event));
        return;
      }
      const text = applyEventText(event);
      if (text) ctx.io.stdout(`${text}\n`);
    },
  };
}
