// `shardkit stats` and `shardkit forecast` on real servers: the exact scan against counts made
// independently, a sample within its printed bound, snapshots stored in the directory, the
// forecast from them, `forecast --plan`, and refusals.
import { hashKeyFunction, parseKeyRange } from "@shardkit/directory";
import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRefusal } from "./cli-harness.js";
import { createMoveCase, createMoverUser, type MoveCase } from "./fixtures/move-cli-world.js";

let fleet: Fleet;
let a: FleetServer;
let c: MoveCase;
const USERS = 3000;

beforeAll(async () => {
  fleet = await startFleet({ servers: 1 });
  [a] = fleet.servers as [FleetServer];
  await createMoverUser(a);
  c = await createMoveCase({
    servers: [a, a, a],
    directoryServer: a,
    users: USERS,
    ordersPerUser: 2,
  });
  // Four ranges, so that each is measured on its own.
  for (const r of ["-80", "80-"]) expect((await c.cli(["split", r])).code).toBe(0);
});

afterAll(async () => {
  await c?.close();
  await fleet?.stop();
});

interface StatsDoc {
  directoryVersion: number;
  sample: number | null;
  ranges: {
    range: string;
    shard: string;
    rows: number;
    bytes: number;
    tables: Record<string, { rows: number; bytes: number }>;
  }[];
  shards: { shard: string; rows: number; bytes: number; ranges: number }[];
  tables: { table: string; rows: number; bytes: number }[];
  topKeys: { table: string; key: string; shard: string; rows: number }[];
  bounds?: { range: string; rows: number; bytes: number }[];
  snapshotId: number | null;
  totalRows: number;
  totalBytes: number;
}

/** Users per range, counted here from the key function alone. */
function usersIn(range: string): number {
  const r = parseKeyRange(range);
  let n = 0;
  for (let u = 1; u <= USERS; u++) {
    const k = hashKeyFunction.ksid(u);
    if (r.start <= k && k < r.end) n++;
  }
  return n;
}

