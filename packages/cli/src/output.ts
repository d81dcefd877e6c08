import type { ShardkitError } from "@shardkit/directory";
import { errorDocument, errorLine } from "./cli-errors.js";

/** What every command returns: printed by {@link renderResult}, never by the command itself. */
interface ResultBase {
  /** When set, the result is printed for people and then the command fails with this error. */
  readonly failure?: ShardkitError;
}

/** Rows: an aligned table for people, a JSON array for `--json`. */
export interface TableResult extends ResultBase {
  readonly kind: "table";
  readonly rows: readonly Readonly<Record<string, unknown>>[];
  /** The columns shown, in order; headers are their names in upper case. */
  readonly columns: readonly string[];
  /** The line printed instead of an empty table (nothing when empty). */
  readonly empty: string;
}

/** The outcome of a change or a check: a sentence (or lines) for people, an object for `--json`. */
export interface ReportResult extends ResultBase {
  readonly kind: "report";
  readonly text: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** Print `data` as one JSON line, with or without `--json`: the last line of a stream of JSON lines. */
  readonly line?: boolean;
}

/** One of the results a command can return. */
export type CommandResult = TableResult | ReportResult;

/**
 * The text for stdout: the table or sentence, or one JSON document with `json`. With `oneLine`
 * (after a command streamed JSON lines) the document is printed on a single line.
 */
export function renderResult(result: CommandResult, json: boolean, oneLine = false): string {
  if (result.kind === "report") {
    return json ? toJson(result.data, oneLine) : result.text ? `${result.text}\n` : "";
  }
  if (json) return toJson(result.rows, oneLine);
  if (result.rows.length === 0) return result.empty ? `${result.empty}\n` : "";
  return formatTable(
    result.columns.map((c) => c.toUpperCase()),
    result.rows.map((r) => result.columns.map((c) => cell(r[c]))),
  );
}

/**
 * What a failure prints: always one line on stderr, and with `json` one document on stdout
 * (on a single line with `oneLine`, after a command streamed JSON lines).
 */
export function renderError(
  error: unknown,
  json: boolean,
  oneLine = false,
): { stdout: string; stderr: string } {
  const line = errorLine(error);
  return {
    stdout: json ? toJson(errorDocument(error, line), oneLine) : "",
    stderr: `shardkit: ${line}\n`,
  };
}

/** Formats rows as left-aligned columns separated by two spaces. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join("\n")}\n`;
}

/** One JSON document, indented (or on one line), ending with a newline; bigints become decimal strings. */
export function toJson(value: unknown, oneLine = false): string {
  const text = JSON.stringify(
    value,
    (_k, v) => (typeof v === "bigint" ? v.toString() : v),
    oneLine ? undefined : 2,
  );
  return `${text}\n`;
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "boolean") return v ? "yes" : "no";
  return String(v);
}
