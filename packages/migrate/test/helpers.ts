import { parseMysqlUrl, type ShardRecord } from "@shardkit/directory";
import type { Fleet } from "@shardkit/fleet";
import {
  openShardConnection,
  type Row,
  type ShardConnection,
  type ShardLoginResolver,
} from "@shardkit/migrate/internal";

/** A seeded PRNG (mulberry32) in [0, 1), so a failing run can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/** A shard record for a fresh database on server `i` of the fleet. */
export async function freshShard(fleet: Fleet, i: number, name: string): Promise<ShardRecord> {
  const server = fleet.servers[i];
  if (!server) throw new Error(`the fleet has no server ${i}`);
  const endpoint = parseMysqlUrl(await server.createDatabase(name));
  return {
    name,
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    database: endpoint.database,
    state: "serving",
  };
}

/** The fleet's servers take the registered user with an empty password. */
export const rootLogin: ShardLoginResolver = (shard) => ({ user: shard.user, password: "" });

/** Opens a connection to a shard as the mover would (same session settings and value forms). */
export function connectTo(shard: ShardRecord): Promise<ShardConnection> {
  return openShardConnection(shard, rootLogin(shard));
}

/** Every row of `table`, in primary-key order given as `orderBy`. */
export function rowsOf(conn: ShardConnection, table: string, orderBy: string): Promise<Row[]> {
  return conn.query<Row>(`SELECT * FROM \`${table}\` ORDER BY ${orderBy}`);
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Two tables sharing the key `user_id`: accounts by id (the key is not in the primary key), orders by (user_id, order_id). */
export const SCHEMA = [
  `CREATE TABLE accounts (
    id BIGINT NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    balance DECIMAL(12,2) NOT NULL,
    name VARCHAR(40) CHARACTER SET utf8mb4 NOT NULL,
    updated DATETIME(3) NULL,
    KEY by_user (user_id)
  ) ENGINE=InnoDB`,
  `CREATE TABLE orders (
    user_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    amount INT NOT NULL,
    payload BLOB NULL,
    created TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (user_id, order_id)
  ) ENGINE=InnoDB`,
];

/** The sharded tables of {@link SCHEMA}. */
export const TABLES = [
  { name: "accounts", keyColumn: "user_id", keyFunction: "hash" as const },
  { name: "orders", keyColumn: "user_id", keyFunction: "hash" as const },
];

/**
 * Random writes on the source's two tables in small transactions: inserts, updates, deletes
 * and shard-key changes (which move a row into or out of a range), until stopped.
 */
export class Workload {
  readonly #conn: ShardConnection;
  readonly #random: () => number;
  #stopped = false;
  #running: Promise<void> | null = null;
  #nextId = 1_000_000;
  writes = 0;

  constructor(conn: ShardConnection, seed: number) {
    this.#conn = conn;
    this.#random = seededRandom(seed);
  }

  /** Seeds `n` users' rows: an account and a few orders each. */
  async seed(users: number): Promise<void> {
    const accounts: unknown[][] = [];
    const orders: unknown[][] = [];
    for (let u = 1; u <= users; u++) {
      accounts.push([u, u, (u * 7) % 1000, `user ${u} ✓`, "2024-01-02 03:04:05.678"]);
      for (let o = 1; o <= 3; o++)
        orders.push([u, o, u * o, Buffer.from([u & 0xff, o]), "2024-05-06 07:08:09.123"]);
    }
    await this.#conn.query("INSERT INTO accounts VALUES ?", [accounts]);
    await this.#conn.query("INSERT INTO orders VALUES ?", [orders]);
  }

  #int(n: number): number {
    return Math.floor(this.#random() * n) + 1;
  }

  /** One random transaction. */
  async step(users: number): Promise<void> {
    const c = this.#conn;
    const op = this.#random();
    await c.query("START TRANSACTION");
    if (op < 0.2) {
      const id = ++this.#nextId;
      await c.query("INSERT INTO accounts VALUES (?, ?, 0, 'new', NULL)", [
        id,
        this.#int(users * 2),
      ]);
      await c.query("INSERT INTO orders (user_id, order_id, amount) VALUES (?, ?, 1)", [
        this.#int(users * 2),
        id,
      ]);
    } else if (op < 0.45) {
      await c.query("UPDATE accounts SET balance = balance + 1, updated = NOW(3) WHERE id = ?", [
        this.#int(users),
      ]);
      await c.query("UPDATE orders SET amount = amount + 1 WHERE user_id = ? LIMIT 2", [
        this.#int(users),
      ]);
    } else if (op < 0.65) {
      // Shard-key changes: the row may leave or enter the range.
      await c.query("UPDATE accounts SET user_id = ? WHERE id = ?", [
        this.#int(users * 2),
        this.#int(users),
      ]);
      await c.query("UPDATE IGNORE orders SET user_id = ? WHERE user_id = ? AND order_id = 1", [
        this.#int(users * 2),
        this.#int(users),
      ]);
    } else if (op < 0.8) {
      await c.query("DELETE FROM accounts WHERE id = ?", [this.#int(users)]);
      await c.query("DELETE FROM orders WHERE user_id = ? AND order_id = ?", [
        this.#int(users),
        this.#int(3),
      ]);
    } else {
      // Delete and insert back: a row that disappears and comes back between chunks.
      const id = this.#int(users);
      await c.query("DELETE FROM accounts WHERE id = ?", [id]);
      await c.query("INSERT INTO accounts VALUES (?, ?, 5, 'back', NULL)", [
        id,
        this.#int(users * 2),
      ]);
    }
    await c.query("COMMIT");
    this.writes++;
  }

  /** Writes until {@link stop}. */
  start(users: number, pauseMs = 0): void {
    this.#running = (async () => {
      while (!this.#stopped) {
        await this.step(users);
        if (pauseMs > 0) await sleep(pauseMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }
}
