// What the application believes the tables hold: every acknowledged write applied in order.
// The exactly-once check compares the shards with it.
import type { OrderRow, UserRow } from "./demo-schema.js";

/** Each row's last acknowledged value by primary key; a deleted row is absent. */
export interface DemoModel {
  readonly users: Map<number, UserRow>;
  readonly orders: Map<number, OrderRow>;
  /** Rows a failed write touched (`users:7`, `orders:12`): their state is unknown, so not checked. */
  readonly uncertain: Set<string>;
  /** Primary keys of rows deleted by acknowledged writes and not written since: they must be on no shard. */
  readonly deleted: { readonly users: Set<number>; readonly orders: Set<number> };
}

/** An empty model. */
export function emptyModel(): DemoModel {
  return {
    users: new Map(),
    orders: new Map(),
    uncertain: new Set(),
    deleted: { users: new Set(), orders: new Set() },
  };
}
