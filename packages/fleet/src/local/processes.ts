import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";

const hasProc = existsSync("/proc/self/stat");

/** One running process and its command line, arguments joined by spaces. */
export interface ProcessInfo {
  readonly pid: number;
  readonly args: string;
}

function isZombie(pid: number): boolean {
  try {
    if (hasProc) {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // The command name in parentheses may hold spaces; the state follows the last ")".
      return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
    }
    const state = execFileSync("ps", ["-o", "stat=", "-p", String(pid)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return state.trim().startsWith("Z");
  } catch {
    return false;
  }
}

/** True while `pid` runs; a zombie counts as gone, a process of another user as running. */
export function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  return !isZombie(pid);
}

/** Sends `signal` to `pid` (a process group when negative), ignoring one that is already gone. */
export function signalQuietly(pid: number | undefined, signal: NodeJS.Signals): void {
  // 0 and -1 would signal our own group or every process we may signal.
  if (pid === undefined || pid === 0 || pid === -1) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Every process this user can see, from /proc or `ps`. */
export function listProcesses(): ProcessInfo[] {
  if (hasProc) {
    const found: ProcessInfo[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim();
        if (args) found.push({ pid: Number(entry), args });
      } catch {
        // exited while we looked
      }
    }
    return found;
  }
  try {
    return execFileSync("ps", ["-axo", "pid=,args="], { encoding: "utf8" })
      .split("\n")
      .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
      .flatMap((m) => (m?.[1] && m[2] ? [{ pid: Number(m[1]), args: m[2] }] : []));
  } catch {
    return [];
  }
}

/** Blocks the thread for `ms` milliseconds; only for exit and signal handlers, which cannot await. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Waits, blocking, until none of `pids` runs or `timeoutMs` passes; returns the ones still running. */
export function waitGoneSync(pids: readonly number[], timeoutMs: number): number[] {
  const deadline = Date.now() + timeoutMs;
  let running = pids.filter(isRunning);
  while (running.length > 0 && Date.now() < deadline) {
    sleepSync(10);
    running = running.filter(isRunning);
  }
  return running;
}
