import { expect } from "vitest";
import { type Model, ownerOf, shardRows } from "./fenced-workload.js";
import type { MoveWorld } from "./move-world.js";

/** Every acknowledged write present with its last value on its owner only; nothing else anywhere. */
export async function expectModel(w: MoveWorld, model: Model): Promise<void> {
  const snapshot = await w.admin.snapshot();
  const rows = await shardRows(w.conns);
  const seen = new Map<string, string>();
  for (const { shard, table, row } of rows) {
    const id =
      table === "accounts" ? `accounts:${row.id}` : `orders:${row.user_id}:${row.order_id}`;
    expect(seen.get(id), `${id} on ${seen.get(id)} and ${shard}`).toBeUndefined();
    seen.set(id, shard);
    expect(shard, `${id} lives on its owner`).toBe(ownerOf(snapshot, Number(row.user_id)));
    if (table === "accounts") {
      expect(model.accounts.get(Number(row.id)), id).toEqual({
        user_id: Number(row.user_id),
        balance: row.balance,
      });
    } else {
      expect(model.orders.get(`${row.user_id}:${row.order_id}`), id).toEqual({
        user_id: Number(row.user_id),
        order_id: Number(row.order_id),
        amount: row.amount,
      });
    }
  }
  for (const [id, row] of model.accounts)
    if (row) expect(seen.has(`accounts:${id}`), `accounts:${id}`).toBe(true);
  for (const [id, row] of model.orders)
    if (row) expect(seen.has(`orders:${id}`), `orders:${id}`).toBe(true);
}
