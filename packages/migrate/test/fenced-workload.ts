import {
  canonicalKeyBytes,
  type DirectorySnapshot,
  type DirectorySource,
  hashKeyFunction,
  MysqlError,
  type ShardRecord,
} from "@shardkit/directory";
import { FENCE_ERRNO } from "@shardkit/directory/internal";
import { openShardConnection, type Row, type ShardConnection } from "@shardkit/migrate/internal";
import { seededRandom, sleep } from "./helpers.js";

/** The shard that owns key `k` (a BIGINT user_id) in `snapshot`: its pin, else its range's owner. */
export function ownerOf(snapshot: DirectorySnapshot, k: number): string {
  const bytes = canonicalKeyBytes(k);
  const pin = snapshot.pins.find((p) => Buffer.from(p.keyBytes).equals(bytes));
  if (pin) return pin.shard;
  const ksid = hashKeyFunction.ksid(k);
  const range = snapshot.ranges.find((r) => r.range.start <= ksid && ksid < r.range.end);
  if (!range) throw new Error(`no owner for ${k}`);
  return range.shard;
}

/** What the application believes: each acknowledged row's last values, or null once deleted. */
export interface Model {
  readonly accounts: Map<number, { user_id: number; balance: string } | null>;
  readonly orders: Map<string, { user_id: number; order_id: number; amount: number } | null>;
}

/**
 * An application writing through the ownership fence as a router does: every transaction
 * starts with `shardkit_begin_fenced` on the shard its directory snapshot names; a fenced
 * write is retried after a short back-off and a fresh snapshot. Keeps a model of every
 * acknowledged write.
 */
export class FencedWorkload {
  readonly model: Model = { accounts: new Map(), orders: new Map() };
  readonly #source: DirectorySource;
  readonly #login: (shard: ShardRecord) => { user: string; password: string };
  readonly #connections = new Map<string, ShardConnection>();
  readonly #random: () => number;
  readonly #users: number;
  #snapshot: DirectorySnapshot | null = null;
  #stopped = false;
  #running: Promise<void> | null = null;
  #nextId = 1_000_000;
  writes = 0;
  fencedRetries = 0;
  /** The longest a write waited for the fence (ms), retries included. */
  longestStallMs = 0;

  constructor(
    source: DirectorySource,
    users: number,
    seed: number,
    login = (s: ShardRecord) => ({ user: s.user, password: "" }),
  ) {
    this.#source = source;
    this.#users = users;
    this.#random = seededRandom(seed);
    this.#login = login;
  }

  async #conn(name: string): Promise<ShardConnection> {
    let c = this.#connections.get(name);
    if (!c) {
      const snapshot = await this.#snap();
      const shard = snapshot.shards.find((s) => s.name === name);
      if (!shard) throw new Error(`unknown shard ${name}`);
      c = await openShardConnection(shard, this.#login(shard));
      this.#connections.set(name, c);
    }
    return c;
  }

  async #snap(refresh = false): Promise<DirectorySnapshot> {
    if (refresh || !this.#snapshot) this.#snapshot = await this.#source.snapshot();
    return this.#snapshot;
  }

