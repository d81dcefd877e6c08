// `shardkit move` end to end on real servers, run in-process through main(): a whole move as
// JSON lines, a dry run, --stop-after then `move cutover`, abort, `moves` and `move status`,
// the bars and summary on a terminal, and one key. The mover logs in with only its grants.
import { Writable } from "node:stream";
import { main } from "@shardkit/cli";
import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import { createRouter } from "@shardkit/router";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliRun } from "./cli-harness.js";
import {
  createMoveCase,
  createMoverUser,
  fingerprint,
  inRange,
  MOVER,
  type MoveCase,
  rowsOf,
  type TableName,
} from "./fixtures/move-cli-world.js";

let fleet: Fleet;
let a: FleetServer;
let b: FleetServer;

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
  [a, b] = fleet.servers as [FleetServer, FleetServer];
  await Promise.all([a, b].map(createMoverUser));
});

afterAll(async () => {
  await fleet?.stop();
});

const Q = 0x4000_0000;
const AS_MOVER = ["--user", MOVER.user];

/** A case with s1 on the first server and s2, s3 on the second. */
function newCase(users = 120): Promise<MoveCase> {
  return createMoveCase({ servers: [a, b, b], directoryServer: a, users });
}

/** The JSON lines a run printed on stdout. */
function linesOf(r: CliRun): Record<string, unknown>[] {
  expect(r.stderr, r.stderr).toBe("");
  return r.stdout
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

interface SummaryLine {
  event: "done";
  summary: {
    moveId: string;
    state: string;
    rowsCopied: number;
    eventsApplied: number;
    pauseMs: number | null;
    rowsDeleted: number;
    dryRun: boolean;
    verify: { mode: string; differences: number } | null;
    phaseMs: Record<string, number>;
  };
}

/** The summary: the last line of a run's JSON lines. */
function summaryOf(r: CliRun): SummaryLine["summary"] {
  const last = linesOf(r).at(-1) as unknown as SummaryLine;
  expect(last.event).toBe("done");
  return last.summary;
}

/** Rows of both tables on a shard whose user is in [start, end), and the others. */
async function split(c: MoveCase, shard: "s1" | "s2" | "s3", start: number, end: number) {
  const inside: Record<string, unknown> = {};
  const outside: Record<string, unknown> = {};
  for (const table of ["accounts", "orders"] as TableName[]) {
    for (const [key, row] of await rowsOf(c.db[shard], table)) {
      const target = inRange(Number(row.user_id), start, end) ? inside : outside;
      target[`${table}:${key}`] = row;
    }
  }
  return { inside, outside };
}

describe("shardkit move", () => {
  it("moves a range end to end: the id first, one JSON line per event, the summary last", async () => {
    const c = await newCase();
    try {
      const before = await split(c, "s1", 0, Q);
      const moved = Object.keys(before.inside).length;
      expect(moved).toBeGreaterThan(50);
      const r = await c.cli(["move", "-40", "--to", "s3", "--chunk-size", "25", ...AS_MOVER]);
      expect(r.code, r.stderr).toBe(0);
      const lines = linesOf(r);
      expect(lines[0]).toMatchObject({
        event: "started",
        source: "s1",
        target: "s3",
        range: "-40",
      });
      const id = lines[0]?.moveId as string;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const phases = lines.filter((l) => l.event === "phase").map((l) => l.phase);
      expect(phases).toEqual(
        expect.arrayContaining([
          "copying",
          "copied",
          "verifying",
          "verified",
          "switched",
          "cleaning",
          "done",
        ]),
      );
      expect(lines.some((l) => l.event === "copy")).toBe(true);
      expect(lines.filter((l) => l.event === "done")).toHaveLength(1);
      const s = summaryOf(r);
      expect(s).toMatchObject({
        moveId: id,
        state: "done",
        rowsCopied: moved,
        rowsDeleted: moved,
        dryRun: false,
      });
      expect(s.verify).toMatchObject({ mode: "checksum", differences: 0 });
      expect(s.pauseMs).toEqual(expect.any(Number));
      expect(Object.keys(s.phaseMs)).toEqual(
        expect.arrayContaining(["copying", "verifying", "cutting_over", "cleaning"]),
      );
      // The rows of -40 are on s3, exactly, and nowhere else; s1 kept the rest.
      expect((await split(c, "s3", 0, Q)).inside).toEqual(before.inside);
      expect((await split(c, "s3", 0, Q)).outside).toEqual({});
      const after = await split(c, "s1", 0, Q);
      expect(after.inside).toEqual({});
      expect(after.outside).toEqual(before.outside);
      const ranges = await c.store.snapshot();
      expect(ranges.ranges.find((x) => x.range.start === 0)).toMatchObject({
        shard: "s3",
        state: "serving",
      });
    } finally {
      await c.close();
    }
  });

  it("changes nothing with --dry-run", async () => {
    const c = await newCase(40);
    try {
      const state = async () => ({
        version: await c.store.version(),
        moves: await c.store.listMoves(),
        s1: await fingerprint(c.db.s1),
        s3: await fingerprint(c.db.s3),
      });
      const before = await state();
      const r = await c.cli(["--json", "move", "-40", "--to", "s3", "--dry-run", ...AS_MOVER]);
      expect(r.code, r.stderr).toBe(0);
      expect(summaryOf(r)).toMatchObject({ dryRun: true, rowsCopied: 0 });
      expect(await state()).toEqual(before);
    } finally {
      await c.close();
    }
  });

  it("stops after the copy, lists and shows the move, verifies, cuts over with the writes made meanwhile, cleans up", async () => {
    const c = await newCase();
    try {
      const r = await c.cli(["move", "-40", "--to", "s3", "--stop-after", "copy", ...AS_MOVER]);
      expect(r.code, r.stderr).toBe(0);
      const first = summaryOf(r);
      expect(first).toMatchObject({ state: "copied", pauseMs: null, rowsDeleted: 0 });
      const id = first.moveId;

      const list = await c.cli(["moves"]);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^ID\s+WHAT\s+SOURCE\s+TARGET\s+STATUS\s+UPDATED\n/);
      expect(list.stdout).toContain(`${id}  -40   s1      s3      copied`);
      const listed = JSON.parse((await c.cli(["--json", "moves"])).stdout) as Record<
        string,
        unknown
      >[];
      expect(listed).toEqual([
        expect.objectContaining({ id, state: "copied", source: "s1", target: "s3", range: "-40" }),
      ]);

      const status = await c.cli(["move", "status", id]);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`^move ${id}\\n`));
      expect(status.stdout).toMatch(/ {2}move +range -40 from s1 to s3\n/);
      expect(status.stdout).toMatch(/ {2}state +copied\n/);
      expect(status.stdout).toMatch(/ {2}lease +free\n/);
      expect(status.stdout).toMatch(/ {2}progress +\d+ rows copied/);
      expect(status.stdout).toMatch(/ {2}phases +created \d+ ms, copying [\d.]+ m?s, copied/);
      expect(status.stdout).toMatch(/history:\nAT +STATE +EVENT\n/);
      const doc = JSON.parse((await c.cli(["--json", "move", "status", id])).stdout) as {
        move: { id: string; state: string; options: Record<string, unknown> };
        phaseMs: Record<string, number>;
        events: { state: string }[];
      };
      expect(doc.move).toMatchObject({
        id,
        state: "copied",
        options: { stopAfter: "copy", user: MOVER.user },
      });
      expect(doc.events.map((e) => e.state)).toEqual(
        expect.arrayContaining(["created", "copying", "copied"]),
      );
      expect(Object.keys(doc.phaseMs)).toEqual(
        expect.arrayContaining(["created", "copying", "copied"]),
      );

      // Writes to the range while no mover runs: the cutover catches up from the saved position.
      const inQ = (u: number) => inRange(u, 0, Q);
      const users = Array.from({ length: 120 }, (_, i) => i + 1).filter(inQ);
      const [changed, gone] = users as [number, number];
      await c.db.s1("accounts").where({ user_id: changed }).update({ balance: 424242 });
      await c.db.s1("orders").where({ user_id: gone }).delete();
      await c.db.s1("accounts").where({ user_id: gone }).delete();
      let fresh = 5000;
      while (!inQ(fresh)) fresh++;
      await c.db.s1("accounts").insert({ user_id: fresh, balance: 7, name: "late" });
      const expected = (await split(c, "s1", 0, Q)).inside;

      // Verified again by count, cut over without the cleanup (an option after the subcommand
      // is the subcommand's), then cleaned up.
      const verified = await c.cli(["verify", id, "--mode", "count"]);
      expect(verified.code, verified.stderr).toBe(0);
      expect(summaryOf(verified)).toMatchObject({
        state: "verified",
        verify: { mode: "count", differences: 0 },
      });
      const cut = await c.cli(["move", "cutover", id, "--no-cleanup"]);
      expect(cut.code, cut.stderr).toBe(0);
      const switched = summaryOf(cut);
      expect(switched).toMatchObject({ moveId: id, state: "switched", rowsDeleted: 0 });
      expect(switched.pauseMs).toEqual(expect.any(Number));
      expect(switched.eventsApplied).toBeGreaterThanOrEqual(4);
      expect(Object.keys((await split(c, "s1", 0, Q)).inside)).not.toHaveLength(0);
      const cleaned = await c.cli(["cleanup", id]);
      expect(cleaned.code, cleaned.stderr).toBe(0);
      expect(summaryOf(cleaned)).toMatchObject({
        state: "done",
        rowsDeleted: Object.keys(expected).length,
      });
      const onTarget = (await split(c, "s3", 0, Q)).inside;
      expect(onTarget).toEqual(expected);
      expect(onTarget[`accounts:${changed}`]).toMatchObject({ balance: 424242 });
      expect(onTarget[`accounts:${gone}`]).toBeUndefined();
      expect(onTarget[`accounts:${fresh}`]).toMatchObject({ name: "late" });
      expect((await split(c, "s1", 0, Q)).inside).toEqual({});

      const again = await c.cli(["move", "cutover", id]);
      expect(again.code).toBe(4);
      expect(again.stderr).toMatch(
        /^shardkit: move \S+ is done, so it cannot cutover; it has ended\n$/,
      );
    } finally {
      await c.close();
    }
  });

  it("aborts before the switch: the source unchanged and serving, the target clean", async () => {
    const c = await newCase();
    const router = await createRouter({
      directory: c.directoryUrl,
      pollIntervalMs: 0,
      heartbeatId: false,
    });
    try {
      const sourceBefore = {
        accounts: await rowsOf(c.db.s1, "accounts"),
        orders: await rowsOf(c.db.s1, "orders"),
      };
      const r = await c.cli(["move", "-40", "--to", "s3", "--stop-after", "verify", ...AS_MOVER]);
      expect(r.code, r.stderr).toBe(0);
      const { moveId: id, state } = summaryOf(r);
      expect(state).toBe("verified");
      expect(Object.keys(await fingerprint(c.db.s3))).toEqual(
        expect.arrayContaining(["accounts", "orders"]),
      );

      const abort = await c.cli(["move", "abort", id]);
      expect(abort.code, abort.stderr).toBe(0);
      expect(summaryOf(abort)).toMatchObject({ state: "aborted" });
      expect({
        accounts: await rowsOf(c.db.s1, "accounts"),
        orders: await rowsOf(c.db.s1, "orders"),
      }).toEqual(sourceBefore);
      // The tables the move created on s3 are gone, and with them every copied row.
      const left = Object.keys(await fingerprint(c.db.s3));
      expect(left).not.toContain("accounts");
      expect(left).not.toContain("orders");
      const snapshot = await c.store.snapshot();
      expect(snapshot.moves).toEqual([]);
      expect(snapshot.ranges.every((x) => x.shard === "s1" || x.shard === "s2")).toBe(true);
      expect(snapshot.ranges.every((x) => x.state === "serving")).toBe(true);
      // The source takes writes to the range again.
      await router.refresh();
      const user = [...sourceBefore.accounts.values()]
        .map((x) => Number(x.user_id))
        .find((u) => inRange(u, 0, Q));
      const write = await router.writeOne(
        user,
        (k) => k("accounts").where({ user_id: user }).update({ balance: -1 }),
        {
          table: "accounts",
        },
      );
      expect(write.affectedRows).toBe(1);
      expect(router.locate(user, { table: "accounts" }).shard).toBe("s1");

      const twice = await c.cli(["--json", "move", "abort", id]);
      expect(twice.code).toBe(4);
      expect(JSON.parse(twice.stdout)).toMatchObject({ error: { code: "MOVE_STATE" } });
    } finally {
      await router.close();
      await c.close();
    }
  });

  it("draws a bar per phase on a terminal and ends with the summary for people", async () => {
    const c = await newCase();
    try {
      let stdout = "";
      let stderr = "";
      let drawn = "";
      const terminal = Object.assign(
        new Writable({
          write(chunk, _encoding, done) {
            drawn += String(chunk);
            done();
          },
        }),
        { isTTY: true, columns: 160 },
      );
      const code = await main(["move", "-40", "--to", "s3", "--chunk-size", "20", ...AS_MOVER], {
        stdout: (t) => {
          stdout += t;
        },
        stderr: (t) => {
          stderr += t;
        },
        env: c.env,
        cwd: "/tmp",
        terminal,
      });
      expect(code, stderr).toBe(0);
      const id = /^move ([0-9a-f-]{36}): range -40 from s1 to s3\n/.exec(stdout)?.[1];
      expect(id).toBeDefined();
      expect(stdout).toContain(
        `move ${id}: range -40 moved from s1 to s3; the source is cleaned up\n`,
      );
      expect(stdout).toMatch(/\n {2}rows copied +\d+\n/);
      expect(stdout).toMatch(/\n {2}events applied +\d+\n/);
      expect(stdout).toMatch(/\n {2}verify +checksum: no differences \(2 tables\)\n/);
      expect(stdout).toMatch(/\n {2}write pause +\d+ ms\n/);
      expect(stdout).toMatch(/\n {2}rows deleted +\d+ from s1\n/);
      expect(stdout).toMatch(
        /\n {2}phases +copying [\d.]+ m?s, verifying [\d.]+ m?s, cutting over [\d.]+ m?s, cleaning/,
      );
      expect(stdout).not.toContain("{");
      expect(drawn).toMatch(
        /copy +\[#+\] +100% {2}\d+ rows copied \(\d+ of ~\d+ read\), [\d,]+ rows\/s, copied/,
      );
      expect(drawn).toMatch(/\d\d:\d\d:\d\d {2}cutting over\n/);
      expect(drawn).toMatch(/cleanup +\[[#-]+\] +\d+% {2}\d+ rows deleted from the source/);
      expect(drawn).toContain("switched on attempt 1, write pause");
    } finally {
      await c.close();
    }
  });

  it("moves one key with its rows and pins it to the target", async () => {
    const c = await newCase(60);
    try {
      const key = Array.from({ length: 60 }, (_, i) => i + 1).find((u) =>
        inRange(u, 0, 2 * Q),
      ) as number;
      const theirs = (rows: Map<string, Record<string, unknown>>) =>
        [...rows.values()].filter((x) => Number(x.user_id) === key);
      const accounts = theirs(await rowsOf(c.db.s1, "accounts"));
      const orders = theirs(await rowsOf(c.db.s1, "orders"));
      expect(accounts).toHaveLength(1);
      const othersOnS1 = (await rowsOf(c.db.s1, "accounts")).size - 1;
      const r = await c.cli([
        "move",
        "--key",
        `00${key}`,
        "--table",
        "accounts",
        "--to",
        "s3",
        ...AS_MOVER,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(linesOf(r)[0]).toMatchObject({
        event: "started",
        key: String(key),
        source: "s1",
        target: "s3",
      });
      expect(summaryOf(r)).toMatchObject({
        state: "done",
        rowsCopied: accounts.length + orders.length,
      });
      expect(theirs(await rowsOf(c.db.s3, "accounts"))).toEqual(accounts);
      expect(theirs(await rowsOf(c.db.s3, "orders"))).toEqual(orders);
      expect((await rowsOf(c.db.s3, "accounts")).size).toBe(1);
      expect(theirs(await rowsOf(c.db.s1, "accounts"))).toEqual([]);
      expect((await rowsOf(c.db.s1, "accounts")).size).toBe(othersOnS1);
      const pins = JSON.parse((await c.cli(["--json", "pins"])).stdout) as {
        key: string;
        shard: string;
      }[];
      expect(pins).toEqual([expect.objectContaining({ key: String(key), shard: "s3" })]);
    } finally {
      await c.close();
    }
  });
});
