// Loads the demo's users and orders through the router, in batches of rows that live on one
// shard, with a progress bar (or a line per tenth on a pipe).
import type { Router } from "@shardkit/router";
import cliProgress from "cli-progress";
import type { DemoModel } from "./demo-model.js";
import { initialOrder, initialUser } from "./demo-schema.js";

/** Options for {@link loadDemoRows}. */
export interface LoadOptions {
  readonly users: number;
  readonly orders: number;
  /** Rows per INSERT. Default 500. */
  readonly batchSize?: number;
  /** INSERTs in flight. Default 4. */
  readonly concurrency?: number;
  /** Where the bar is drawn; a line per tenth when it is not a terminal. Default process.stderr. */
  readonly stream?: NodeJS.WriteStream;
}

/** Rows of one table grouped by the shard that owns each row's user_id, cut into batches. */
function batchesOf<T extends { user_id: number }>(
  router: Router,
  table: string,
  rows: Iterable<T>,
  size: number,
): T[][] {
  const byShard = new Map<string, T[]>();
  const batches: T[][] = [];
  for (const row of rows) {
    const shard = router.locate(row.user_id, { table }).shard;
    const open = byShard.get(shard) ?? [];
    open.push(row);
    if (open.length === size) {
      batches.push(open);
      byShard.set(shard, []);
    } else byShard.set(shard, open);
  }
  for (const rest of byShard.values()) if (rest.length > 0) batches.push(rest);
  return batches;
}

function* range<T>(n: number, make: (i: number) => T): Generator<T> {
  for (let i = 1; i <= n; i++) yield make(i);
}

/**
 * Inserts users 1..users and orders 1..orders through `router.insert` (fenced, each batch on
 * its owner) and records them in `model`; returns the rows per second.
 */
export async function loadDemoRows(
  router: Router,
  model: DemoModel,
  options: LoadOptions,
): Promise<{ rows: number; seconds: number }> {
  const size = options.batchSize ?? 500;
  const stream = options.stream ?? process.stderr;
  const work = [
    ...batchesOf(router, "users", range(options.users, initialUser), size).map((rows) => ({
      table: "users",
      rows,
    })),
    ...batchesOf(
      router,
      "orders",
      range(options.orders, (i) => initialOrder(i, options.users)),
      size,
    ).map((rows) => ({ table: "orders", rows })),
  ];
  const total = options.users + options.orders;
  const bar = stream.isTTY
    ? new cliProgress.SingleBar(
        {
          stream,
          format: "loading  [{bar}] {percentage}%  {value}/{total} rows  {rate} rows/s  eta {eta}s",
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { rate: 0 });
  const started = performance.now();
  let done = 0;
  let nextTenth = 1;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let item = work[next++]; item; item = work[next++]) {
      await router.insert(item.table, item.rows);
      for (const row of item.rows) {
        if (item.table === "users") model.users.set(row.user_id, row as never);
        else model.orders.set((row as { order_id: number }).order_id, row as never);
      }
      done += item.rows.length;
      const rate = Math.round(done / ((performance.now() - started) / 1000));
      bar?.update(done, { rate });
      if (!bar && done >= (total * nextTenth) / 10) {
        stream.write(`loading: ${done}/${total} rows (${rate} rows/s)\n`);
        while (done >= (total * nextTenth) / 10) nextTenth++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  } finally {
    bar?.stop();
  }
  return { rows: done, seconds: (performance.now() - started) / 1000 };
}
