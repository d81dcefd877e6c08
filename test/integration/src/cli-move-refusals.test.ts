// Every move the CLI refuses: the exit status of the refusal's category, one line on stderr,
// the same line in one JSON error document with --json, and the directory and every shard's
// data exactly as before.
import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRefusal } from "./cli-harness.js";
import {
  createMoveCase,
  createMoverUser,
  fingerprint,
  inRange,
  MOVER,
  type MoveCase,
  SCHEMA,
} from "./fixtures/move-cli-world.js";

let fleet: Fleet;
let a: FleetServer;
let b: FleetServer;
/** Servers whose binlog cannot feed a move, by what is wrong with it. */
const unsuitable: Record<string, { fleet: Fleet; server: FleetServer }> = {};

const UNSUITABLE_ARGS: Record<string, { args: string[]; message: RegExp }> = {
  "no binlog": {
    args: ["--skip-log-bin"],
    message: /shard s1 has no binary log \(log_bin is OFF\)/,
  },
  "statement binlog": {
    args: ["--binlog-format=STATEMENT"],
    message: /shard s1 logs STATEMENT binlog format, and a move needs row events/,
  },
  "minimal row images": {
    args: ["--binlog-row-image=MINIMAL"],
    message: /shard s1 logs binlog_row_image = MINIMAL, and a move needs whole rows/,
  },
};

beforeAll(async () => {
  const [main, ...others] = await Promise.all([
    startFleet({ servers: 2 }),
    ...Object.values(UNSUITABLE_ARGS).map((u) => startFleet({ servers: 1, serverArgs: u.args })),
  ]);
  fleet = main as Fleet;
  [a, b] = fleet.servers as [FleetServer, FleetServer];
  Object.keys(UNSUITABLE_ARGS).forEach((what, i) => {
    const f = others[i] as Fleet;
    unsuitable[what] = { fleet: f, server: f.servers[0] as FleetServer };
  });
  await Promise.all([a, b, ...Object.values(unsuitable).map((u) => u.server)].map(createMoverUser));
});

afterAll(async () => {
  await Promise.all(
    [fleet, ...Object.values(unsuitable).map((u) => u.fleet)].map((f) => f?.stop()),
  );
});

/** Everything a refusal must leave alone: the directory's version, moves and ranges, and each shard's tables. */
async function everything(c: MoveCase) {
  const snapshot = await c.store.snapshot();
  return {
    version: await c.store.version(),
    moves: (await c.store.listMoves()).map((m) => `${m.id} ${m.state}`),
    ranges: snapshot.ranges.map((r) => `${r.range.start}-${r.range.end} ${r.shard} ${r.state}`),
    pins: snapshot.pins.map((p) => `${p.keyText} ${p.shard}`),
    s1: await fingerprint(c.db.s1),
    s2: await fingerprint(c.db.s2),
    s3: await fingerprint(c.db.s3),
  };
}

/** A user id past the seeded ones whose rows belong in -80 (on s1). */
function spareUserOfS1(): number {
  return userIn(0, 0x8000_0000);
}

/** The first seeded user whose keyspace id is in [start, end). */
function userIn(start: number, end: number): number {
  let u = 1;
  while (!inRange(u, start, end)) u++;
  return u;
}

/** A move of -40 (split off s1's -80) to s3, stopped once copied: it holds the range. */
async function startFirstMove(c: MoveCase): Promise<void> {
  const first = await c.cli([
    "move",
    "-40",
    "--to",
    "s3",
    "--stop-after",
    "copy",
    "--user",
    MOVER.user,
  ]);
  expect(first.code, first.stderr).toBe(0);
}

interface Refusal {
  readonly args: readonly string[];
  readonly status: number;
  readonly code: string;
  readonly message: RegExp;
  /** Where s1 lives (default the main fleet's first server). */
  readonly source?: () => FleetServer;
  /** What the case needs beyond the seeded directory, done before the state is taken. */
  readonly setup?: (c: MoveCase) => Promise<void>;
}

