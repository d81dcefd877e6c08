import type { CliIo } from "./cli-io.js";

/** Prints either a human table or one JSON document, depending on `--json`. */
export class Output {
  readonly json: boolean;
  readonly #io: CliIo;

  constructor(io: CliIo, json: boolean) {
    this.#io = io;
    this.json = json;
  }

  /** Prints rows: as a JSON array, or as an aligned table with the given columns. */
  rows<T extends Record<string, unknown>>(
    rows: readonly T[],
    columns: readonly (keyof T & string)[],
    empty: string,
  ): void {
    if (this.json) {
      this.#io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (rows.length === 0) {
      this.#io.stdout(`${empty}\n`);
      return;
    }
    this.#io.stdout(
      formatTable(
        columns.map((c) => c.toUpperCase()),
        rows.map((r) => columns.map((c) => cell(r[c]))),
      ),
    );
  }

  /** Prints the result of a change: a sentence for people, the object for `--json`. */
  done(message: string, result: Record<string, unknown>): void {
    this.#io.stdout(this.json ? `${JSON.stringify(result, null, 2)}\n` : `${message}\n`);
  }

  /** A note for people, on stderr so that stdout stays clean for `--json`. */
  note(message: string): void {
    this.#io.stderr(`note: ${message}\n`);
  }
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

function cell(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "boolean") return v ? "yes" : "no";
  return String(v);
}
