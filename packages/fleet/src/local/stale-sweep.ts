import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRunning, listProcesses, signalQuietly, waitGoneSync } from "./processes.js";

/** The folder holding every local server's directory, `<os.tmpdir()>/shardkit-fleet`. */
export function fleetRoot(): string {
  return join(tmpdir(), "shardkit-fleet");
}

const DIR_NAME = /^(\d+)-[0-9a-f]+-\d+$/;
const OWNER_FILE = "owner.json";

/** Who made a server directory; enough to tell, later and from another process, whether it still runs. */
interface Owner {
  readonly pid: number;
  /** Kernel start time of the pid, so a reused pid is not taken for the owner. */
  readonly startTime?: string;
  readonly bootId?: string;
  /** Pids are only comparable inside one pid namespace (one container). */
  readonly pidNamespace?: string;
}

function readOr(read: () => string): string | undefined {
  try {
    return read().trim() || undefined;
  } catch {
    return undefined;
  }
}

function startTimeOf(pid: number): string | undefined {
  const stat = readOr(() => readFileSync(`/proc/${pid}/stat`, "utf8"));
  // Field 22; the fields after the command name start at field 3.
  return stat?.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

function currentOwner(): Owner {
  return {
    pid: process.pid,
    startTime: startTimeOf(process.pid),
    bootId: readOr(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8")),
    pidNamespace: readOr(() => readlinkSync("/proc/self/ns/pid")),
  };
}

let self: Owner | undefined;

/**
 * Creates a new server directory `<root>/<pid>-<random>-<index>` owned by this process,
 * recording the owner so that a later sweep can tell whether this process is gone.
 */
export function createServerDir(root: string, index: number): string {
  self ??= currentOwner();
  if (!existsSync(root)) {
    mkdirSync(root, { recursive: true });
    try {
      // Shared like /tmp: every user may add directories, and only remove their own.
      chmodSync(root, 0o1777);
    } catch {
      // made by another process in the meantime
    }
  }
  const dir = join(root, `${process.pid}-${randomBytes(3).toString("hex")}-${index}`);
  mkdirSync(dir);
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify(self));
  return dir;
}

function ownerIsGone(name: string, dir: string): boolean {
  const pid = Number(DIR_NAME.exec(name)?.[1]);
  let owner: Owner = { pid };
  try {
    owner = { ...JSON.parse(readFileSync(join(dir, OWNER_FILE), "utf8")), pid };
  } catch {
    // made by a run that died before it wrote the owner file: the pid in the name decides
  }
  self ??= currentOwner();
  if (owner.pidNamespace && self.pidNamespace && owner.pidNamespace !== self.pidNamespace) {
    return false; // another container's pid: there is no telling whether it runs
  }
  if (owner.bootId && self.bootId && owner.bootId !== self.bootId) return true;
  if (!isRunning(pid)) return true;
  const startTime = startTimeOf(pid);
  return Boolean(owner.startTime && startTime && owner.startTime !== startTime);
}

const SERVER_PROGRAM = /mysqld|mariadbd|install-db|install_db/;

/** Pids of MySQL servers and initialisers whose command line names a path inside `dir`. */
export function serverProcessesUsing(dir: string): number[] {
  return listProcesses()
    .filter(
      (p) => p.pid !== process.pid && SERVER_PROGRAM.test(p.args) && p.args.includes(`${dir}/`),
    )
    .map((p) => p.pid);
}

/**
 * Removes the server directories under `root` whose owning process is gone, first killing any
 * server still running from one; returns the directories removed. A live owner's are never touched.
 */
export function sweepStale(root = fleetRoot()): string[] {
  if (!existsSync(root)) return [];
  const swept: string[] = [];
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    if (!DIR_NAME.test(name) || !ownerIsGone(name, dir)) continue;
    const orphans = serverProcessesUsing(dir);
    for (const pid of orphans) signalQuietly(pid, "SIGKILL");
    // A server killed mid-write must be gone before its files are removed.
    if (waitGoneSync(orphans, 5000).length > 0) continue;
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      swept.push(dir);
    } catch {
      // another user's directory, or swept by a process running the same sweep
    }
  }
  return swept;
}
