/**
 * Names what differs between two definitions of one table (SHOW CREATE TABLE, normalised),
 * line by line: a column, key or option line the other side lacks, has, or has otherwise.
 * Lines are paired by their first word (a column or key name, or the table options).
 */
export function definitionDifferences(expected: string, actual: string): string[] {
  const want = definitionLines(expected);
  const have = definitionLines(actual);
  const haveSet = new Set(have);
  const wantSet = new Set(want);
  const missing = want.filter((l) => !haveSet.has(l));
  const extra = have.filter((l) => !wantSet.has(l));
  const out: string[] = [];
  const extraByWord = new Map(extra.map((l) => [firstWord(l), l]));
  for (const line of missing) {
    const other = extraByWord.get(firstWord(line));
    if (other !== undefined) {
      out.push(`has ${other} where expected ${line}`);
      extraByWord.delete(firstWord(line));
      extra.splice(extra.indexOf(other), 1);
    } else {
      out.push(`lacks ${line}`);
    }
  }
  for (const line of extra) out.push(`has extra ${line}`);
  if (out.length === 0 && want.join("\n") !== have.join("\n")) {
    out.push("has the same lines in another order");
  }
  return out;
}

function definitionLines(definition: string): string[] {
  return definition
    .split("\n")
    .slice(1)
    .map((l) => l.trim().replace(/,$/, ""))
    .filter((l) => l !== "");
}

function firstWord(line: string): string {
  const key =
    /^((?:PRIMARY |UNIQUE |FULLTEXT |SPATIAL |FOREIGN )?KEY|CONSTRAINT|INDEX)\s+(`[^`]*`)?/i.exec(
      line,
    );
  if (key) return `${key[1]} ${key[2] ?? ""}`.toUpperCase();
  if (line.startsWith(")")) return ")";
  return /^(`[^`]*`|\S+)/.exec(line)?.[1] ?? line;
}
