// The mover killed (SIGKILL, through SHARDKIT_FAILPOINT) at each point of a move while an
// application writes through a router, then `shardkit move resume`: every acknowledged write is
// there with its last value, each row on exactly one shard (its owner), and the moved rows are
// gone from the source. Also: a second mover is refused while one runs, and Ctrl-C leaves a
// move resumable with exit status 130. The movers run the built bin, as an operator would.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import { createRouter, type Router } from "@shardkit/router";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, expectRefusal, shardkitBin } from "./cli-harness.js";
import {
  createMoveCase,
  createMoverUser,
  inRange,
  MOVER,
  type MoveCase,
  rowsOf,
  TABLES,
  type TableName,
} from "./fixtures/move-cli-world.js";
import { ModelWriter, modelOf, type TableModel } from "./fixtures/move-writer.js";

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

const USERS = 500;
const Q = 0x4000_0000;
/** The move every case makes: -40, split off s1's -80, to s3, in small chunks. */
const MOVE = [
  "move",
  "-40",
  "--to",
  "s3",
  "--chunk-size",
  "40",
  "--user",
  MOVER.user,
  "--lease-ttl-ms",
  "1000",
];

/** A mover running in its own process, its JSON lines read as they come. */
interface Mover {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  /** Resolves with the first line `match` accepts (or rejects when the mover ends first). */
  waitFor(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** How it ended: its exit status or the signal that ended it, and its stderr. */
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function spawnMover(c: MoveCase, args: readonly string[], env: NodeJS.ProcessEnv = {}): Mover {
  const child = spawn(process.execPath, [shardkitBin, ...args], {
    env: { ...process.env, ...c.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  const waiting: {
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const w of waiting.filter((x) => x.match(line))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(line);
    }
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr })),
  );
  return {
    child,
    lines,
    ended,
    waitFor: (match) => {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiting.push({ match, resolve });
        void ended.then((e) =>
          reject(new Error(`the mover ended (${e.signal ?? e.code}) first: ${e.stderr}`)),
        );
      });
    },
  };
}

