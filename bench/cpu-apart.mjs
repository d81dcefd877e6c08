// Runs a latency benchmark with the database server and the benchmark's process on CPUs of their
// own, the way an application and MySQL run on different machines. Left to the scheduler on a
// small machine, the two share one CPU at some moments and not at others, and a ratio of two
// sub-millisecond round trips moves by 10-15% from run to run (see docs/benchmarks.md).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

/**
 * Puts the local server answering `k` on CPUs 1..n-1 and this process on CPU 0, with every
 * thread of each. Returns how it went (for the report) and a function that gives this process
 * all CPUs back. Nothing is pinned on a machine of one CPU, without `taskset`, or for a server
 * whose process is not on this machine (a container).
 * @param {import("knex").Knex} k a connection to the server
 * @returns {Promise<{ placement: string, release: () => void }>}
 */
export async function cpuApart(k) {
  const cpus = os.cpus().length;
  const none = (/** @type {string} */ why) => ({ placement: `shared CPUs (${why})`, release() {} });
  if (cpus < 2) return none("one CPU");
  const [rows] = await k.raw("SELECT @@pid_file AS pidFile");
  let serverPid;
  try {
    serverPid = Number(readFileSync(String(rows[0]?.pidFile), "utf8").trim());
    process.kill(serverPid, 0);
  } catch {
    return none("the server's process is not on this machine");
  }
  const pin = (/** @type {number} */ pid, /** @type {string} */ list) =>
    execFileSync("taskset", ["-a", "-p", "-c", list, String(pid)], { stdio: "ignore" });
  const release = () => pin(process.pid, `0-${cpus - 1}`);
  try {
    pin(process.pid, "0");
  } catch {
    return none("taskset did not run");
  }
  try {
    pin(serverPid, `1-${cpus - 1}`);
  } catch {
    // The placement reported must be the one measured: this process shares CPUs again too.
    release();
    return none("taskset could not move the server");
  }
  return {
    placement: `benchmark on CPU 0, server on CPU${cpus > 2 ? `s 1-${cpus - 1}` : " 1"}`,
    release,
  };
}
