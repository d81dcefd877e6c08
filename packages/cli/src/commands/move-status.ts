import type { MoveEventRecord, MoveRecord } from "@shardkit/directory";
import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";
import { moveFields, stateDurations } from "../move/move-fields.js";
import { formatTable } from "../output.js";
import { millis, moveSubject, phaseName } from "../progress/move-summary.js";
import { count } from "../progress/progress-state.js";

/** `shardkit move status <id>`: where a move stands, its progress, the time in each state and its history. */
export const moveStatusCommand: CommandDefinition = (action) =>
  new Command("status")
    .description(
      "show a move's state, progress, time spent in each state, its history and its error",
    )
    .argument("<id>", "the move's id (shardkit moves lists them)")
    .addHelpText("after", "\nExample:\n  shardkit move status 3f0c2a9e-6f1b-4c55-9d0e-2b7f4e1d8a10")
    .action(
      action(async ({ admin }, id: string) => {
        const move = await admin.getMove(id);
        const events = await admin.listMoveEvents(id);
        const ended = move.state === "done" || move.state === "aborted";
        const phaseMs = stateDurations(events, new Date(), ended);
        return {
          kind: "report",
          text: statusText(move, events, phaseMs),
          data: {
            move: moveFields(move),
            phaseMs,
            events: events.map((e) => ({
              seq: e.seq,
              at: e.at.toISOString(),
              state: e.state,
              message: e.message,
              details: e.details,
            })),
          },
        };
      }),
    );

function progressText(p: Readonly<Record<string, unknown>>): string {
  const parts: string[] = [];
  const n = (key: string) => (typeof p[key] === "number" ? (p[key] as number) : null);
  if (n("rowsCopied") !== null) parts.push(`${count(n("rowsCopied") as number)} rows copied`);
  if (n("eventsApplied") !== null)
    parts.push(`${count(n("eventsApplied") as number)} events applied`);
  if (n("lagMs") !== null) parts.push(`lag ${count(n("lagMs") as number)} ms`);
  if (n("pauseMs") !== null) parts.push(`write pause ${n("pauseMs")} ms`);
  const tables = p.tables;
  if (tables !== null && typeof tables === "object") {
    const each = Object.entries(
      tables as Record<string, { rowsCopied?: number; copied?: boolean }>,
    ).map(([name, t]) => `${name} ${count(t.rowsCopied ?? 0)}${t.copied ? " (copied)" : ""}`);
    if (each.length) parts.push(`tables: ${each.join(", ")}`);
  }
  return parts.join(", ") || "nothing yet";
}

function statusText(
  move: MoveRecord,
  events: readonly MoveEventRecord[],
  phaseMs: Readonly<Record<string, number>>,
): string {
  const state =
    move.state === "failed"
      ? `failed (in ${phaseName(move.failedIn ?? "?")}); continue with shardkit move resume ${move.id} or undo with shardkit move abort ${move.id}`
      : phaseName(move.state);
  const rows: [string, string][] = [
    ["move", `${moveSubject(move)} from ${move.source} to ${move.target}`],
    ["state", state],
  ];
  if (move.error) rows.push(["error", move.error]);
  if (move.switchedVersion !== null)
    rows.push(["switched", `at directory version ${move.switchedVersion}`]);
  rows.push(
    [
      "lease",
      move.leaseOwner === null
        ? "free"
        : `held by ${move.leaseOwner} until ${move.leaseExpiresAt?.toISOString() ?? "?"}`,
    ],
    ["progress", progressText(move.progress)],
    [
      "phases",
      Object.entries(phaseMs)
        .map(([s, ms]) => `${phaseName(s)} ${millis(ms)}`)
        .join(", ") || "-",
    ],
    [
      "options",
      Object.entries(move.options)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(" ") || "-",
    ],
  );
  const head = formatTable(["", ""], rows).split("\n").slice(1, -1);
  const history = formatTable(
    ["AT", "STATE", "EVENT"],
    events.map((e) => [e.at.toISOString().replace("T", " ").replace("Z", ""), e.state, e.message]),
  );
  return [`move ${move.id}`, ...head.map((l) => `  ${l}`), "history:", history.trimEnd()].join(
    "\n",
  );
}
