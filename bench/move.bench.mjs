// The online move, measured on two local servers of the fleet (source and target): copy rate
// against mariadb-dump | mariadb of the same rows, rows read per row moved, the applier's rate
// and lag, and the write pause at cutover against the naive way (freeze, dump, load, switch).
// This file is long because its parts share one fleet and one data set, built once.
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { hashKeyFunction, MysqlDirectoryStore, parseMysqlUrl } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";
import { abortMove, cleanupMove, startMove } from "@shardkit/migrate";
import { MoveSession, rangeSelector } from "@shardkit/migrate/internal";
import { createRouter } from "@shardkit/router";
import { plainKnex } from "./plain-knex.mjs";

/** Rows of the moved table on the source shard, about 100 bytes each. */
const ROWS = 200_000;
/** Copy runs of each side, alternated. */
const COPY_RUNS = 3;
/** Row changes written while no mover runs, then applied as fast as the applier can. */
const BACKLOG_ROWS = 100_000;
/** The writer's rates and how long the lag is watched. */
const LAG_WRITES_PER_SECOND = 1000;
const LAG_SECONDS = 10;
const PAUSE_WRITES_PER_SECOND = 500;

const TABLE = `CREATE TABLE items (
  id BIGINT NOT NULL PRIMARY KEY,
  account BIGINT NOT NULL,
  amount INT NOT NULL,
  note VARCHAR(80) NOT NULL
) ENGINE=InnoDB`;

/** @typedef {import("knex").Knex} Knex */
/** @typedef {import("@shardkit/fleet").FleetServer} FleetServer */
/** @typedef {import("@shardkit/migrate").MoveEvent} MoveEvent */
/** @typedef {import("@shardkit/migrate").MoveOptions} MoveOptions */

/**
 * A knex pool on the database of `url`.
 * @param {string} url
 */
const knexOf = (url) => plainKnex(url, { min: 0, max: 16 });

/**
 * Row `id` of the data set.
 * @param {number} id
 */
function item(id) {
  return { id, account: id % 9973, amount: id % 100_000, note: `item ${id} `.padEnd(72, "x") };
}

/**
 * Median, 99th percentile and maximum of `xs`.
 * @param {number[]} xs
 */
function spread(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (/** @type {number} */ q) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { median: at(0.5), p99: at(0.99), max: s.at(-1) ?? 0, n: s.length };
}

/**
 * Runs `mariadb-dump <from> items | mariadb <to>` (the table's definition and its rows, the
 * dump's default extended inserts, one consistent snapshot) and returns its duration in ms.
 * The password, if any, goes through the environment, never the command line.
 * @param {string} fromUrl
 * @param {string} toUrl
 * @param {readonly string[]} dumpOptions
 */
async function dumpAndLoad(fromUrl, toUrl, dumpOptions = []) {
  const from = parseMysqlUrl(fromUrl);
  const to = parseMysqlUrl(toUrl);
  /** @param {import("@shardkit/directory").MysqlEndpoint} e */
  const login = (e) => [`--host=${e.host}`, `--port=${e.port}`, `--user=${e.user}`];
  const env = (/** @type {string} */ password) =>
    password ? { ...process.env, MYSQL_PWD: password } : process.env;
  const started = performance.now();
  const dump = spawn(
    "mariadb-dump",
    [...login(from), "--single-transaction", ...dumpOptions, from.database ?? "", "items"],
    { env: env(from.password), stdio: ["ignore", "pipe", "inherit"] },
  );
  const load = spawn("mariadb", [...login(to), to.database ?? ""], {
    env: env(to.password),
    stdio: ["pipe", "inherit", "inherit"],
  });
  dump.stdout.pipe(load.stdin);
  // A failing load shows in its exit status; the dump's broken pipe adds nothing.
  load.stdin.on("error", () => undefined);
  const exit = (
    /** @type {import("node:child_process").ChildProcess} */ p,
    /** @type {string} */ name,
  ) =>
    new Promise((resolve, reject) =>
      p.once("exit", (code) =>
        code === 0 ? resolve(code) : reject(new Error(`${name} exited ${code}`)),
      ),
    );
  await Promise.all([exit(dump, "mariadb-dump"), exit(load, "mariadb")]);
  return performance.now() - started;
}

