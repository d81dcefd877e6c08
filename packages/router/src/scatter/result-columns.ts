// The columns of the shards' answers, as the merge sees them: one kind per column across every
// shard (a column whose type differs between shards cannot be merged), with the collation of
// text columns and the largest DECIMAL scale.
import { RouterError } from "../router-errors.js";
import {
  type ColumnKind,
  type ColumnOrder,
  columnKind,
  type FieldInfo,
  unorderable,
} from "./column-kinds.js";
import type { CollationWeights } from "./text-weights.js";

/** One shard's answer: its rows and the metadata of their columns. */
export interface ShardAnswer {
  readonly shard: string;
  readonly rows: readonly Record<string, unknown>[];
  readonly fields: readonly FieldInfo[];
}

/** A result column across every shard. */
export interface MergedColumn extends ColumnOrder {
  readonly kind: ColumnKind;
  /** The field as the first shard described it. */
  readonly field: FieldInfo | undefined;
  /** The largest number of digits after the point any shard reported (DECIMAL scale). */
  readonly decimals: number;
}

/**
 * The helper column holding `COLLATION(expr)` for the helper column `name`. The protocol's
 * character set id is the connection's, not the column's, so each text term carries its
 * collation's name.
 */
export function collationHelper(name: string): string {
  return `${name}c`;
}

/** The collation name a shard reported in the column `column` (from any of its rows). */
function collationOf(answer: ShardAnswer, column: string): string | undefined {
  const c = answer.rows[0]?.[column];
  return typeof c === "string" ? c : undefined;
}

/**
 * The column named `name` in the shards' answers (kind `null` when no shard answered); a text
 * column's collation is read from `collationColumn`.
 */
export function mergedColumn(
  answers: readonly ShardAnswer[],
  name: string,
  collations: ReadonlyMap<string, CollationWeights>,
  label = name,
  collationColumn = collationHelper(name),
): MergedColumn {
  let first: { shard: string; field: FieldInfo; kind: ColumnKind } | undefined;
  let collation: string | undefined;
  let decimals = 0;
  for (const a of answers) {
    const field = a.fields.find((f) => f.name === name);
    if (!field) continue;
    const kind = columnKind(field);
    decimals = Math.max(decimals, field.decimals);
    const named = hasCollation(kind) ? collationOf(a, collationColumn) : undefined;
    if (named !== undefined && collation !== undefined && named !== collation) {
      throw new RouterError(
        "SCHEMA_MISMATCH",
        `column ${label} is in collation ${collation} on one shard but ${named} on shard ${a.shard}; the shards' schemas must agree before their answers can be merged`,
        { details: { column: label, shard: a.shard } },
      );
    }
    collation ??= named;
    if (!first) {
      first = { shard: a.shard, field, kind };
      continue;
    }
    // A NULL literal column has type NULL on a shard that only saw NULLs.
    if (kind === "null" || first.kind === "null") {
      if (first.kind === "null") first = { shard: a.shard, field, kind };
      continue;
    }
    if (kind !== first.kind) {
      throw new RouterError(
        "SCHEMA_MISMATCH",
        `column ${label} is ${describe(first.kind, first.field)} on shard ${first.shard} but ${describe(kind, field)} on shard ${a.shard}; the shards' schemas must agree before their answers can be merged`,
        { details: { column: label, shards: [first.shard, a.shard] } },
      );
    }
  }
  const kind = first?.kind ?? "null";
  const rows = answers.some((a) => a.rows.length > 0);
  if (kind === "text" && rows && (collation === undefined || !collations.has(collation))) {
    // Weights without their collation would compare as NO PAD: never guess.
    throw new RouterError(
      "INTERNAL",
      `the merge has no collation for the text column ${label}; report this with the query`,
      { details: { column: label } },
    );
  }
  return {
    kind,
    field: first?.field,
    decimals,
    collation: collation === undefined ? undefined : collations.get(collation),
  };
}

function describe(kind: ColumnKind, field: FieldInfo): string {
  return `${kind} (type ${field.columnType})`;
}

/** True for the kinds whose values compare by collation. */
export function hasCollation(kind: ColumnKind): boolean {
  return kind === "text" || kind === "enum" || kind === "set";
}

/**
 * The collations of the text columns among `columns` (each a value column and the column
 * holding its collation's name), each with a shard that uses it.
 */
export function textCollations(
  answers: readonly ShardAnswer[],
  columns: readonly { readonly value: string; readonly collation: string }[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of answers) {
    for (const c of columns) {
      const f = a.fields.find((x) => x.name === c.value);
      if (!f || !hasCollation(columnKind(f))) continue;
      const name = collationOf(a, c.collation);
      if (name !== undefined && !out.has(name)) out.set(name, a.shard);
    }
  }
  return out;
}

/**
 * Throws BAD_ARGUMENT naming `label` when the merge cannot order (`order`) or group (`group`)
 * by the column exactly as one server would.
 */
export function requireMergeable(
  column: MergedColumn,
  label: string,
  use: "order" | "group",
): void {
  const verb = use === "order" ? "order" : "group";
  let why: string | undefined;
  if (column.kind === "text" && column.collation && !column.collation.mergeable)
    why = `its collation ${column.collation.name} pads with spaces over several weight levels, which the router cannot compare outside MySQL`;
  else if (use === "order") why = unorderable(column.kind);
  else if (column.kind === "unsupported") why = "its type has no equality the router can reproduce";
  if (why) {
    throw new RouterError(
      "BAD_ARGUMENT",
      `cannot ${verb} the merged rows by ${label}: ${why}; ${verb} by another column (for an ENUM, CAST it to CHAR in the query) or sort the rows yourself`,
      { details: { column: label } },
    );
  }
}
