// `shardkit directory serve` as a process (answers, stops on SIGTERM, refuses to serve without a
// token), and `shardkit move --metrics-port` serving the move's metrics while it runs.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, shardkitBin } from "./cli-harness.js";
import { createMoveCase, createMoverUser, MOVER } from "./fixtures/move-cli-world.js";

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

const TOKEN = "cli-service-token";

describe("shardkit directory serve", () => {
  it("serves the directory until SIGTERM, the token required, and prints where as JSON lines", async () => {
    const c = await createMoveCase({ servers: [a, b, b], directoryServer: a, users: 10 });
    const child = spawn(shardkitBin, ["directory", "serve", "--port", "0", "--json"], {
      env: { ...process.env, ...c.env, SHARDKIT_SERVICE_TOKEN: TOKEN },
    });
    try {
      let stderr = "";
      child.stderr.on("data", (d) => {
        stderr += String(d);
      });
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const first = JSON.parse(String((await lines.next()).value));
      expect(first).toMatchObject({
        event: "listening",
        auth: "bearer",
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      });
      const routed = await fetch(`${first.url}/v1/route?key=42`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(routed.status).toBe(200);
      expect(((await routed.json()) as { ksid: string }).ksid).toBe("bc58a436");
      expect((await fetch(`${first.url}/v1/route?key=42`)).status).toBe(401);
      const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(JSON.parse(String((await lines.next()).value))).toMatchObject({
        event: "stopped",
        signal: "SIGTERM",
      });
      expect(stderr).toBe("");
    } finally {
      child.kill("SIGKILL");
      await c.close();
    }
  });

  it("serves without a token with --insecure-no-auth on loopback, and says so at start", async () => {
    const c = await createMoveCase({ servers: [a, b, b], directoryServer: a, users: 1 });
    const child = spawn(shardkitBin, ["directory", "serve", "--port", "0", "--insecure-no-auth"], {
      env: { ...process.env, ...c.env, SHARDKIT_SERVICE_TOKEN: "" },
    });
    try {
      let stderr = "";
      child.stderr.on("data", (d) => {
        stderr += String(d);
      });
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const first = String((await lines.next()).value);
      const url = /at (http:\/\/127\.0\.0\.1:\d+)$/.exec(first)?.[1];
      expect(first).toMatch(/^serving directory .* \(version \d+\) at http/);
      expect((await fetch(`${url}/v1/route?key=42`)).status).toBe(200);
      expect(stderr).toMatch(
        /^note: serving WITHOUT authentication \(--insecure-no-auth\).*local use only\n$/,
      );
      const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await c.close();
    }
  });

  it("refuses to serve without a token, and on a non-loopback host even with --insecure-no-auth", async () => {
    const c = await createMoveCase({ servers: [a, b, b], directoryServer: a, users: 1 });
    try {
      const none = await c.cli(["directory", "serve", "--port", "0"], {
        SHARDKIT_SERVICE_TOKEN: "",
      });
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(
        /^shardkit: .*needs a token: set SHARDKIT_SERVICE_TOKEN .*--insecure-no-auth/,
      );
      expect(none.stderr.trimEnd().split("\n")).toHaveLength(1);
      const open = await c.cli([
        "directory",
        "serve",
        "--host",
        "0.0.0.0",
        "--insecure-no-auth",
        "--json",
      ]);
      expect(open.code).toBe(2);
      expect(JSON.parse(open.stdout)).toMatchObject({
        error: {
          code: "BAD_ARGUMENT",
          message: expect.stringMatching(/refusing to serve .* on 0\.0\.0\.0 without a token/),
        },
      });
      const both = await runCli(["directory", "serve", "--insecure-no-auth"], {
        directory: c.directoryUrl,
        env: { SHARDKIT_SERVICE_TOKEN: TOKEN },
      });
      expect(both.code).toBe(2);
      expect(both.stderr).toMatch(/--insecure-no-auth .* but a token is set/);
    } finally {
      await c.close();
    }
  });
});

describe("shardkit move --metrics-port", () => {
  it("serves the move's metrics while it runs", async () => {
    const c = await createMoveCase({ servers: [a, b, b], directoryServer: a, users: 400 });
    try {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const scrapes: string[] = [];
      let running = true;
      const scraping = (async () => {
        while (running) {
          try {
            const r = await fetch(`http://127.0.0.1:${port}/metrics`);
            scrapes.push(await r.text());
          } catch {
            // not listening yet, or already stopped
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const r = await c.cli([
        "move",
        "-40",
        "--to",
        "s3",
        "--chunk-size",
        "20",
        "--user",
        MOVER.user,
        "--metrics-port",
        String(port),
      ]);
      running = false;
      await scraping;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(
        `note: the move's metrics are at http://127.0.0.1:${port}/metrics`,
      );
      const id = (JSON.parse(r.stdout.trimEnd().split("\n")[0] as string) as { moveId: string })
        .moveId;
      const all = scrapes.join("\n");
      expect(all).toMatch(new RegExp(`shardkit_move_phase\\{move="${id}",phase="copying"\\} 1`));
      expect(all).toMatch(
        new RegExp(`shardkit_move_rows_copied\\{move="${id}",table="accounts"\\} [1-9]`),
      );
      expect(all).toMatch(/shardkit_move_catchup_lag_seconds\{move="[^"]+"\}/);
      // The endpoint closes with the move.
      await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
    } finally {
      await c.close();
    }
  });
});
