/** A unit of work that occupies two shards while it runs (a move: its source and target). */
export interface ShardTask {
  readonly from: string;
  readonly to: string;
}

/**
 * Runs `tasks` at most `parallel` at a time, never two touching the same shard, starting each
 * time a slot frees the first waiting task (in order) whose shards are free. After a failure
 * nothing new starts; the running tasks finish, then the first failure is thrown.
 */
export async function runOnDisjointShards<T extends ShardTask>(
  tasks: readonly T[],
  parallel: number,
  run: (task: T) => Promise<void>,
): Promise<void> {
  const pending = [...tasks];
  const busy = new Set<string>();
  const running = new Set<Promise<void>>();
  let failed = false;
  let failure: unknown;
  while ((pending.length > 0 && !failed) || running.size > 0) {
    if (!failed) {
      for (let i = 0; i < pending.length && running.size < parallel; ) {
        const task = pending[i] as T;
        if (busy.has(task.from) || busy.has(task.to)) {
          i++;
          continue;
        }
        pending.splice(i, 1);
        busy.add(task.from);
        busy.add(task.to);
        const done: Promise<void> = run(task)
          .catch((error: unknown) => {
            if (!failed) failure = error;
            failed = true;
          })
          .finally(() => {
            busy.delete(task.from);
            busy.delete(task.to);
            running.delete(done);
          });
        running.add(done);
      }
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  if (failed) throw failure;
}
