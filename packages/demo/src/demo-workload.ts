// The application's load during the scale-out: writers through the router (update a user's
// balance, add an order, delete an order) and reads that must see the writer's own last
// acknowledged value. Every write's latency is recorded with the time it started.
import { setTimeout as sleep } from "node:timers/promises";
import type { Router } from "@shardkit/router";
import type { DemoModel } from "./demo-model.js";
import type { OrderRow } from "./demo-schema.js";

/** One write as the application saw it: when it started (ms since the workload started) and how long it took. */
export interface WriteSample {
  readonly at: number;
  readonly ms: number;
  readonly op: "balance" | "order" | "delete";
  readonly ok: boolean;
}

/** What the workload did, for the checks and the report. */
export interface WorkloadOutcome {
  /** When the workload started, as `performance.now()` (cutover times are given on the same clock). */
  readonly startedAt: number;
  readonly seconds: number;
  readonly writes: readonly WriteSample[];
  readonly reads: number;
  /** Reads that did not return the reader's own last acknowledged write. */
  readonly staleReads: readonly string[];
  /** Writes the application saw fail (their rows are left unchecked). */
  readonly errors: readonly string[];
}

/** Options for {@link startWorkload}. */
export interface WorkloadOptions {
  /** Concurrent writers, each owning the users whose id modulo this is its index. Default 8. */
  readonly writers?: number;
  /** Operations per second over all writers (a fifth are reads). Default 400. */
  readonly opsPerSecond?: number;
  /** Users 1..users exist; new orders get ids from `firstOrderId`. */
  readonly users: number;
  readonly firstOrderId: number;
  /** Order ids 1..initialOrders were loaded (deletes pick among them). */
  readonly initialOrders: number;
}

/** A workload running until {@link RunningWorkload.stop}. */
export interface RunningWorkload {
  /** Writes acknowledged so far. */
  acknowledged(): number;
  /** Stops after the operations in flight; resolves with what happened. */
  stop(): Promise<WorkloadOutcome>;
}

/** A small deterministic generator (mulberry32), so two runs make the same choices. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function describe(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  return `${e.code ?? "error"}: ${String(e.message ?? error)}`;
}

/**
 * Starts the writers. Each acknowledged write is applied to `model` at once; a failed one marks
 * the rows it touched uncertain. Each writer is alone on its users, so its reads must see its writes.
 */
export function startWorkload(
  router: Router,
  model: DemoModel,
  options: WorkloadOptions,
): RunningWorkload {
  const writers = options.writers ?? 8;
  const interval = (1000 * writers) / (options.opsPerSecond ?? 400);
  const startedAt = performance.now();
  const writes: WriteSample[] = [];
  const staleReads: string[] = [];
  const errors: string[] = [];
  let reads = 0;
  let stopped = false;
  let nextOrder = options.firstOrderId;

  const loop = async (index: number): Promise<void> => {
    const random = seeded(1000 + index);
    const mine = (): number => {
      const u = Math.floor(random() * (options.users / writers)) * writers + index;
      return u === 0 ? writers : u;
    };
    let due = performance.now();
    while (!stopped) {
      due += interval;
      const op = random();
      const t0 = performance.now();
      const record = (kind: WriteSample["op"], ok: boolean): void => {
        writes.push({ at: t0 - startedAt, ms: performance.now() - t0, op: kind, ok });
      };
      if (op < 0.35) {
        const user = mine();
        const balance = Math.floor(random() * 1_000_000);
        try {
          await router.write(
            user,
            (trx) => trx("users").where({ user_id: user }).update({ balance }),
            { table: "users" },
          );
          record("balance", true);
          const row = model.users.get(user);
          if (row) model.users.set(user, { ...row, balance });
        } catch (error) {
          record("balance", false);
          errors.push(describe(error));
          model.uncertain.add(`users:${user}`);
        }
      } else if (op < 0.65) {
        const user = mine();
        const order: OrderRow = {
          order_id: nextOrder++,
          user_id: user,
          amount: Math.floor(random() * 100_000),
          note: `new order of ${user}`,
        };
        try {
          await router.insert("orders", order);
          record("order", true);
          model.orders.set(order.order_id, order);
        } catch (error) {
          record("order", false);
          errors.push(describe(error));
          model.uncertain.add(`orders:${order.order_id}`);
        }
      } else if (op < 0.8) {
        // An order of one of this writer's users, still there.
        let id = 0;
        for (let tries = 0; tries < 5 && id === 0; tries++) {
          const pick = 1 + Math.floor(random() * options.initialOrders);
          const row = model.orders.get(pick);
          if (row && row.user_id % writers === index % writers) id = pick;
        }
        const row = model.orders.get(id);
        if (row) {
          try {
            await router.write(
              row.user_id,
              (trx) => trx("orders").where({ order_id: id, user_id: row.user_id }).delete(),
              { table: "orders" },
            );
            record("delete", true);
            model.orders.delete(id);
            model.deleted.orders.add(id);
          } catch (error) {
            record("delete", false);
            errors.push(describe(error));
            model.uncertain.add(`orders:${id}`);
          }
        }
      } else {
        const user = mine();
        try {
          const row = (await router
            .read(user, { table: "users" })("users")
            .where({ user_id: user })
            .first()) as { balance: unknown } | undefined;
          reads++;
          const want = model.users.get(user);
          if (
            want &&
            !model.uncertain.has(`users:${user}`) &&
            Number(row?.balance) !== want.balance
          )
            staleReads.push(
              `user ${user}: read balance ${row?.balance} after the acknowledged write set ${want.balance}`,
            );
        } catch (error) {
          errors.push(`read: ${describe(error)}`);
        }
      }
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      else due = performance.now();
    }
  };

  const running = Array.from({ length: writers }, (_, i) => loop(i));
  return {
    acknowledged: () => writes.filter((w) => w.ok).length,
    stop: async () => {
      stopped = true;
      await Promise.all(running);
      return {
        startedAt,
        seconds: (performance.now() - startedAt) / 1000,
        writes,
        reads,
        staleReads,
        errors,
      };
    },
  };
}