const REFUSALS: Record<string, Refusal> = {
  "a range spanning two shards": {
    args: ["move", "40-c0", "--to", "s3"],
    status: 4,
    code: "RANGE_SPANS_SHARDS",
    message: /40-c0 is not served whole by one range of one shard/,
  },
  "an unknown target": {
    args: ["move", "-80", "--to", "s9"],
    status: 3,
    code: "UNKNOWN_SHARD",
    message: /unknown target shard "s9"/,
  },
  "the source as the target": {
    args: ["move", "-80", "--to", "s1"],
    status: 2,
    code: "BAD_ARGUMENT",
    message: /already on s1/,
  },
  "a target that holds rows of the range": {
    args: ["move", "-80", "--to", "s3"],
    status: 4,
    code: "TARGET_HAS_ROWS",
    message: /target s3 already holds rows of range -80 in table accounts/,
    setup: async (c) => {
      for (const s of SCHEMA) await c.db.s3.raw(s);
      await c.db.s3("accounts").insert({ user_id: spareUserOfS1(), balance: 1, name: "stray" });
    },
  },
  "a sharded table without a primary key": {
    args: ["move", "-80", "--to", "s3"],
    status: 4,
    code: "NO_PRIMARY_KEY",
    message: /table logs on shard s1 has no primary key/,
    setup: async (c) => {
      for (const k of [c.db.s1, c.db.s2])
        await k.raw("CREATE TABLE logs (user_id BIGINT NOT NULL, msg VARCHAR(20))");
      const r = await c.cli(["table", "add", "logs", "--key", "user_id", "--no-check"]);
      expect(r.code, r.stderr).toBe(0);
    },
  },
  "a sharded table missing its key column on the source": {
    args: ["move", "-80", "--to", "s3"],
    status: 3,
    code: "TABLE_NOT_ON_SHARD",
    message: /table notes on shard s1 has no shard-key column user_id/,
    setup: async (c) => {
      for (const k of [c.db.s1, c.db.s2])
        await k.raw("CREATE TABLE notes (id BIGINT PRIMARY KEY, msg VARCHAR(20))");
      const r = await c.cli(["table", "add", "notes", "--key", "user_id", "--no-check"]);
      expect(r.code, r.stderr).toBe(0);
    },
  },
  "a target table missing the key column": {
    args: ["move", "-80", "--to", "s3"],
    status: 4,
    code: "SCHEMA_MISMATCH",
    message: /table accounts on target s3 is not defined as on s1/,
    setup: async (c) => {
      await c.db.s3.raw(
        "CREATE TABLE accounts (id BIGINT NOT NULL PRIMARY KEY, balance INT NOT NULL, name VARCHAR(40) NOT NULL)",
      );
    },
  },
  "a second move of a range inside one being moved": {
    args: ["move", "-20", "--to", "s2"],
    status: 4,
    code: "RANGE_BUSY",
    message: /range -40 is moving/,
    setup: startFirstMove,
  },
  "a second move of a key inside a range being moved": {
    args: ["move", "--key", String(userIn(0, 0x4000_0000)), "--table", "accounts", "--to", "s2"],
    status: 4,
    code: "RANGE_BUSY",
    message: /is being moved by move [0-9a-f-]{36}/,
    setup: startFirstMove,
  },
  "a range holding a key pinned where its rows live, elsewhere": {
    args: ["move", "-80", "--to", "s3"],
    status: 4,
    code: "PINNED_KEY_IN_RANGE",
    message: /pinned to s2 where its rows live/,
    setup: async (c) => {
      const key = spareUserOfS1();
      const r = await c.cli(["pin", String(key), "s2", "--table", "accounts"]);
      expect(r.code, r.stderr).toBe(0);
      await c.db.s2("accounts").insert({ user_id: key, balance: 1, name: "pinned" });
    },
  },
  "a chunk size that is not a number": {
    args: ["move", "-80", "--to", "s3", "--chunk-size", "lots"],
    status: 2,
    code: "BAD_ARGUMENT",
    message: /invalid --chunk-size "lots": give a whole number of at least 1/,
  },
  "no target": {
    args: ["move", "-80"],
    status: 2,
    code: "USAGE",
    message: /--to <shard>/,
  },
  "a range and a key at once": {
    args: ["move", "-80", "--key", "7", "--to", "s3"],
    status: 2,
    code: "BAD_ARGUMENT",
    message: /name either the range -80 or --key 7, not both/,
  },
  "a move of an unknown id": {
    args: ["move", "resume", "00000000-0000-0000-0000-000000000000"],
    status: 3,
    code: "UNKNOWN_MOVE",
    message: /00000000-0000-0000-0000-000000000000/,
  },
};

for (const [what, u] of Object.entries(UNSUITABLE_ARGS)) {
  REFUSALS[`a source with ${what} (${u.args.join(" ")})`] = {
    args: ["move", "-80", "--to", "s2"],
    status: 4,
    code: "BINLOG_UNSUITABLE",
    message: u.message,
    source: () => (unsuitable[what] as { server: FleetServer }).server,
  };
}

describe("shardkit move refusals", () => {
  it.each(Object.entries(REFUSALS))("refuses %s, changing nothing", async (_what, refusal) => {
    const c = await createMoveCase({
      servers: [refusal.source?.() ?? a, b, b],
      directoryServer: a,
      users: 60,
    });
    try {
      await refusal.setup?.(c);
      const before = await everything(c);
      const args = [
        ...refusal.args,
        ...(refusal.args[1] === "resume" ? [] : ["--user", MOVER.user]),
      ];
      const r = await c.cli(args);
      expectRefusal(r, refusal.status, refusal.message);
      expect(r.stdout).toBe("");
      const j = await c.cli(["--json", ...args]);
      expect(j.code).toBe(refusal.status);
      const doc = JSON.parse(j.stdout) as { error: { code: string; message: string } };
      expect(doc.error.code).toBe(refusal.code);
      expect(j.stderr).toBe(`shardkit: ${doc.error.message}\n`);
      expect(await everything(c)).toEqual(before);
    } finally {
      await c.close();
    }
  });

  it("logs in to the shards as --user: a wrong password is refused in one line without it, changing nothing", async () => {
    const c = await createMoveCase({ servers: [a, b, b], directoryServer: a, users: 20 });
    try {
      const before = await everything(c);
      const wrong = "wrong-Secret-99";
      const r = await c.cli(["move", "-40", "--to", "s3", "--user", MOVER.user], {
        SHARDKIT_MOVER_PASSWORD: wrong,
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/Access denied for user 'shardkit_mover'/);
      expect(r.stderr + r.stdout).not.toContain(wrong);
      expect(await everything(c)).toEqual(before);
    } finally {
      await c.close();
    }
  });
});
