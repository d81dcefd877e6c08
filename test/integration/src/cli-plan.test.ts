// `shardkit plan` and `shardkit apply` end to end on real servers: scale out from two shards to
// three (the plan file, the JSON lines of apply, every row present exactly once), apply killed
// mid-plan and run again, drain, and refusals (bad flags, unknown shard, a stale plan).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { formatKeyRange } from "@shardkit/directory";
import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, expectRefusal, shardkitBin } from "./cli-harness.js";
import { knexOf } from "./fixtures/databases.js";
import {
  createMoveCase,
  createMoverUser,
  type MoveCase,
  rowsOf,
  type TableName,
} from "./fixtures/move-cli-world.js";

let fleet: Fleet;
let a: FleetServer;
let b: FleetServer;
let work: string;

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
  [a, b] = fleet.servers as [FleetServer, FleetServer];
  await Promise.all([a, b].map(createMoverUser));
  work = mkdtempSync(join(tmpdir(), "shardkit-plan-"));
});

afterAll(async () => {
  await fleet?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function newCase(users = 150): Promise<MoveCase> {
  return createMoveCase({ servers: [a, b, b], directoryServer: a, users });
}

function linesOf(r: CliRun): Record<string, unknown>[] {
  return r.stdout
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Every row of both tables across the shards, as `table:key` -> how many shards hold it. */
async function copies(c: MoveCase, more: readonly Knex[] = []): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (const db of [c.db.s1, c.db.s2, c.db.s3, ...more]) {
    for (const table of ["accounts", "orders"] as TableName[]) {
      for (const key of (await rowsOf(db, table)).keys()) {
        seen.set(`${table}:${key}`, (seen.get(`${table}:${key}`) ?? 0) + 1);
      }
    }
  }
  return seen;
}

interface PlanDoc {
  directoryVersion: number;
  steps: { step: number; kind: string; range: string; from?: string; to?: string }[];
  shards: { shard: string; before: { bytes: number }; after: { bytes: number }; target: number }[];
  bytesMoved: number;
  lowerBoundBytes: number;
  withinImbalance: boolean;
  assumed: { by: string; maxImbalance: number; add: string[] };
  out: string;
}

describe("shardkit plan and apply", () => {
  it("scales out from two shards to four: a plan file, moves in parallel, one JSON line per event, every row once, balanced", async () => {
    const c = await newCase();
    const s4Url = await a.createDatabase("ms4");
    const s4 = knexOf(s4Url);
    try {
      expect((await c.cli(["shard", "add", "s4", s4Url])).code).toBe(0);
      const out = join(work, "scale.json");
      const p = await c.cli(["plan", "--add", "s3,s4", "--out", out, "--json"]);
      expect(p.code, p.stderr).toBe(0);
      const plan = JSON.parse(p.stdout) as PlanDoc;
      expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({
        format: "shardkit-plan",
        directoryVersion: plan.directoryVersion,
      });
      expect(plan.directoryVersion).toBe(await c.store.version());
      expect(plan.assumed).toMatchObject({ by: "bytes", maxImbalance: 10, add: ["s3", "s4"] });
      expect(plan.withinImbalance).toBe(true);
      expect(plan.bytesMoved).toBeGreaterThanOrEqual(plan.lowerBoundBytes);
      const moves = plan.steps.filter((s) => s.kind === "move");
      expect(moves.length).toBeGreaterThan(0);
      expect(moves.every((m) => m.to === "s3" || m.to === "s4")).toBe(true);
      const before = await copies(c, [s4]);

      const r = await c.cli(["apply", out, "--json", "--chunk-size", "50"]);
      expect(r.code, r.stderr).toBe(0);
      const lines = linesOf(r);
      expect(lines[0]).toMatchObject({ event: "apply", steps: plan.steps.length, alreadyDone: 0 });
      const started = lines.filter((l) => l.event === "started");
      expect(started).toHaveLength(moves.length);
      // Two moves on four different shards ran at once: one started before the other ended.
      const firstDone = lines.findIndex((l) => l.event === "done");
      const disjoint = moves.some((m) => moves.some((o) => o.from !== m.from && o.to !== m.to));
      expect(disjoint, JSON.stringify(moves)).toBe(true);
      expect(lines.slice(0, firstDone).filter((l) => l.event === "started").length).toBe(2);
      for (const s of started) expect(s.moveId).toMatch(/^[0-9a-f-]{36}$/);
      const done = lines.filter((l) => l.event === "done") as {
        moveId: string;
        step: number;
        summary: { pauseMs: number; state: string };
      }[];
      expect(done.map((d) => d.moveId).sort()).toEqual(started.map((s) => s.moveId).sort());
      for (const d of done) {
        expect(d.summary.state).toBe("done");
        expect(d.summary.pauseMs).toBeGreaterThanOrEqual(0);
      }
      const last = lines.at(-1) as { event: string; moves: { pauseMs: number }[]; splits: number };
      expect(last.event).toBe("applied");
      expect(last.moves).toHaveLength(moves.length);
      expect(last.splits).toBe(plan.steps.length - moves.length);

      // Every row exactly once, none lost or doubled.
      const after = await copies(c, [s4]);
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      expect([...after.values()].every((n) => n === 1)).toBe(true);
      // The shards as planned: measured again, each within 10% of its share.
      const again = await c.cli(["plan", "--json"]);
      const now = JSON.parse(again.stdout) as PlanDoc;
      expect(now.steps).toEqual([]);
      for (const s of now.shards) {
        expect(Math.abs(s.before.bytes - s.target)).toBeLessThanOrEqual(s.target * 0.1);
        expect(s.before.bytes).toBe(plan.shards.find((x) => x.shard === s.shard)?.after.bytes);
      }
      // Running the plan again does nothing.
      const rerun = await c.cli(["apply", out, "--json"]);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(linesOf(rerun).at(-1)).toMatchObject({
        event: "applied",
        alreadyDone: plan.steps.length,
        moves: [],
      });
    } finally {
      await s4.destroy();
      await c.close();
    }
  });

  it("continues a plan stopped by Ctrl-C, then killed mid-move, and refuses it once the directory changed", async () => {
    const c = await newCase();
    try {
      const out = join(work, "crash.json");
      const p = await c.cli([
        "plan",
        "--add",
        "s3",
        "--max-imbalance",
        "5",
        "--out",
        out,
        "--json",
      ]);
      expect(p.code, p.stderr).toBe(0);
      const plan = JSON.parse(p.stdout) as PlanDoc;
      // Ctrl-C at the first copy: exit 130, one line saying how to continue.
      const stopped = await spawnApply(c, out, {}, true);
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(stopped.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(stopped.stderr).toMatch(/interrupted by Ctrl-C .*continue with shardkit apply /);
      expect((stopped.lines.at(-1) as { error?: { code: string } }).error?.code).toBe(
        "MOVE_CANCELLED",
      );
      // Run again and killed (SIGKILL) right after a freeze: the range is left frozen mid-cutover.
      const killed = await spawnApply(c, out, { SHARDKIT_FAILPOINT: "after-freeze" });
      expect(killed.signal, killed.stderr).toBe("SIGKILL");
      expect(killed.lines[0]).toMatchObject({ event: "apply" });
      const version = await c.store.version();
      expect(version).toBeGreaterThan(plan.directoryVersion);

      const r = await c.cli(["apply", out, "--json", "--lease-ttl-ms", "1000"]);
      expect(r.code, r.stderr).toBe(0);
      const lines = linesOf(r);
      expect((lines[0] as { alreadyDone: number }).alreadyDone).toBeGreaterThan(0);
      expect(lines.at(-1)).toMatchObject({ event: "applied" });
      const after = await copies(c);
      expect([...after.values()].every((n) => n === 1)).toBe(true);
      expect(after.size).toBe(150 + 300);
      const snapshot = await c.store.snapshot();
      for (const m of plan.steps.filter((s) => s.kind === "move")) {
        expect(snapshot.ranges.find((x) => m.range === formatKeyRange(x.range))?.shard).toBe("s3");
      }
      expect(snapshot.moves).toEqual([]);

      // Someone splits a range the plan never split: the plan is refused, naming it, and nothing changes.
      const split = await c.cli([
        "split",
        formatKeyRange(snapshot.ranges[0]?.range as { start: number; end: number }),
      ]);
      expect(split.code, split.stderr).toBe(0);
      const v = await c.store.version();
      const stale = await c.cli(["apply", out]);
      expectRefusal(
        stale,
        4,
        /the directory changed since the plan was made .*a range now starts at .*; make a new plan/,
      );
      expect(await c.store.version()).toBe(v);
    } finally {
      await c.close();
    }
  });

  it("drains a shard: it ends owning nothing, every row once", async () => {
    const c = await newCase(100);
    try {
      const out = join(work, "drain.json");
      const p = await c.cli(["plan", "--drain", "s2", "--add", "s3", "--out", out]);
      expect(p.code, p.stderr).toBe(0);
      expect(p.stdout).toMatch(/s2 \(drain\)/);
      const r = await c.cli(["apply", out, "--parallel", "2"]);
      expect(r.code, r.stderr).toBe(0);
      // Without a terminal the progress is JSON lines, the summary last.
      expect(linesOf(r).at(-1)).toMatchObject({ event: "applied", alreadyDone: 0 });
      const snapshot = await c.store.snapshot();
      expect(snapshot.ranges.filter((x) => x.shard === "s2")).toEqual([]);
      const after = await copies(c);
      expect(after.size).toBe(100 + 200);
      expect([...after.values()].every((n) => n === 1)).toBe(true);
      expect((await rowsOf(c.db.s2, "accounts")).size).toBe(0);
    } finally {
      await c.close();
    }
  });

  it("weighs shards (--weight) and balances rows (--by rows)", async () => {
    const c = await newCase(120);
    try {
      const p = await c.cli(["plan", "--add", "s3", "--weight", "s3=2", "--by", "rows", "--json"]);
      expect(p.code, p.stderr).toBe(0);
      const plan = JSON.parse(p.stdout) as PlanDoc & {
        shards: { shard: string; weight: number; target: number; after: { rows: number } }[];
        assumed: { weights: Record<string, number> };
      };
      expect(plan.assumed).toMatchObject({ by: "rows", weights: { s3: 2 } });
      const [s1, s3] = ["s1", "s3"].map((n) => plan.shards.find((s) => s.shard === n)) as [
        (typeof plan.shards)[number],
        (typeof plan.shards)[number],
      ];
      // 120 users, 3 rows each: s3's share is half of the 360 rows, s1's a quarter.
      expect(s3.target).toBe(180);
      expect(s1.target).toBe(90);
      expect(plan.withinImbalance).toBe(true);
      expect(Math.abs(s3.after.rows - 180)).toBeLessThanOrEqual(18);
    } finally {
      await c.close();
    }
  });

  it("refuses bad input with one line and its exit status, changing nothing", async () => {
    const c = await newCase(20);
    try {
      const v = await c.store.version();
      expectRefusal(
        await c.cli(["plan", "--add", "s9"]),
        3,
        /unknown shard s9: register it first with shardkit shard add s9/,
      );
      expectRefusal(
        await c.cli(["plan", "--drain", "s9"]),
        3,
        /unknown shard s9: register it first/,
      );
      expectRefusal(
        await c.cli(["plan", "--max-imbalance", "abc"]),
        2,
        /invalid --max-imbalance "abc"/,
      );
      expectRefusal(
        await c.cli(["plan", "--weight", "s1"]),
        2,
        /invalid --weight "s1": write shard=weight/,
      );
      expectRefusal(await c.cli(["plan", "--sample", "2"]), 2, /invalid --sample "2"/);
      expectRefusal(await c.cli(["plan", "--drain", "s1,s2"]), 2, /every shard would be drained/);
      const bad = join(work, "bad.json");
      writeFileSync(bad, '{"hello": 1}');
      expectRefusal(await c.cli(["apply", bad]), 2, /is not a shardkit plan/);
      expectRefusal(await c.cli(["apply", join(work, "none.json")]), 2, /cannot read plan file/);
      const j = await c.cli(["--json", "apply", bad]);
      expect(JSON.parse(j.stdout)).toMatchObject({ error: { code: "BAD_PLAN" } });
      expect(await c.store.version()).toBe(v);
    } finally {
      await c.close();
    }
  });
});

/** `shardkit apply <plan> --json` in a child process: killed by a failpoint, or sent Ctrl-C (SIGINT) at its first copy. */
function spawnApply(
  c: MoveCase,
  plan: string,
  env: NodeJS.ProcessEnv,
  interruptAtCopy = false,
): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  lines: Record<string, unknown>[];
}> {
  const child: ChildProcess = spawn(
    process.execPath,
    [shardkitBin, "apply", plan, "--json", "--chunk-size", "20", "--lease-ttl-ms", "1000"],
    { env: { ...process.env, ...c.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  const lines: Record<string, unknown>[] = [];
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    if (interruptAtCopy && line.event === "copy" && !child.killed) child.kill("SIGINT");
  });
  return new Promise((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stderr, lines })),
  );
}