/**
 * A writer at `perSecond` writes a second (due times fixed in advance, at most 64 in flight):
 * each write's stall is from when it was due to when it was acknowledged.
 * @param {(i: number) => Promise<unknown>} write
 * @param {number} perSecond
 */
function pacedWriter(write, perSecond) {
  /** @type {{ due: number, ms: number }[]} */
  const done = [];
  /** @type {unknown[]} */
  const errors = [];
  let stopped = false;
  let inFlight = 0;
  const started = performance.now();
  const loop = (async () => {
    /** @type {Promise<void>[]} */
    const pending = [];
    for (let i = 0; !stopped; i++) {
      const due = started + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      while (inFlight >= 64) await sleep(1);
      inFlight++;
      const p = write(i).then(
        () => {
          done.push({ due, ms: performance.now() - due });
        },
        (error) => {
          errors.push(error);
        },
      );
      pending.push(
        p.finally(() => {
          inFlight--;
        }),
      );
      if (pending.length > 1000) await Promise.all(pending.splice(0, 500));
    }
    await Promise.all(pending);
  })();
  return {
    /** Stops issuing writes and waits for those in flight. */
    async stop() {
      stopped = true;
      await loop;
      const seconds = (performance.now() - started) / 1000;
      return { done, errors, perSecond: done.length / seconds };
    },
  };
}

/**
 * The copy: a whole shard's range moved by the engine (stopped after the copy, then undone)
 * against mariadb-dump | mariadb of the same table into a fresh database of the other server.
 * @param {World} w
 */
async function copyRate(w) {
  /** @type {number[]} */
  const engine = [];
  /** @type {number[]} */
  const dump = [];
  for (let run = 0; run < COPY_RUNS; run++) {
    dump.push(await dumpAndLoad(w.s1Url, await w.target.createDatabase("dump")));
    const copied = await w.copyOnce(`c${run}`, "-80");
    engine.push(copied.copyMs);
    await w.undo(copied);
  }
  const best = (/** @type {number[]} */ xs) => Math.min(...xs);
  return {
    rows: ROWS,
    engineRowsPerSecond: ROWS / (best(engine) / 1000),
    dumpRowsPerSecond: ROWS / (best(dump) / 1000),
    engineMs: engine,
    dumpMs: dump,
  };
}

/**
 * The applier: a backlog of row changes applied from the binlog as fast as it goes, then the lag
 * while a writer changes rows of the range at 1000 writes a second (markers every 100 ms).
 * @param {World} w
 */
async function catchUp(w) {
  const copied = await w.copyOnce("cu", "-80");
  const s1 = w.s1;
  try {
    // The backlog: nine tenths in 100-row transactions, one tenth in single-row ones.
    const started = performance.now();
    const single = BACKLOG_ROWS / 10;
    for (let i = 0; i < BACKLOG_ROWS - single; i += 100) {
      await s1.raw("UPDATE items SET amount = amount + 1 WHERE id BETWEEN ? AND ?", [
        w.id(i),
        w.id(i + 99),
      ]);
    }
    const conns = Array.from({ length: 8 }, (_, k) => k);
    await Promise.all(
      conns.map(async (k) => {
        for (let i = k; i < single; i += conns.length) {
          await s1.raw("UPDATE items SET amount = amount + 1 WHERE id = ?", [w.id(ROWS - 1 - i)]);
        }
      }),
    );
    const writeMs = performance.now() - started;
    const session = await w.session(copied.moveId);
    try {
      const before = session.progress.eventsApplied;
      const t0 = performance.now();
      await session.startStream();
      const seq = await session.markers.write();
      while (!session.markers.isApplied(seq)) await session.catchUp.step(20);
      const applyMs = performance.now() - t0;
      const applied = session.progress.eventsApplied - before;

      // Lag: the applier steps continuously; a marker every 100 ms measures how far behind it is.
      let stop = false;
      /** @type {Map<number, number>} */
      const written = new Map();
      /** @type {number[]} */
      const lags = [];
      const applier = (async () => {
        while (!stop || written.size > 0) {
          await session.catchUp.step(5);
          for (const [s, at] of written) {
            if (session.markers.isApplied(s)) {
              lags.push(performance.now() - at);
              written.delete(s);
            }
          }
        }
      })();
      const markers = (async () => {
        while (!stop) {
          const at = performance.now();
          written.set(await session.markers.write(), at);
          await sleep(100);
        }
      })();
      const pool = w.s1;
      const writer = pacedWriter(
        (i) => pool.raw("UPDATE items SET amount = amount + 1 WHERE id = ?", [w.id(i * 7919)]),
        LAG_WRITES_PER_SECOND,
      );
      await sleep(LAG_SECONDS * 1000);
      const wrote = await writer.stop();
      stop = true;
      await markers;
      await applier;
      return {
        backlogEvents: applied,
        backlogWriteMs: writeMs,
        eventsPerSecond: applied / (applyMs / 1000),
        lagMs: spread(lags),
        writesPerSecond: wrote.perSecond,
      };
    } finally {
      await session.close();
    }
  } finally {
    await w.undo(copied);
  }
}

