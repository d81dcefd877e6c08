// The demo's check: every row the application believes in (its last acknowledged value) is on
// exactly one shard, the owner of its user_id per the directory, with that value; every row it
// deleted, or never had acknowledged, is on none.
import type { Router } from "@shardkit/router";
import type { DemoModel } from "./demo-model.js";

/** What {@link checkExactlyOnce} found. */
export interface ExactlyOnceReport {
  /** Rows per shard and table: `{ s1: { users: 12, orders: 30 } }`. */
  readonly rowsByShard: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Rows checked against the model (present and absent). */
  readonly checked: number;
  /** Each thing wrong, one line each (at most 50, then a count); empty when all is well. */
  readonly problems: readonly string[];
}

const TABLES = [
  { table: "users", pk: "user_id", columns: ["user_id", "name", "balance"] },
  { table: "orders", pk: "order_id", columns: ["order_id", "user_id", "amount", "note"] },
] as const;

/**
 * Reads every shard's users and orders whole (each shard's own rows, not through routing, so a
 * copy left behind would show) and compares them with `model`. The router must follow the
 * directory as it is now.
 */
export async function checkExactlyOnce(
  router: Router,
  shards: readonly string[],
  model: DemoModel,
): Promise<ExactlyOnceReport> {
  await router.refresh();
  const problems: string[] = [];
  const rowsByShard: Record<string, Record<string, number>> = {};
  let checked = 0;
  for (const { table, pk, columns } of TABLES) {
    const expected = model[table] as Map<number, Record<string, unknown>>;
    const found = new Map<number, { shard: string; row: Record<string, unknown> }[]>();
    for (const shard of shards) {
      const rows = (await router
        .readShard(shard)(table)
        .select(...columns)) as Record<string, unknown>[];
      rowsByShard[shard] = { ...rowsByShard[shard], [table]: rows.length };
      for (const row of rows) {
        const id = Number(row[pk]);
        const copies = found.get(id);
        if (copies) copies.push({ shard, row });
        else found.set(id, [{ shard, row }]);
      }
    }
    for (const [id, copies] of found) {
      if (model.uncertain.has(`${table}:${id}`)) continue;
      checked++;
      const want = expected.get(id);
      const where = copies.map((c) => c.shard).join(", ");
      if (!want) {
        const why = model.deleted[table].has(id) ? "was deleted" : "was never acknowledged";
        problems.push(`${table} ${id} is on ${where} but ${why}`);
        continue;
      }
      if (copies.length > 1)
        problems.push(`${table} ${id} is on ${copies.length} shards: ${where}`);
      const owner = router.locate(Number(want.user_id), { table }).shard;
      for (const { shard, row } of copies) {
        if (shard !== owner)
          problems.push(`${table} ${id} (user ${want.user_id}) is on ${shard}, owned by ${owner}`);
        const differs = columns.filter((c) => String(row[c]) !== String(want[c]));
        if (differs.length > 0)
          problems.push(
            `${table} ${id} on ${shard} has ${differs.map((c) => `${c}=${JSON.stringify(row[c])}`).join(", ")}; the last acknowledged write set ${differs.map((c) => JSON.stringify(want[c])).join(", ")}`,
          );
      }
    }
    for (const id of expected.keys()) {
      if (found.has(id) || model.uncertain.has(`${table}:${id}`)) continue;
      checked++;
      problems.push(`${table} ${id} was acknowledged but is on no shard (lost)`);
    }
    for (const id of model.deleted[table]) if (!found.has(id)) checked++;
  }
  const shown = problems.slice(0, 50);
  if (problems.length > 50) shown.push(`... and ${problems.length - 50} more`);
  return { rowsByShard, checked, problems: shown };
}