  /** Runs `work` in a fenced transaction on the owner of `keys[0]` (all keys must share it). */
  async #fenced(
    keys: readonly number[],
    work: (c: ShardConnection) => Promise<void>,
  ): Promise<boolean> {
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      const snapshot = await this.#snap(attempt > 0);
      const owners = new Set(keys.map((k) => ownerOf(snapshot, k)));
      if (owners.size > 1) return false;
      const c = await this.#conn([...owners][0] as string);
      try {
        await c.query("CALL shardkit_begin_fenced(?, ?)", [
          hashKeyFunction.ksid(keys[0]),
          canonicalKeyBytes(keys[0]),
        ]);
        for (const k of keys.slice(1)) {
          await c.query("CALL shardkit_fence(?, ?)", [
            hashKeyFunction.ksid(k),
            canonicalKeyBytes(k),
          ]);
        }
        await work(c);
        await c.query("COMMIT");
        this.longestStallMs = Math.max(this.longestStallMs, performance.now() - started);
        this.writes++;
        return true;
      } catch (error) {
        await c.query("ROLLBACK").catch(() => undefined);
        // A deadlock with a fence rewrite (a range split off at a move's start) is retried like a fenced write.
        if (!(error instanceof MysqlError) || (error.errno !== FENCE_ERRNO && error.errno !== 1213))
          throw error;
        this.fencedRetries++;
        if (performance.now() - started > 20_000)
          throw new Error(`write to key ${keys[0]} fenced for 20 s`);
        await sleep(2);
      }
    }
  }

  #int(n: number): number {
    return Math.floor(this.#random() * n) + 1;
  }

  /** Seeds each user's account and three orders through the fence. */
  async seed(): Promise<void> {
    for (let u = 1; u <= this.#users; u++) {
      await this.#fenced([u], async (c) => {
        await c.query(
          "INSERT INTO accounts (id, user_id, balance, name) VALUES (?, ?, ?, 'seed')",
          [u, u, `${u}.00`],
        );
        await c.query(
          "INSERT INTO orders (user_id, order_id, amount) VALUES (?, 1, 1), (?, 2, 2), (?, 3, 3)",
          [u, u, u],
        );
      });
      this.model.accounts.set(u, { user_id: u, balance: `${u}.00` });
      for (let o = 1; o <= 3; o++)
        this.model.orders.set(`${u}:${o}`, { user_id: u, order_id: o, amount: o });
    }
  }

  /** Gives user `k` `count` more orders (a whale key), through the fence. */
  async seedOrders(k: number, count: number): Promise<void> {
    const rows = Array.from({ length: count }, (_, i) => [k, 10_000 + i, i]);
    await this.#fenced([k], async (c) => {
      await c.query("INSERT INTO orders (user_id, order_id, amount) VALUES ?", [rows]);
    });
    for (const [, o, amount] of rows) {
      this.model.orders.set(`${k}:${o}`, {
        user_id: k,
        order_id: o as number,
        amount: amount as number,
      });
    }
  }

  #liveAccount(): [number, { user_id: number; balance: string }] | null {
    const id = this.#int(this.#users);
    const row = this.model.accounts.get(id);
    return row ? [id, row] : null;
  }

  /** One random transaction through the fence. */
  async step(): Promise<void> {
    const op = this.#random();
    if (op < 0.25) {
      const id = ++this.#nextId;
      const k = this.#int(this.#users * 2);
      const amount = this.#int(100);
      if (
        await this.#fenced([k], async (c) => {
          await c.query(
            "INSERT INTO accounts (id, user_id, balance, name) VALUES (?, ?, '0.00', 'new')",
            [id, k],
          );
          await c.query("INSERT INTO orders (user_id, order_id, amount) VALUES (?, ?, ?)", [
            k,
            id,
            amount,
          ]);
        })
      ) {
        this.model.accounts.set(id, { user_id: k, balance: "0.00" });
        this.model.orders.set(`${k}:${id}`, { user_id: k, order_id: id, amount });
      }
    } else if (op < 0.55) {
      const found = this.#liveAccount();
      if (!found) return;
      const [id, row] = found;
      const balance = `${this.#int(9999)}.${String(this.#int(99)).padStart(2, "0")}`;
      if (
        await this.#fenced([row.user_id], async (c) => {
          await c.query("UPDATE accounts SET balance = ? WHERE id = ?", [balance, id]);
          await c.query(
            "UPDATE orders SET amount = amount + 1 WHERE user_id = ? AND order_id = 1",
            [row.user_id],
          );
        })
      ) {
        this.model.accounts.set(id, { ...row, balance });
        const order = this.model.orders.get(`${row.user_id}:1`);
        if (order)
          this.model.orders.set(`${row.user_id}:1`, { ...order, amount: order.amount + 1 });
      }
    } else if (op < 0.75) {
      // A shard-key change, within one shard: the row may leave or enter a moved range.
      const found = this.#liveAccount();
      if (!found) return;
      const [id, row] = found;
      const to = this.#int(this.#users * 2);
      if (
        await this.#fenced([row.user_id, to], async (c) => {
          await c.query("UPDATE accounts SET user_id = ? WHERE id = ?", [to, id]);
        })
      ) {
        this.model.accounts.set(id, { ...row, user_id: to });
      }
    } else {
      const found = this.#liveAccount();
      if (!found) return;
      const [id, row] = found;
      const order = this.#int(3);
      if (
        await this.#fenced([row.user_id], async (c) => {
          await c.query("DELETE FROM accounts WHERE id = ?", [id]);
          await c.query("DELETE FROM orders WHERE user_id = ? AND order_id = ?", [
            row.user_id,
            order,
          ]);
        })
      ) {
        this.model.accounts.set(id, null);
        if (this.model.orders.get(`${row.user_id}:${order}`))
          this.model.orders.set(`${row.user_id}:${order}`, null);
      }
    }
  }

  /** Writes until {@link stop}. */
  start(pauseMs = 1): void {
    this.#stopped = false;
    this.#running = (async () => {
      while (!this.#stopped) {
        await this.step();
        if (pauseMs > 0) await sleep(pauseMs);
      }
    })();
  }

  /** Stops writing; rejects with the first unexpected error the writes hit. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    this.#running = null;
  }

  async close(): Promise<void> {
    this.#stopped = true;
    await this.#running?.catch(() => undefined);
    await Promise.all([...this.#connections.values()].map((c) => c.close()));
    this.#connections.clear();
  }
}

/** Every row of both tables on every shard, to compare with a model. */
export async function shardRows(
  connections: ReadonlyMap<string, ShardConnection>,
): Promise<{ shard: string; table: "accounts" | "orders"; row: Row }[]> {
  const out: { shard: string; table: "accounts" | "orders"; row: Row }[] = [];
  for (const [shard, c] of connections) {
    for (const table of ["accounts", "orders"] as const) {
      const exists = await c.query(
        "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        [table],
      );
      if (exists.length === 0) continue;
      for (const row of await c.query<Row>(`SELECT * FROM ${table}`))
        out.push({ shard, table, row });
    }
  }
  return out;
}
