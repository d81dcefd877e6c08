import type { MoveEvent } from "@shardkit/migrate";
import type { CommandContext } from "../command-context.js";
import { ProgressBars } from "./progress-bars.js";

/** Where a move command's progress goes while the engine runs. */
export interface MoveProgress {
  /** True when progress is JSON lines on stdout (`--json`, or no terminal); false for bars. */
  readonly lines: boolean;
  /** The engine's `onEvent`. */
  onEvent(event: MoveEvent): void;
  /** Ends the display (bars stay on screen); call before printing the result. */
  stop(): void;
}

/** One event as a JSON line: `{"event": "<type>", ...its fields}`. */
export function eventLine(event: MoveEvent): Record<string, unknown> {
  const { type, ...fields } = event;
  return { event: type, ...fields };
}

/**
 * The progress of a move command: bars on the terminal (the move's id printed first on
 * stdout), or with `--json` or without a terminal one JSON line per event on stdout. The
 * engine's `done` event is left out: the command's result is the last line.
 */
export function openMoveProgress(ctx: CommandContext): MoveProgress {
  const terminal = ctx.io.terminal;
  if (ctx.json || terminal === undefined) {
    return {
      lines: true,
      onEvent: (event) => {
        if (event.type !== "done") ctx.line(eventLine(event));
      },
      stop: () => undefined,
    };
  }
  let bars: ProgressBars | undefined;
  return {
    lines: false,
    onEvent: (event) => {
      if (event.type === "started") {
        const what = event.key !== undefined ? `key ${event.key}` : `range ${event.range}`;
        ctx.io.stdout(`move ${event.moveId}: ${what} from ${event.source} to ${event.target}\n`);
        return;
      }
      if (event.type === "done") return;
      bars ??= new ProgressBars(terminal);
      bars.onEvent(event);
    },
    stop: () => bars?.stop(),
  };
}
