import { MoveError } from "../move-error.js";

/**
 * Splits a file of SQL into its statements at each `;` outside quotes, backticks and comments.
 * Comments are kept inside the statement they precede; empty statements are dropped. A
 * `DELIMITER` line (a mysql client command, not SQL) is refused with BAD_ARGUMENT.
 */
export function splitStatements(text: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const statement = text.slice(start, end).trim();
    if (statement !== "" && !onlyComments(statement)) statements.push(statement);
    start = end + 1;
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "'" || c === '"' || c === "`") {
      i = closingQuote(text, i, c);
    } else if (c === "-" && text[i + 1] === "-" && /\s|$/.test(text[i + 2] ?? "")) {
      i = lineEnd(text, i);
    } else if (c === "#") {
      i = lineEnd(text, i);
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === ";") {
      push(i);
      i++;
    } else {
      if ((i === 0 || text[i - 1] === "\n") && /^delimiter\s/i.test(text.slice(i, i + 10))) {
        throw new MoveError(
          "BAD_ARGUMENT",
          "the file uses DELIMITER, a mysql client command; write each statement ending with ; (a trigger or procedure body as one statement is not supported), or run it per shard by hand",
        );
      }
      i++;
    }
  }
  push(text.length);
  return statements;
}

function closingQuote(text: string, at: number, quote: string): number {
  let i = at + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\" && quote !== "`") {
      i += 2;
    } else if (c === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return i;
}

function lineEnd(text: string, at: number): number {
  const end = text.indexOf("\n", at);
  return end < 0 ? text.length : end + 1;
}

function onlyComments(statement: string): boolean {
  return (
    statement
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/(^|\n)\s*(--\s|#)[^\n]*/g, "")
      .trim() === ""
  );
}
