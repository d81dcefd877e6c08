import { formatKeyRange, type MoveRecord } from "@shardkit/directory";
import type { MoveSummary } from "@shardkit/migrate";
import { formatTable } from "../output.js";
import { count, plural } from "./progress-state.js";

/** How a move is named in sentences: `range 40-80` or `key alice`. */
export function moveSubject(move: Pick<MoveRecord, "kind" | "range" | "keyText">): string {
  return move.kind === "key" ? `key ${move.keyText ?? "?"}` : `range ${formatKeyRange(move.range)}`;
}

/** A phase's name as people read it: `cutting_over` is "cutting over". */
export function phaseName(phase: string): string {
  return phase.replaceAll("_", " ");
}

/** Milliseconds as people read them: 850 ms, 12.3 s, 4 min 5 s. */
export function millis(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return s < 3600
    ? `${Math.floor(s / 60)} min ${s % 60} s`
    : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** What to do next for a move resting in `state` after a run, or where it stands now. */
function outcome(move: MoveRecord): string {
  const id = move.id;
  switch (move.state) {
    case "done":
      return `${moveSubject(move)} moved from ${move.source} to ${move.target}; the source is cleaned up`;
    case "switched":
      return `${move.target} owns ${moveSubject(move)}; delete the moved rows from ${move.source} with shardkit cleanup ${id}`;
    case "copied":
    case "verified":
      return `${moveSubject(move)} is ${move.state} on ${move.target}; cut it over with shardkit move cutover ${id}, or abort it with shardkit move abort ${id}`;
    case "aborted":
      return `aborted: ${move.source} serves ${moveSubject(move)} as before and ${move.target} holds none of its rows`;
    default:
      return `${moveSubject(move)} is ${phaseName(move.state)}; see shardkit move status ${id}`;
  }
}

/** The verify line of a summary. */
function verifyText(summary: MoveSummary): string {
  const v = summary.verify;
  if (v === null) return "not run in this run";
  const tables = plural(v.tables.length, "table");
  return v.differences === 0
    ? `${v.mode}: no differences (${tables})`
    : `${v.mode}: ${count(v.differences)} rows differ (${tables})`;
}

/**
 * The summary printed at the end of a move command: the outcome and what to do next, then rows
 * copied, events applied, the verify result, the measured write pause and each phase's duration.
 */
export function summaryText(summary: MoveSummary, move: MoveRecord): string {
  const phases = Object.entries(summary.phaseMs)
    .map(([phase, ms]) => `${phaseName(phase)} ${millis(ms)}`)
    .join(", ");
  const rows: [string, string][] = [
    ["rows copied", count(summary.rowsCopied)],
    ["events applied", count(summary.eventsApplied)],
    ["verify", verifyText(summary)],
    ["write pause", summary.pauseMs === null ? "no cutover in this run" : `${summary.pauseMs} ms`],
  ];
  if (summary.rowsDeleted > 0 || move.state === "done" || move.state === "aborted") {
    const from = move.state === "aborted" ? move.target : move.source;
    rows.push(["rows deleted", `${count(summary.rowsDeleted)} from ${from}`]);
  }
  rows.push(["phases", phases || "-"]);
  const table = formatTable(["", ""], rows).split("\n").slice(1, -1);
  return [`move ${move.id}: ${outcome(move)}`, ...table.map((l) => `  ${l}`)].join("\n");
}

/** The line a dry run prints: what was checked, and that nothing changed. */
export function dryRunText(subject: string, target: string): string {
  return `dry run: every check passed for moving ${subject} to ${target}; nothing changed`;
}
