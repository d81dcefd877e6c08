// A row scatter on shards holding copies of a moving range's rows: the copies are dropped from
// each such shard's answer, and a shard whose LIMIT cut its answer before enough owned rows
// were kept is read again with a larger LIMIT, so the merge sees as many owned rows from it as
// from a shard without copies.
import type { ShardAnswer } from "./result-columns.js";
import type { ShardSql } from "./shard-reads.js";
import type { BuiltQuery, ShardRunner } from "./shard-runner.js";

type Row = Record<string, unknown>;

/** Each read again asks for this many times the rows of the one before. */
const GROWTH = 4;

/**
 * The answers with each copy-holding shard's copies dropped; such a shard is read again with a
 * larger LIMIT (`sqlFor`) while it returned a full page but kept fewer than `limit` rows. A
 * shard that fails then is left out (allowPartial) or fails the scatter.
 */
export async function ownedAnswers(
  runner: ShardRunner,
  built: readonly BuiltQuery[],
  answers: readonly ShardAnswer[],
  limit: number | undefined,
  sqlFor: (b: BuiltQuery, limit: number | undefined) => ShardSql,
): Promise<ShardAnswer[]> {
  const byShard = new Map(built.map((b) => [b.shard, b]));
  const out = await Promise.all(
    answers.map(async (answer): Promise<ShardAnswer | undefined> => {
      const b = byShard.get(answer.shard);
      const copies = b?.copies;
      if (!b || !copies) return answer;
      let current = answer;
      let asked = limit;
      for (;;) {
        const kept = current.rows.filter((r) => copies.keep(r));
        if (asked === undefined || limit === undefined) return { ...current, rows: kept };
        if (current.rows.length < asked || kept.length >= limit) return { ...current, rows: kept };
        asked *= GROWTH;
        const again = await runner.readAgain(b, sqlFor(b, asked));
        if (!again) return undefined;
        current = again;
      }
    }),
  );
  const answered = out.filter((a): a is ShardAnswer => a !== undefined);
  runner.check(answered.length);
  return answered;
}

/** The rows of `source` that `keep` accepts. */
export function keptRows(
  source: AsyncIterator<Row>,
  keep: (row: Row) => boolean,
): AsyncIterator<Row> {
  return {
    next: async () => {
      for (;;) {
        const r = await source.next();
        if (r.done || keep(r.value)) return r;
      }
    },
  };
}