describe("shardkit stats", () => {
  it("counts every range's rows exactly, per table and shard, and stores a snapshot", async () => {
    // One whale: user 7 gets 40 more orders.
    await c.db[hashKeyFunction.ksid(7) < 0x8000_0000 ? "s1" : "s2"]("orders").insert(
      Array.from({ length: 40 }, (_, i) => ({ user_id: 7, order_id: 100 + i, amount: 1 })),
    );
    const r = await c.cli(["stats", "--json", "--top", "3"]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as StatsDoc;
    expect(s.sample).toBeNull();
    expect(s.ranges.map((x) => x.range)).toEqual(["-40", "40-80", "80-c0", "c0-"]);
    const whale = hashKeyFunction.ksid(7);
    for (const x of s.ranges) {
      const n = usersIn(x.range);
      const extra =
        parseKeyRange(x.range).start <= whale && whale < parseKeyRange(x.range).end ? 40 : 0;
      expect(x.tables.accounts?.rows).toBe(n);
      expect(x.tables.orders?.rows).toBe(2 * n + extra);
      expect(x.rows).toBe(3 * n + extra);
    }
    // Bytes: the lengths of every value, as one server sums them.
    const [[acc]] = (await c.db.s1.raw(
      "SELECT SUM(LENGTH(user_id) + LENGTH(balance) + LENGTH(name)) AS b FROM accounts",
    )) as [[{ b: string }]];
    const [[acc2]] = (await c.db.s2.raw(
      "SELECT SUM(LENGTH(user_id) + LENGTH(balance) + LENGTH(name)) AS b FROM accounts",
    )) as [[{ b: string }]];
    expect(s.tables.find((t) => t.table === "accounts")?.bytes).toBe(
      Number(acc.b) + Number(acc2.b),
    );
    expect(s.shards.find((x) => x.shard === "s3")).toMatchObject({ rows: 0, bytes: 0, ranges: 0 });
    expect(s.totalRows).toBe(3 * USERS + 40);
    expect(s.topKeys[0]).toMatchObject({ table: "orders", key: "7", rows: 42 });
    expect(s.topKeys).toHaveLength(3);
    const stored = await c.store.listStats();
    expect(stored.at(-1)).toMatchObject({
      id: s.snapshotId,
      totalRows: s.totalRows,
      totalBytes: s.totalBytes,
      sample: null,
    });
  });

  it("estimates from a sample, each range within the bound it prints", async () => {
    const exact = JSON.parse((await c.cli(["stats", "--json", "--no-store"])).stdout) as StatsDoc;
    expect(exact.snapshotId).toBeNull();
    // Not stored, so that the forecast below sees exact snapshots only.
    for (const fraction of [0.1, 0.25, 0.5]) {
      const r = await c.cli(["stats", "--json", "--sample", String(fraction), "--no-store"]);
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as StatsDoc;
      expect(s.sample).toBe(fraction);
      for (const [i, x] of s.ranges.entries()) {
        const truth = exact.ranges[i] as StatsDoc["ranges"][number];
        const bound = s.bounds?.[i] as { rows: number; bytes: number };
        const what = `${fraction} of ${x.range}: ${x.rows} rows vs ${truth.rows} ± ${bound.rows}, ${x.bytes} bytes vs ${truth.bytes} ± ${bound.bytes}`;
        expect(bound.rows).toBeGreaterThan(0);
        expect(Math.abs(x.rows - truth.rows), what).toBeLessThanOrEqual(bound.rows);
        expect(Math.abs(x.bytes - truth.bytes), what).toBeLessThanOrEqual(bound.bytes);
      }
      // A sample reads fewer rows: the estimate is not simply the exact count.
      expect(s.ranges.some((x, i) => x.rows !== exact.ranges[i]?.rows)).toBe(true);
    }
    const text = await c.cli(["stats", "--sample", "0.25", "--no-store"]);
    expect(text.stdout).toMatch(/estimated from a 0.25 sample .* ± its bound/);
    expect(text.stdout).toMatch(/-40 +s1 +[\d,]+ ± [\d,]+/);
  });
});

describe("shardkit forecast", () => {
  it("fits the growth from stored snapshots and plans the shards needed (--plan)", async () => {
    const latest = (await c.store.listStats()).at(-1);
    if (!latest) throw new Error("no snapshot");
    // A measurement two months before the last, with 100/121 of its bytes: 10% a month.
    const older = new Date(latest.takenAt.getTime() - 2 * 30.436875 * 24 * 3600 * 1000);
    const shards = (latest.report.shards as { shard: string; bytes: number }[]).map((x) => ({
      ...x,
      bytes: (x.bytes * 100) / 121,
    }));
    await c.store.recordStats({
      takenAt: older,
      directoryVersion: latest.directoryVersion,
      sample: null,
      totalRows: 1,
      totalBytes: 1,
      report: { shards },
    });
    const capacity = Math.ceil(latest.totalBytes * 0.6);
    const r = await c.cli(["forecast", "--capacity", String(capacity), "--months", "3", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout) as {
      growthPercentPerMonth: number;
      growthFrom: string;
      shardsNeeded: number;
      months: { shardsNeeded: number }[];
      shards: { shard: string; fullInMonths: number | null }[];
    };
    expect(f.growthFrom).toBe("history");
    expect(f.growthPercentPerMonth).toBeCloseTo(10, 3);
    // 1.1^3 * total / (0.6 total) = 2.2 -> 3 shards.
    expect(f.shardsNeeded).toBe(3);
    expect(f.shards.find((s) => s.shard === "s3")?.fullInMonths).toBeNull();
    const p = await c.cli([
      "forecast",
      "--capacity",
      String(capacity),
      "--months",
      "3",
      "--plan",
      "--json",
    ]);
    expect(p.code, p.stderr).toBe(0);
    const plan = (
      JSON.parse(p.stdout) as {
        plan: { assumed: { add: string[] }; steps: { kind: string; to?: string }[] };
      }
    ).plan;
    expect(plan.assumed.add).toEqual(["s3"]);
    expect(plan.steps.filter((s) => s.kind === "move").every((s) => s.to === "s3")).toBe(true);
    const given = await c.cli(["forecast", "--capacity", "1T", "--growth", "0", "--json"]);
    expect(JSON.parse(given.stdout)).toMatchObject({ growthFrom: "given", shardsNeeded: 2 });
  });

  it("refuses bad input with one line and its exit status, changing nothing", async () => {
    const v = await c.store.version();
    const n = (await c.store.listStats()).length;
    expectRefusal(await c.cli(["forecast"]), 2, /give the bytes one shard holds with --capacity/);
    expectRefusal(await c.cli(["forecast", "--capacity", "lots"]), 2, /invalid --capacity "lots"/);
    expectRefusal(
      await c.cli(["forecast", "--capacity", "1G", "--months", "0"]),
      2,
      /invalid --months "0"/,
    );
    expectRefusal(
      await c.cli(["forecast", "--capacity", "1G", "--out", "x.json"]),
      2,
      /--out writes the plan of --plan/,
    );
    expectRefusal(
      await c.cli(["forecast", "--capacity", "1K", "--plan", "--months", "1"]),
      2,
      /register \d+ more with shardkit shard add/,
    );
    expectRefusal(await c.cli(["stats", "--sample", "0"]), 2, /invalid --sample "0"/);
    expect(await c.store.version()).toBe(v);
    expect((await c.store.listStats()).length).toBe(n);
  });
});
