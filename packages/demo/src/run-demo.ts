// The demo from start to end: servers, a directory with two shards and the application's schema,
// rows loaded through the router, a workload writing and reading while the shards are scaled out,
// then the checks, the figures and the report. Everything it starts is stopped.
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { credentialResolver, redactUrl, shardPasswordVariable } from "@shardkit/directory";
import { type FleetServer, startFleet } from "@shardkit/fleet";
import { createRouter, type Router } from "@shardkit/router";
import { loadDemoRows } from "./demo-load.js";
import { emptyModel } from "./demo-model.js";
import { type DemoReportData, type ReportCheck, renderReport } from "./demo-report.js";
import { createDemoTables, DEMO_SHARDED } from "./demo-schema.js";
import { startWorkload } from "./demo-workload.js";
import { checkExactlyOnce } from "./exactly-once-check.js";
import { scaleOut, shardkitRunner } from "./scale-out.js";

/** Options for {@link runDemo}; every field but `shardkitBin` has a default. */
export interface DemoOptions {
  /** The `shardkit` program (its bin script) the demo runs for every directory change. */
  readonly shardkitBin: string;
  /** Rows loaded before the scale-out: a quarter users, the rest their orders. Default 200000. */
  readonly rows?: number;
  /** Shards at the start. Default 2. */
  readonly shards?: number;
  /** Shards after the scale-out. Default 4. */
  readonly targetShards?: number;
  /** The workload's operations per second (a fifth are reads). Default 400. */
  readonly opsPerSecond?: number;
  /** Seconds the workload runs before and after the scale-out. Default 3. */
  readonly settleSeconds?: number;
  /** Where the HTML report goes; its data goes beside it as `.json`. Default `demo-report.html`. */
  readonly reportFile?: string;
  /**
   * Largest difference from the mean a shard may hold after the scale-out, in percent. Default
   * 10, or 25 below 50000 rows: the workload's writes during the moves, and chance, weigh more
   * on a few rows.
   */
  readonly maxImbalancePercent?: number;
  /** Where progress lines go. Default: stderr. */
  readonly log?: (line: string) => void;
}

/** What the demo found. */
export interface DemoResult {
  /** True when every check passed. */
  readonly ok: boolean;
  readonly reportFile: string;
  readonly data: DemoReportData;
  /** What to print at the end, for people. */
  readonly summary: string;
}

function totals(byShard: Readonly<Record<string, Readonly<Record<string, number>>>>) {
  return Object.fromEntries(
    Object.entries(byShard).map(([s, t]) => [s, Object.values(t).reduce((a, b) => a + b, 0)]),
  );
}