/**
 * The write pause seen by a writer doing 500 inserts a second through a router into the range:
 * the engine moving the whole range (s1 to another server), then the naive way moving the same
 * rows on (freeze the range through the fence, mariadb-dump | mariadb, switch the directory).
 * @param {World} w
 */
async function cutoverPause(w) {
  const router = await createRouter({
    directory: w.store,
    pollIntervalMs: 1000,
    writeDeadlineMs: 120_000,
    heartbeatId: false,
  });
  let next = 10_000_000;
  const nextKey = () => {
    while (hashKeyFunction.ksid(++next) >= 0x80000000);
    return next;
  };
  const insert = () => router.insert("items", item(nextKey()));
  try {
    // The engine: the full workflow (verify by checksum, cutover), cleanup left for later.
    const to = await w.addShard("p1", w.target);
    let writer = pacedWriter(insert, PAUSE_WRITES_PER_SECOND);
    /** @type {{ at: number, ok: boolean, pauseMs: number }[]} */
    const cutovers = [];
    /** @type {import("@shardkit/migrate").MoveSummary} */
    let summary;
    /** @type {Awaited<ReturnType<ReturnType<typeof pacedWriter>["stop"]>>} */
    let engine;
    // The directory's two cutover changes, timed: the pause is the freeze, the marker's round
    // trip through the binlog to the target, and the switch.
    /** @type {Record<string, number>} */
    const changeMs = {};
    const admin = new Proxy(w.store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        if (property !== "freezeRange" && property !== "switchRange") return value.bind(target);
        return async (/** @type {unknown[]} */ ...args) => {
          const t0 = performance.now();
          try {
            return await value.apply(target, args);
          } finally {
            changeMs[property] = performance.now() - t0;
          }
        };
      },
    });
    try {
      summary = await startMove(
        admin,
        { range: "-80", to },
        {
          ...w.mover,
          cleanup: false,
          onEvent: (e) => {
            if (e.type === "cutover")
              cutovers.push({ at: performance.now(), ok: e.ok, pauseMs: e.pauseMs });
          },
        },
      );
    } finally {
      engine = await writer.stop();
    }
    const cut = cutovers.find((c) => c.ok);
    if (process.env.MOVE_BENCH_VERBOSE && cut)
      console.error(
        engine.done
          .filter((d) => Math.abs(d.due - cut.at) < 400)
          .map((d) => `${(d.due - cut.at).toFixed(0)}:${d.ms.toFixed(0)}`)
          .join(" "),
      );
    // Writes due from a second before the cutover ended to a second after it.
    const near = engine.done.filter((d) => cut && Math.abs(d.due - cut.at) < 1000).map((d) => d.ms);

    // The source's copies go at once (cleanup is not measured here), then the move ends.
    await w.s1.raw("TRUNCATE TABLE items");
    await cleanupMove(w.store, summary.moveId, { ...w.mover, cleanupGraceMs: 0 });

    // The naive way on the same rows: the new owner's range frozen, dumped, loaded, switched.
    const naiveTo = await w.addShard("p2", w.source);
    const owner = knexOf(w.urls[to] ?? "");
    writer = pacedWriter(insert, PAUSE_WRITES_PER_SECOND);
    await sleep(1000);
    const t0 = performance.now();
    try {
      await owner("shardkit_ownership")
        .where({ kind: "range", range_start: 0 })
        .update({ state: "frozen" });
      await dumpAndLoad(w.urls[to] ?? "", w.urls[naiveTo] ?? "");
      await w.store.assignRange({ start: 0, end: 0x80000000 }, to, naiveTo);
    } finally {
      await owner.destroy();
    }
    const naivePauseMs = performance.now() - t0;
    await sleep(1000);
    const naive = await writer.stop();
    const ms = (/** @type {{ ms: number }[]} */ d) => d.map((x) => x.ms);
    return {
      rows: ROWS,
      enginePauseMs: summary.pauseMs,
      freezeMs: changeMs.freezeRange ?? Number.NaN,
      switchMs: changeMs.switchRange ?? Number.NaN,
      engineAttempts: cutovers.length,
      engineStallMs: spread(ms(engine.done)),
      engineStallNearCutoverMs: spread(near),
      engineWriterPerSecond: engine.perSecond,
      engineErrors: engine.errors.length,
      naivePauseMs,
      naiveStallMs: spread(ms(naive.done)),
      naiveErrors: naive.errors.length,
    };
  } finally {
    await router.close();
  }
}