/** `move resume <id>` in this process, retried while the killed mover's lease has not lapsed yet. */
async function resume(c: MoveCase, id: string): Promise<CliRun> {
  for (let tries = 0; ; tries++) {
    const r = await c.cli(["--json", "move", "resume", id]);
    const leased = r.code === 4 && r.stdout.includes('"code": "MOVE_LEASED"');
    if (!leased || tries > 40) return r;
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Every row of every shard, checked to be on its owner alone, merged into one model. */
async function whatTheShardsHold(c: MoveCase): Promise<TableModel> {
  const merged: TableModel = { accounts: new Map(), orders: new Map() };
  for (const table of Object.keys(TABLES) as TableName[]) {
    for (const shard of ["s1", "s2", "s3"] as const) {
      for (const [key, row] of await rowsOf(c.db[shard], table)) {
        expect(merged[table].has(key), `${table} ${key} on two shards`).toBe(false);
        const owner = inRange(Number(row.user_id), 0, Q)
          ? "s3"
          : inRange(Number(row.user_id), Q, 2 * Q)
            ? "s1"
            : "s2";
        expect(shard, `${table} ${key} is on ${shard}, owned by ${owner}`).toBe(owner);
        merged[table].set(key, row);
      }
    }
  }
  return merged;
}

/** A case with rows, a router and the writer writing through it. */
async function writing(): Promise<{
  c: MoveCase;
  router: Router;
  writer: ModelWriter;
  model: TableModel;
}> {
  const c = await createMoveCase({ servers: [a, b, b], directoryServer: a, users: USERS });
  const router = await createRouter({
    directory: c.directoryUrl,
    pollIntervalMs: 200,
    writeDeadlineMs: 30_000,
  });
  const model = await modelOf([c.db.s1, c.db.s2]);
  const writer = new ModelWriter(router, model, USERS);
  writer.start();
  return { c, router, writer, model };
}

/** After the move: the writer saw no error, and the shards hold exactly what it acknowledged. */
async function expectEveryWrite(
  c: MoveCase,
  writer: ModelWriter,
  model: TableModel,
): Promise<void> {
  expect(writer.errors).toEqual([]);
  expect(writer.writes).toBeGreaterThan(50);
  const held = await whatTheShardsHold(c);
  for (const table of Object.keys(TABLES) as TableName[]) {
    expect(Object.fromEntries(held[table]), table).toEqual(Object.fromEntries(model[table]));
  }
  const snapshot = await c.store.snapshot();
  expect(snapshot.moves).toEqual([]);
  expect(snapshot.ranges.find((r) => r.range.start === 0)).toMatchObject({
    shard: "s3",
    state: "serving",
  });
}

describe("a mover killed at each failpoint, then resumed", () => {
  const points = [
    ["during the copy", "after-copy-chunk:4"],
    ["during the catch-up", "after-apply-batch:2"],
    ["after the freeze", "after-freeze"],
    ["before the directory switch", "before-directory-switch"],
    ["after the directory switch", "after-directory-switch"],
    ["during the cleanup", "after-cleanup-chunk:2"],
  ] as const;

  it.each(points)("loses and resurrects nothing when killed %s (%s)", async (_when, failpoint) => {
    const { c, router, writer, model } = await writing();
    try {
      const mover = spawnMover(c, ["--json", ...MOVE], { SHARDKIT_FAILPOINT: failpoint });
      const started = await mover.waitFor((l) => l.event === "started");
      const id = started.moveId as string;
      const end = await mover.ended;
      expect(end.signal, end.stderr).toBe("SIGKILL");
      expect(mover.lines.some((l) => l.event === "done")).toBe(false);
      // The application keeps writing while no mover runs, then while the move resumes.
      await new Promise((done) => setTimeout(done, 200));
      const r = await resume(c, id);
      expect(r.code, r.stderr).toBe(0);
      const summary = (
        JSON.parse(r.stdout.trimEnd().split("\n").at(-1) as string) as {
          summary: { state: string };
        }
      ).summary;
      expect(summary.state).toBe("done");
      await new Promise((done) => setTimeout(done, 200));
      await writer.stop();
      await expectEveryWrite(c, writer, model);
    } finally {
      await writer.stop();
      await router.close();
      await c.close();
    }
  });
});

describe("a running move", () => {
  it("refuses a second mover while the first holds the lease (MOVE_LEASED, exit 4)", async () => {
    const { c, router, writer, model } = await writing();
    try {
      // Killed once the copy is done, so the move is surely running when the second mover comes.
      const mover = spawnMover(c, ["--json", ...MOVE], {
        SHARDKIT_FAILPOINT: "before-directory-switch",
      });
      const copying = await mover.waitFor((l) => l.event === "phase" && l.phase === "copying");
      const id = copying.moveId as string;
      const second = await c.cli(["move", "resume", id]);
      expectRefusal(second, 4, new RegExp(`move ${id}.*(lease|held)`, "i"));
      const json = await c.cli(["--json", "move", "abort", id]);
      expect(json.code).toBe(4);
      expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "MOVE_LEASED" } });
      expect((await mover.ended).signal).toBe("SIGKILL");
      const r = await resume(c, id);
      expect(r.code, r.stderr).toBe(0);
      await writer.stop();
      await expectEveryWrite(c, writer, model);
    } finally {
      await writer.stop();
      await router.close();
      await c.close();
    }
  });

  it("stops cleanly on Ctrl-C: exit status 130, how to resume, and the move resumes to the end", async () => {
    const { c, router, writer, model } = await writing();
    try {
      const mover = spawnMover(c, ["--json", ...MOVE.map((x) => (x === "40" ? "10" : x))]);
      const copy = await mover.waitFor((l) => l.event === "copy");
      expect(copy.rowsCopied).toEqual(expect.any(Number));
      const id = (mover.lines[0] as { moveId: string }).moveId;
      mover.child.kill("SIGINT");
      const end = await mover.ended;
      expect(end.code, end.stderr).toBe(130);
      expect(end.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(end.stderr).toContain(`shardkit move resume ${id}`);
      const last = mover.lines.at(-1) as { error?: { code: string } };
      expect(last.error?.code).toBe("MOVE_CANCELLED");
      const status = JSON.parse((await c.cli(["--json", "move", "status", id])).stdout) as {
        move: { state: string; lease: unknown };
      };
      expect(status.move).toMatchObject({ state: "failed", lease: null });
      const r = await c.cli(["--json", "move", "resume", id]);
      expect(r.code, r.stderr).toBe(0);
      await writer.stop();
      await expectEveryWrite(c, writer, model);
    } finally {
      await writer.stop();
      await router.close();
      await c.close();
    }
  });
});
