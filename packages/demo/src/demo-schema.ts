// The demo application's schema: users and their orders, both sharded by user_id, so a user and
// her orders live on one shard.
import mysql from "mysql2/promise";

/** The application's tables, created on every shard (schema changes are not routed). */
export const DEMO_TABLES = [
  `CREATE TABLE IF NOT EXISTS users (
    user_id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(60) NOT NULL,
    balance BIGINT NOT NULL
  ) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS orders (
    order_id BIGINT NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    note VARCHAR(60) NOT NULL,
    KEY by_user (user_id)
  ) ENGINE=InnoDB`,
] as const;

/** The sharded tables and their key column, as `shardkit table add` registers them. */
export const DEMO_SHARDED = [
  { table: "users", key: "user_id" },
  { table: "orders", key: "user_id" },
] as const;

/** A user row. */
export type UserRow = {
  readonly user_id: number;
  readonly name: string;
  readonly balance: number;
};

/** An order row. */
export type OrderRow = {
  readonly order_id: number;
  readonly user_id: number;
  readonly amount: number;
  readonly note: string;
};

/** Creates the demo's tables in the database of `url` (a shard). */
export async function createDemoTables(url: string): Promise<void> {
  const conn = await mysql.createConnection(url);
  try {
    for (const sql of DEMO_TABLES) await conn.query(sql);
  } finally {
    await conn.end();
  }
}

/** User `id` as first loaded. */
export function initialUser(id: number): UserRow {
  return { user_id: id, name: `user ${id}`, balance: id % 10_000 };
}

/** Order `id` as first loaded: orders are spread over the users round-robin. */
export function initialOrder(id: number, users: number): OrderRow {
  return {
    order_id: id,
    user_id: ((id - 1) % users) + 1,
    amount: id % 100_000,
    note: `order ${id}`,
  };
}
