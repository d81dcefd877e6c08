import { describe, expect, it } from "vitest";
import { main } from "./main.js";

/** Runs main with no directory anywhere, capturing what it prints. */
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

describe("main, before any server is needed", () => {
  it("prints help and the version with status 0", async () => {
    const help = await run("--help");
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(help.stdout).toMatch(/^Usage: shardkit/);
    expect(help.stdout).toMatch(/Exit status: 0 success, 1 internal error, 2 usage, 3 not found/);
    expect(await run("--version")).toEqual({ code: 0, stdout: "0.1.0\n", stderr: "" });
  });

  it.each([
    [["split", "-c0", "--at", "a0"]],
    [["split", "-40"]],
    [["merge", "-40", "40-80"]],
    [["merge", "40-80", "-"]],
    [["split", "--at", "10", "-20"]],
  ])("takes a range that starts with a dash as a range: %j", async (argv) => {
    // The command got past commander: what stops it is the missing directory.
    const r = await run(...argv);
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toMatch(/^shardkit: no directory given: pass --directory/);
  });

  it("still refuses an unknown option beside a dashed range", async () => {
    const r = await run("split", "-c0", "--colour");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("shardkit: unknown option '--colour'; see shardkit split --help\n");
  });

  it("prints commander's complaints under --json as one USAGE document", async () => {
    for (const argv of [
      ["--json", "frobnicate"],
      ["pin", "k", "--json"],
      ["--json", "ranges", "--colour"],
    ]) {
      const r = await run(...argv);
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stdout) as { error: { code: string; message: string } };
      expect(doc.error.code).toBe("USAGE");
      expect(r.stderr).toBe(`shardkit: ${doc.error.message}\n`);
      expect(doc.error.message).toMatch(/; see shardkit (\w+ )?--help$/);
    }
  });

  it("reports a missing directory under --json as a USAGE document", async () => {
    const r = await run("--json", "ranges");
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { code: "USAGE", message: expect.stringMatching(/^no directory given/) },
    });
  });
});
