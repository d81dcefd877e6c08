import { describe, expect, it } from "vitest";
import { main } from "../main.js";
import { moverCredentials } from "./move-arguments.js";

/** Runs main with no directory anywhere: a line that parses stops at the missing directory. */
async function run(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {},
    cwd: "/nonexistent-shardkit-cwd",
  });
  return { code, stdout, stderr };
}

const PARSED = /^shardkit: no directory given/;

describe("the move commands' command lines", () => {
  it.each([
    [["move", "-40", "--to", "s3"]],
    [["move", "40-80", "--to", "s3", "--chunk-size", "500", "--verify", "count", "--no-cleanup"]],
    [["move", "--to", "s3", "-c0", "--stop-after", "verify", "--max-pause-ms", "200"]],
    [["move", "--key", "alice", "--to", "s3"]],
    [["move", "-40", "--to", "s3", "--throttle-replica-lag-ms", "500"]],
    [
      [
        "move",
        "-40",
        "--to",
        "s3",
        "--throttle-replica-lag-ms",
        "0",
        "--replica",
        "mysql://r@h:1",
        "--replica",
        "mysql://r@h:2",
      ],
    ],
    [["move", "status", "m1"]],
    [["move", "resume", "m1", "--chunk-size", "9", "--no-cleanup", "--lease-ttl-ms", "2000"]],
    [["move", "cutover", "m1", "--max-pause-ms", "100"]],
    [["move", "abort", "m1"]],
    [["moves"]],
    [["verify", "m1", "--mode", "count"]],
    [["cleanup", "m1", "--chunk-size", "50"]],
  ])("parses %j", async (argv) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(PARSED);
  });

  it.each([
    [
      ["move", "-40", "--to", "s3", "--chunk-size", "0"],
      'invalid --chunk-size "0": give a whole number of at least 1',
    ],
    [
      ["move", "-40", "--to", "s3", "--max-pause-ms", "5"],
      'invalid --max-pause-ms "5": give a whole number of at least 10',
    ],
    [
      ["move", "-40", "--to", "s3", "--max-lag-ms", "1.5"],
      'invalid --max-lag-ms "1.5": give a whole number of at least 1',
    ],
    [
      ["move", "-40", "--to", "s3", "--lease-ttl-ms", "10"],
      'invalid --lease-ttl-ms "10": give a whole number of at least 1000',
    ],
    [
      ["move", "-40", "--to", "s3", "--verify", "fast"],
      "option '--verify <mode>' argument 'fast' is invalid",
    ],
    [["move", "-40", "--to", "s3", "--stop-after", "cleanup"], "argument 'cleanup' is invalid"],
    // The move's own options end where a subcommand starts.
    [
      ["move", "resume", "m1", "--to", "s3"],
      "unknown option '--to'; see shardkit move resume --help",
    ],
    [
      ["move", "status", "m1", "--dry-run"],
      "unknown option '--dry-run'; see shardkit move status --help",
    ],
    [["move", "status"], "missing required argument 'id'; see shardkit move status --help"],
  ])("refuses %j before touching the directory", async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(message);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("shows an example in the help of every move command", async () => {
    for (const argv of [
      ["move"],
      ["move", "status"],
      ["move", "resume"],
      ["move", "cutover"],
      ["move", "abort"],
      ["verify"],
      ["cleanup"],
    ]) {
      const help = await run(...argv, "--help");
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/\nExamples?:\n {2}shardkit /);
    }
    const move = (await run("move", "--help")).stdout;
    for (const option of [
      "--to",
      "--key",
      "--chunk-size",
      "--verify",
      "--max-pause-ms",
      "--max-lag-ms",
    ]) {
      expect(move).toContain(option);
    }
    for (const option of [
      "--throttle-replica-lag-ms",
      "--no-cleanup",
      "--dry-run",
      "--stop-after",
      "--user",
    ]) {
      expect(move).toContain(option);
    }
  });
});

describe("moverCredentials", () => {
  it("reads the shard's own variable, then the common one, else the empty password", () => {
    const password = moverCredentials({
      SHARDKIT_MOVER_PASSWORD_EU_1: "for-eu-1",
      SHARDKIT_MOVER_PASSWORD: "for-all",
    });
    expect(password("eu-1")).toBe("for-eu-1");
    expect(password("s2")).toBe("for-all");
    expect(moverCredentials({})("s2")).toBe("");
  });
});
