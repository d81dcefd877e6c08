import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createServerDir, fleetRoot, sweepStale } from "./stale-sweep.js";

const root = mkdtempSync(join(tmpdir(), "fleet-sweep-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A server directory as another process would have left it. */
function fabricate(name: string, owner?: object): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "data", "ibdata1"), "x");
  if (owner) writeFileSync(join(dir, "owner.json"), JSON.stringify(owner));
  return dir;
}

// Above any kernel's pid_max, so never a running process.
const DEAD_PID = 999_999_999;

describe("sweepStale", () => {
  it("lives under os.tmpdir()", () => {
    expect(fleetRoot()).toBe(join(tmpdir(), "shardkit-fleet"));
  });

  it("removes directories of dead owners and keeps those of live ones and anything else", () => {
    const dead = fabricate(`${DEAD_PID}-abc123-1`);
    const deadWithOwner = fabricate(`${DEAD_PID}-abc124-2`, { pid: DEAD_PID });
    const mine = createServerDir(root, 1);
    const parents = fabricate(`${process.ppid}-abc125-1`);
    const unrelated = fabricate(`${DEAD_PID}-not-ours`);
    expect(sweepStale(root).sort()).toEqual([dead, deadWithOwner].sort());
    expect([dead, deadWithOwner].map(existsSync)).toEqual([false, false]);
    expect([mine, parents, unrelated].map(existsSync)).toEqual([true, true, true]);
  });

  it("records its owner, so a reused pid is not taken for the owner", () => {
    const mine = createServerDir(root, 2);
    const owner = JSON.parse(readFileSync(join(mine, "owner.json"), "utf8")) as { pid: number };
    expect(owner.pid).toBe(process.pid);
    const reused = fabricate(`${process.pid}-abc126-1`, { ...owner, startTime: "1" });
    const hasProc = existsSync("/proc/self/stat");
    expect(sweepStale(root)).toEqual(hasProc ? [reused] : []);
    expect(existsSync(mine)).toBe(true);
  });

  it("never sweeps what a process in another pid namespace owns", () => {
    const foreign = fabricate(`${DEAD_PID}-abc127-1`, {
      pid: DEAD_PID,
      pidNamespace: "pid:[1]",
    });
    const hasNamespaces = existsSync("/proc/self/ns/pid");
    expect(sweepStale(root)).toEqual(hasNamespaces ? [] : [foreign]);
  });

  it("does nothing when the root does not exist", () => {
    expect(sweepStale(join(root, "missing"))).toEqual([]);
  });
});