async function rowsPerShard(router: Router, shards: readonly string[]) {
  const out: Record<string, number> = {};
  for (const shard of shards) {
    let n = 0;
    for (const { table } of DEMO_SHARDED) {
      const [row] = await router.readShard(shard)(table).count({ n: "*" });
      n += Number((row as { n: unknown } | undefined)?.n ?? 0);
    }
    out[shard] = n;
  }
  return out;
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/**
 * Runs the demo and writes its report. Resolves with `ok: false` when a check failed; rejects
 * only when the demo could not run (no server, a command refused).
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const print = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (line: string) => print(redactUrl(line));
  const rows = options.rows ?? 200_000;
  const users = Math.max(1, Math.floor(rows / 4));
  const orders = Math.max(1, rows - users);
  const first = options.shards ?? 2;
  const target = options.targetShards ?? 4;
  const settle = (options.settleSeconds ?? 3) * 1000;
  const reportFile = options.reportFile ?? "demo-report.html";
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;

  log(`starting ${target} MySQL servers`);
  const fleet = await startFleet({ servers: target });
  let router: Router | undefined;
  try {
    const [a] = fleet.servers;
    if (!a) throw new Error("the fleet started no server");
    const directory = await a.createDatabase("directory");
    // Passwords (servers from SHARDKIT_MYSQL_URLS may have them) go through the environment only.
    const env: NodeJS.ProcessEnv = { ...process.env, SHARDKIT_DIRECTORY: directory };
    for (const s of fleet.servers) env[shardPasswordVariable(s.name)] = s.password;
    const run = shardkitRunner(options.shardkitBin, env);
    const shardkit = async (...args: string[]) => {
      log(`$ shardkit ${args.join(" ")}`);
      await run(args);
    };
    const names = fleet.servers.map((s) => s.name);
    const initial = names.slice(0, first);
    const added = names.slice(first);
    log(`started ${fleet.servers.length} servers (${fleet.backend}) in ${elapsed().toFixed(1)} s`);

    await shardkit("init");
    for (const server of fleet.servers.slice(0, first)) {
      await shardkit("shard", "add", server.name, urlWithoutPassword(server));
      await createDemoTables(server.url);
    }
    for (const { table, key } of DEMO_SHARDED) await shardkit("table", "add", table, "--key", key);
    await shardkit("layout", "even", String(first));

    router = await createRouter({
      directory,
      credentials: credentialResolver({}, env),
      writeDeadlineMs: 15_000,
    });
    const model = emptyModel();
    log(`loading ${users} users and ${orders} orders through the router`);
    const load = await loadDemoRows(router, model, { users, orders });
    log(
      `loaded ${load.rows} rows in ${load.seconds.toFixed(1)} s (${Math.round(load.rows / load.seconds)} rows/s)`,
    );
    const before = await rowsPerShard(router, initial);
    for (const s of added) before[s] = 0;

    // The new servers are registered (empty), then the workload starts and the shards scale out.
    for (const server of fleet.servers.slice(first)) {
      await shardkit("shard", "add", server.name, urlWithoutPassword(server));
    }
    const workload = startWorkload(router, model, {
      users,
      firstOrderId: orders + 1,
      initialOrders: orders,
      opsPerSecond: options.opsPerSecond ?? 400,
    });
    log("workload running: users' balances updated, orders added and deleted, users read back");
    await sleep(settle);
    log(`scaling out from ${first} to ${target} shards (${added.join(", ")})`);
    const scale = await scaleOut(run, added, log).finally(async () => {
      await sleep(settle);
    });
    const outcome = await workload.stop();
    log(
      `scale-out done in ${scale.seconds.toFixed(1)} s; workload stopped after ${outcome.seconds.toFixed(1)} s`,
    );

    log("checking every acknowledged write on every shard");
    const check = await checkExactlyOnce(router, names, model);
    const after = totals(check.rowsByShard);

    const ok = outcome.writes.filter((w) => w.ok);
    const sorted = ok.map((w) => w.ms).sort((x, y) => x - y);
    const perSecond = ok.length / outcome.seconds;
    const mean = Object.values(after).reduce((x, y) => x + y, 0) / names.length;
    const worst = Math.max(...Object.values(after).map((v) => (Math.abs(v - mean) / mean) * 100));
    const maxImbalance = options.maxImbalancePercent ?? (rows >= 50_000 ? 10 : 25);
    const pauses = scale.moves.map((m) => m.pauseMs);
    const checks: ReportCheck[] = [
      {
        name: "every acknowledged write present exactly once, on its owner; deletes absent",
        ok: check.problems.length === 0,
        detail:
          check.problems.length === 0
            ? `${fmt(model.users.size)} users and ${fmt(model.orders.size)} orders found as acknowledged; ${fmt(model.deleted.orders.size)} deleted orders on no shard`
            : check.problems.slice(0, 5).join("; "),
      },
      {
        name: "no write failed",
        ok: outcome.errors.length === 0,
        detail:
          outcome.errors.length === 0
            ? `${fmt(outcome.writes.length)} writes, all acknowledged`
            : `${outcome.errors.length} failed: ${outcome.errors.slice(0, 3).join("; ")}`,
      },
      {
        name: "reads saw the reader's own last write",
        ok: outcome.staleReads.length === 0,
        detail:
          outcome.staleReads.length === 0
            ? `${fmt(outcome.reads)} reads`
            : outcome.staleReads.slice(0, 3).join("; "),
      },
      {
        name: `every shard within ${maxImbalance}% of the mean after the scale-out`,
        ok: worst <= maxImbalance,
        detail: `largest difference ${worst.toFixed(1)}% (mean ${fmt(mean)} rows)`,
      },
      {
        name: "every move cut over",
        ok: scale.moves.length > 0 && pauses.every((p) => p !== null),
        detail: scale.moves
          .map((m) => `${m.range} ${m.from}→${m.to}: ${m.pauseMs ?? "no"} ms pause`)
          .join("; "),
      },
    ];
    const data: DemoReportData = {
      title: `shardkit demo: ${first} shards to ${target} under load`,
      generatedAt: new Date().toISOString(),
      before,
      after,
      writes: outcome.writes.map((w) => ({
        at: Number((w.at / 1000).toFixed(3)),
        ms: Number(w.ms.toFixed(2)),
        ok: w.ok,
      })),
      cutovers: scale.moves.flatMap((m) =>
        m.cutoverAt === null
          ? []
          : [
              {
                at: (m.cutoverAt - outcome.startedAt) / 1000,
                label: `${m.range} ${m.from}→${m.to}`,
                pauseMs: m.pauseMs,
              },
            ],
      ),
      checks,
      figures: [
        ["rows loaded", `${fmt(load.rows)} (${fmt(load.rows / load.seconds)} rows/s)`],
        ["writes acknowledged", `${fmt(ok.length)} (${perSecond.toFixed(0)}/s)`],
        ["reads", fmt(outcome.reads)],
        [
          "write latency",
          `median ${percentile(sorted, 0.5).toFixed(1)} ms, p99 ${percentile(sorted, 0.99).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms`,
        ],
        ...scale.moves.map((m): [string, string] => [
          `move ${m.range} ${m.from}→${m.to}`,
          `${fmt(m.rowsCopied)} rows in ${m.seconds.toFixed(1)} s, write pause ${m.pauseMs ?? "-"} ms`,
        ]),
        ["scale-out", `${scale.seconds.toFixed(1)} s`],
        [
          "demo",
          `${elapsed().toFixed(0)} s on ${cpus().length} cores (load ${loadavg()[0]?.toFixed(1)})`,
        ],
      ],
      commands: scale.commands,
    };
    writeFileSync(reportFile, renderReport(data));
    writeFileSync(`${reportFile.replace(/\.html?$/, "")}.json`, `${JSON.stringify(data)}\n`);
    const allOk = checks.every((c) => c.ok);
    const summary = summaryText(data, reportFile, allOk);
    return { ok: allOk, reportFile, data, summary };
  } finally {
    await router?.close().catch(() => undefined);
    await fleet.stop();
    log("stopped every server and removed their data");
  }
}

/** The server's database URL without its password (the password goes through the environment). */
function urlWithoutPassword(server: FleetServer): string {
  const host = server.host.includes(":") ? `[${server.host}]` : server.host;
  return `mysql://${encodeURIComponent(server.user)}@${host}:${server.port}/${server.database}`;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** The end of the demo's output: balance, figures and checks. */
export function summaryText(data: DemoReportData, reportFile: string, ok: boolean): string {
  const shards = Object.keys(data.after).sort();
  const lines = [
    "",
    "rows per shard   before      after",
    ...shards.map(
      (s) =>
        `  ${s.padEnd(12)} ${fmt(data.before[s] ?? 0).padStart(9)}  ${fmt(data.after[s] ?? 0).padStart(9)}`,
    ),
    "",
    ...data.figures.map(([k, v]) => `${k}: ${v}`),
    "",
    ...data.checks.map((c) => `${c.ok ? "pass" : "FAIL"}  ${c.name}: ${c.detail}`),
    "",
    `report: ${reportFile}`,
    ok ? "demo passed" : "demo FAILED: a check did not pass",
  ];
  return `${lines.join("\n")}\n`;
}
