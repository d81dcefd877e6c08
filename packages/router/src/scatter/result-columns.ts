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

/** The column named `name` in the shards' answers (kind `null` when no shard answered). */
export function mergedColumn(
  answers: readonly ShardAnswer[],
  name: string,
  collations: ReadonlyMap<number, CollationWeights>,
  label = name,
): MergedColumn {
  let first: { shard: string; field: FieldInfo; kind: ColumnKind } | undefined;
  let decimals = 0;
  for (const a of answers) {
    const field = a.fields.find((f) => f.name === name);
    if (!field) continue;
    const kind = columnKind(field);
    decimals = Math.max(decimals, field.decimals);
    if (!first) {
      first = { shard: a.shard, field, kind };
      continue;
    }
    // A NULL literal column has type NULL on a shard that only saw NULLs.
    if (kind === "null" || first.kind === "null") {
      if (first.kind === "null") first = { shard: a.shard, field, kind };
      continue;
    }
    const sameCollation = kind !== "text" || field.characterSet === first.field.characterSet;
    if (kind !== first.kind || !sameCollation) {
      throw new RouterError(
        "INTERNAL",
        `column ${label} is ${describe(first.kind, first.field)} on shard ${first.shard} but ${describe(kind, field)} on shard ${a.shard}; the shards' schemas must agree before their answers can be merged`,
        { details: { column: label, shards: [first.shard, a.shard] } },
      );
    }
  }
  const kind = first?.kind ?? "null";
  return {
    kind,
    field: first?.field,
    decimals,
    collation: first && hasCollation(kind) ? collations.get(first.field.characterSet) : undefined,
  };
}

function describe(kind: ColumnKind, field: FieldInfo): string {
  return kind === "text"
    ? `text in collation #${field.characterSet}`
    : `${kind} (type ${field.columnType})`;
}

/** True for the kinds whose values compare by collation. */
export function hasCollation(kind: ColumnKind): boolean {
  return kind === "text" || kind === "enum" || kind === "set";
}

/** The collation ids of the text columns among `names`, which the merge must know. */
export function textCollationIds(
  answers: readonly ShardAnswer[],
  names: readonly string[],
): Map<number, string> {
  const ids = new Map<number, string>();
  for (const a of answers) {
    for (const f of a.fields) {
      if (names.includes(f.name) && hasCollation(columnKind(f)) && !ids.has(f.characterSet))
        ids.set(f.characterSet, a.shard);
    }
  }
  return ids;
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