/**
 * Rows read per row moved when a quarter of a shard's range moves: the copy reads the table in
 * primary-key order and keeps the rows whose key hashes into the range.
 * @param {World} w
 */
async function quarter(w) {
  const copied = await w.copyOnce("q", "-20");
  await w.undo(copied);
  return {
    rowsRead: copied.rowsRead,
    rowsCopied: copied.rowsCopied,
    readPerMoved: copied.rowsRead / copied.rowsCopied,
  };
}

/**
 * @typedef {object} Copied
 * @property {string} moveId
 * @property {string} target
 * @property {number} copyMs
 * @property {number} rowsCopied
 * @property {number} rowsRead
 */

/**
 * @typedef {object} World
 * @property {MysqlDirectoryStore} store
 * @property {FleetServer} source
 * @property {FleetServer} target
 * @property {Knex} s1
 * @property {string} s1Url
 * @property {Record<string, string>} urls
 * @property {(i: number) => number} id the id of row `i` (in id order) of the data set
 * @property {{ credentials: () => string }} mover
 * @property {(name: string, server: FleetServer) => Promise<string>} addShard
 * @property {(name: string, range: string) => Promise<Copied>} copyOnce
 * @property {(c: Copied) => Promise<void>} undo
 * @property {(moveId: string) => Promise<MoveSession>} session
 */

/**
 * With MOVE_BENCH_VERBOSE set, prints a part's figures on stderr as soon as it is measured.
 * @template T
 * @param {string} part
 * @param {T} figures
 * @returns {T}
 */
function log(part, figures) {
  if (process.env.MOVE_BENCH_VERBOSE) console.error(part, JSON.stringify(figures));
  return figures;
}

