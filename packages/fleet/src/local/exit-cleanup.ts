import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { signalQuietly, waitGoneSync } from "./processes.js";

/** A server directory of this process and the program currently running in it, if any. */
export interface OwnedDir {
  readonly dir: string;
  process: ChildProcess | undefined;
}

interface CleanupState {
  readonly owned: Set<OwnedDir>;
  handlersInstalled: boolean;
}

// Kept on globalThis so that two copies of this package in one process (built and source)
// share one set of handlers: two handlers would each wait for the other to re-raise the signal.
const stateKey = Symbol.for("@shardkit/fleet/exit-cleanup");
const globals = globalThis as { [stateKey]?: CleanupState };
globals[stateKey] ??= { owned: new Set(), handlersInstalled: false };
const state: CleanupState = globals[stateKey];
// Everything this process must kill and remove should it end without stop().
const owned = state.owned;

/** Kills every owned process at once, waits for them to die, then removes their directories. */
function killAllNow(): void {
  const entries = [...owned];
  owned.clear();
  const pids = entries.flatMap(({ process: child }) =>
    child?.pid !== undefined && child.exitCode === null && child.signalCode === null
      ? [child.pid]
      : [],
  );
  // Every program the fleet starts leads its own process group; the group takes its helpers too.
  for (const pid of pids) signalQuietly(-pid, "SIGKILL");
  waitGoneSync(pids, 2000);
  for (const e of entries) {
    try {
      rmSync(e.dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // left for the next run's sweep
    }
  }
}

function installHandlers(): void {
  if (state.handlersInstalled) return;
  state.handlersInstalled = true;
  process.on("exit", killAllNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      killAllNow();
      // Alone, we re-raise so the process ends as the signal would have ended it (exit status
      // 128 + signal number). Other listeners took over the signal and decide for themselves.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** Records a directory (and later its processes) to kill and remove if the process ends early. */
export function own(dir: string): OwnedDir {
  installHandlers();
  const entry: OwnedDir = { dir, process: undefined };
  owned.add(entry);
  return entry;
}

/** Forgets a directory that stop() has cleaned up. */
export function disown(entry: OwnedDir): void {
  owned.delete(entry);
}
