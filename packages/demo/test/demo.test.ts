// The demo's parts on real servers: the exactly-once check finds each way a write can go wrong,
// and a small run of the whole demo passes its checks, writes its report and leaves no server.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  checkExactlyOnce,
  createDemoTables,
  DEMO_SHARDED,
  emptyModel,
  loadDemoRows,
  runDemo,
} from "@shardkit/demo";
import { MysqlDirectoryStore } from "@shardkit/directory";
import { type Fleet, fleetRoot, startFleet } from "@shardkit/fleet";
import { createRouter, type Router } from "@shardkit/router";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const shardkitBin = resolve(import.meta.dirname, "../../cli/bin/shardkit.js");

async function sql(url: string, statement: string, params: unknown[] = []): Promise<void> {
  const conn = await mysql.createConnection(url);
  try {
    await conn.query(statement, params);
  } finally {
    await conn.end();
  }
}

describe("the exactly-once check", () => {
  let fleet: Fleet;
  let router: Router;
  let urls: Record<string, string>;

  beforeAll(async () => {
    fleet = await startFleet({ servers: 2 });
    const [a] = fleet.servers;
    const directory = await (a as NonNullable<typeof a>).createDatabase("dir");
    const store = new MysqlDirectoryStore({ directory });
    await store.init();
    urls = {};
    for (const server of fleet.servers) {
      urls[server.name] = server.url;
      await store.addShard({ ...server, name: server.name, database: server.database });
      await createDemoTables(server.url);
    }
    for (const { table, key } of DEMO_SHARDED)
      await store.addTable({ name: table, keyColumn: key, keyFunction: "hash" });
    await store.layoutEven(2);
    await store.close();
    router = await createRouter({ directory });
  });

  afterAll(async () => {
    await router?.close();
    await fleet?.stop();
  });

  it("passes rows as acknowledged, and names a lost row, a copy on a second shard, a stale value and a deleted row still there", async () => {
    const model = emptyModel();
    await loadDemoRows(router, model, {
      users: 50,
      orders: 150,
      stream: { write: () => true } as never,
    });
    const clean = await checkExactlyOnce(router, ["s1", "s2"], model);
    expect(clean.problems).toEqual([]);
    const total = Object.values(clean.rowsByShard).flatMap((t) => Object.values(t));
    expect(total.reduce((x, y) => x + y, 0)).toBe(200);

    const owner = (table: string, user: number) => router.locate(user, { table }).shard;
    const other = (shard: string) => (shard === "s1" ? "s2" : "s1");
    const order2 = model.orders.get(2);
    if (!order2) throw new Error("order 2 was not loaded");
    // Lost: user 1 is gone from its owner.
    await sql(urls[owner("users", 1)] as string, "DELETE FROM users WHERE user_id = 1");
    // Twice: order 2 also on the other shard.
    await sql(
      urls[other(owner("orders", order2.user_id))] as string,
      "INSERT INTO orders (order_id, user_id, amount, note) VALUES (?, ?, ?, ?)",
      [order2.order_id, order2.user_id, order2.amount, order2.note],
    );
    // Stale: user 3's balance is not the last acknowledged one.
    await sql(urls[owner("users", 3)] as string, "UPDATE users SET balance = -1 WHERE user_id = 3");
    // Resurrected: the application deleted order 4, the shard still has it.
    model.orders.delete(4);
    model.deleted.orders.add(4);

    const report = await checkExactlyOnce(router, ["s1", "s2"], model);
    expect(report.problems).toHaveLength(5);
    expect(report.problems).toEqual(
      expect.arrayContaining([
        "users 1 was acknowledged but is on no shard (lost)",
        "orders 2 is on 2 shards: s1, s2",
        expect.stringMatching(/^orders 2 \(user \d+\) is on s\d, owned by s\d$/),
        expect.stringMatching(
          /^users 3 on s\d has balance=-1; the last acknowledged write set \d+$/,
        ),
        expect.stringMatching(/^orders 4 is on s\d but was deleted$/),
      ]),
    );
  });
});

describe("a small run of the demo", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sk-demo-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("scales 2 shards to 4 under load, passes every check, writes the report and stops every server", async () => {
    const reportFile = join(dir, "report.html");
    const lines: string[] = [];
    const result = await runDemo({
      shardkitBin,
      rows: 2000,
      opsPerSecond: 100,
      settleSeconds: 0.5,
      reportFile,
      log: (line) => lines.push(line),
    });
    expect(result.data.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(Object.values(result.data.before)).toEqual([
      expect.any(Number),
      expect.any(Number),
      0,
      0,
    ]);
    expect(Object.keys(result.data.after)).toEqual(["s1", "s2", "s3", "s4"]);
    expect(Object.values(result.data.after).reduce((x, y) => x + y, 0)).toBeGreaterThan(2000 * 0.9);
    // At least one move into each new shard, each with its measured pause (the plan decides how many).
    expect(result.data.cutovers.length).toBeGreaterThanOrEqual(2);
    for (const c of result.data.cutovers) expect(c.pauseMs).toEqual(expect.any(Number));
    expect(result.data.writes.length).toBeGreaterThan(0);
    expect(result.summary).toMatch(/demo passed/);
    expect(readFileSync(reportFile, "utf8")).toContain("all checks passed");
    expect(existsSync(join(dir, "report.json"))).toBe(true);
    expect(lines).toContain("stopped every server and removed their data");
    const mine = existsSync(fleetRoot())
      ? readdirSync(fleetRoot()).filter((d) => d.startsWith(`${process.pid}-`))
      : [];
    expect(mine).toEqual([]);
  });
});