/** Runs the move benchmarks and returns their figures. */
export async function run() {
  // MySQL 8's durability defaults, and a buffer pool that holds the data set.
  const fleet = await startFleet({
    servers: 2,
    serverArgs: [
      "--sync-binlog=1",
      "--innodb-flush-log-at-trx-commit=1",
      "--innodb-buffer-pool-size=512M",
    ],
  });
  /** @type {Knex[]} */
  const pools = [];
  const [source, target] = fleet.servers;
  if (!source || !target) throw new Error("the fleet started too few servers");
  const store = new MysqlDirectoryStore({
    directory: await source.createDatabase("dir"),
    credentials: () => "",
  });
  try {
    await store.init();
    /** @type {Record<string, string>} */
    const urls = {};
    const addShard = async (/** @type {string} */ name, /** @type {FleetServer} */ server) => {
      const url = await server.createDatabase(name);
      const shard = `${name}_${Object.keys(urls).length}`;
      await store.addShard({ name: shard, ...parseMysqlUrl(url) });
      urls[shard] = url;
      return shard;
    };
    const s1Name = await addShard("s1", source);
    const s2Name = await addShard("s2", target);
    const s1Url = /** @type {string} */ (urls[s1Name]);
    const s1 = knexOf(s1Url);
    pools.push(s1);
    const s2 = knexOf(/** @type {string} */ (urls[s2Name]));
    pools.push(s2);
    await s1.raw(TABLE);
    await s2.raw(TABLE);
    await store.addTable({ name: "items", keyColumn: "id", keyFunction: "hash" });
    await store.layoutEven(2, [s1Name, s2Name]);
    // Every row in s1's range (-80), loaded in one go.
    /** @type {ReturnType<typeof item>[]} */
    let batch = [];
    /** @type {number[]} */
    const ids = [];
    for (let id = 1; ids.length < ROWS; id++) {
      if (hashKeyFunction.ksid(id) >= 0x80000000) continue;
      ids.push(id);
      batch.push(item(id));
      if (batch.length === 5000) {
        await s1("items").insert(batch);
        batch = [];
      }
    }
    if (batch.length) await s1("items").insert(batch);
    const mover = { credentials: () => "" };
    /** @type {World} */
    const w = {
      store,
      source,
      target,
      s1,
      s1Url,
      urls,
      id: (i) => /** @type {number} */ (ids[i % ids.length]),
      mover,
      addShard,
      async copyOnce(name, range) {
        const to = await addShard(name, target);
        /** @type {Record<string, { read: number, copied: number }>} */
        const tables = {};
        /** @type {string} */
        let moveId = "";
        const summary = await startMove(
          store,
          { range, to },
          {
            ...mover,
            stopAfter: "copy",
            verify: "none",
            onEvent: (/** @type {MoveEvent} */ e) => {
              if (e.type === "started") moveId = e.moveId;
              if (e.type === "copy") tables[e.table] = { read: e.rowsRead, copied: e.rowsCopied };
            },
          },
        );
        const t = Object.values(tables);
        return {
          moveId: moveId || summary.moveId,
          target: to,
          copyMs: summary.phaseMs.copying ?? Number.NaN,
          rowsCopied: t.reduce((n, x) => n + x.copied, 0),
          rowsRead: t.reduce((n, x) => n + x.read, 0),
        };
      },
      async undo(c) {
        // Dropping the copy first spares the abort deleting it row by row.
        const db = knexOf(/** @type {string} */ (urls[c.target]));
        try {
          await db.raw("DROP TABLE IF EXISTS items");
        } finally {
          await db.destroy();
        }
        await abortMove(store, c.moveId, mover);
      },
      async session(moveId) {
        const snapshot = await store.snapshot();
        const move = await store.getMove(moveId);
        const find = (/** @type {string} */ n) => {
          const s = snapshot.shards.find((x) => x.name === n);
          if (!s) throw new Error(`no shard ${n}`);
          return s;
        };
        return MoveSession.open({
          moveId,
          source: find(move.source),
          target: find(move.target),
          login: (s) => ({ user: s.user, password: "" }),
          tables: snapshot.tables,
          selector: rangeSelector(move.range, snapshot.pins),
        });
      },
    };
    // MOVE_BENCH_PARTS=copy,catchup,pause,quarter runs some of them (all by default).
    const parts = new Set(
      (process.env.MOVE_BENCH_PARTS ?? "copy,catchup,pause,quarter").split(","),
    );
    const copy = parts.has("copy") ? log("copy", await copyRate(w)) : null;
    const applier = parts.has("catchup") ? log("catch-up", await catchUp(w)) : null;
    const pause = parts.has("pause") ? log("pause", await cutoverPause(w)) : null;
    const q = parts.has("quarter") ? await quarter(w) : null;
    return { copy, catchUp: applier, pause, quarter: q };
  } finally {
    await Promise.all(pools.map((p) => p.destroy()));
    await store.close();
    await fleet.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(await run(), null, 2));
