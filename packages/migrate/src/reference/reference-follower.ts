import type {
  CredentialResolver,
  DirectorySource,
  ReferenceTable,
  ShardRecord,
} from "@shardkit/directory";
import { ShardkitError } from "@shardkit/directory";
import { messageOf } from "../move-error.js";
import { registeredLogins } from "../schema/shard-logins.js";
import type { BinlogOpener } from "../workflow/move-session.js";
import { ReferenceCopy } from "./reference-copy.js";

/** What the follower reports. */
export type FollowEvent =
  | { readonly event: "following"; readonly table: string; readonly shard: string }
  | {
      readonly event: "lag";
      readonly table: string;
      readonly shard: string;
      readonly lagMs: number;
    }
  | { readonly event: "stopped"; readonly table: string; readonly shard: string }
  | {
      readonly event: "failed";
      readonly table: string;
      readonly shard: string;
      readonly code: string;
      readonly error: string;
      /** When the follower tries this copy again. */
      readonly retryInMs: number;
    };

/** Options of {@link followReferenceTables}. */
export interface FollowOptions {
  readonly credentials?: CredentialResolver;
  /** How often the directory's version is read for new tables and shards. Default 1000 ms. */
  readonly pollMs?: number;
  /** How long a failed copy waits before it is tried again. Default 5000 ms. */
  readonly retryMs?: number;
  readonly onEvent?: (event: FollowEvent) => void;
  readonly openBinlog?: BinlogOpener;
}

/** A running follower: stop it to end every applier (their positions stay on the shards). */
export interface ReferenceFollower {
  /** Resolves once every applier stopped. */
  stop(): Promise<void>;
  /** The copies followed now, `table@shard`. */
  readonly copies: readonly string[];
}

interface Running {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/**
 * Keeps every reference table's copy on every shard in step, continuously: one applier per
 * copy (copy what is missing, then stream the source's binlog), started for tables and shards
 * as the directory gains them and stopped as it loses them. A copy that fails is tried again
 * after `retryMs`. This is what `shardkit reference follow` runs; an application can host it
 * instead.
 *
 * @example
 * const follower = followReferenceTables(admin, { onEvent: (e) => log(e) });
 * process.on("SIGTERM", () => follower.stop());
 */
export function followReferenceTables(
  directory: DirectorySource,
  options: FollowOptions = {},
): ReferenceFollower {
  const login = registeredLogins(options.credentials);
  const running = new Map<string, Running>();
  const unfinished = new Set<Promise<void>>();
  const stopping = new AbortController();
  let version = -1;
  const pollMs = options.pollMs ?? 1000;
  const retryMs = options.retryMs ?? 5000;

  const runCopy = async (table: ReferenceTable, shard: ShardRecord, signal: AbortSignal) => {
    const at = { table: table.name, shard: shard.name };
    while (!signal.aborted) {
      let copy: ReferenceCopy | undefined;
      try {
        copy = await ReferenceCopy.open({
          table,
          shard,
          login,
          ...(options.openBinlog ? { openBinlog: options.openBinlog } : {}),
        });
        await copy.sync(signal);
        options.onEvent?.({ event: "following", ...at });
        await copy.follow(signal, (lagMs) => options.onEvent?.({ event: "lag", ...at, lagMs }));
      } catch (error) {
        if (signal.aborted) break;
        options.onEvent?.({
          event: "failed",
          ...at,
          code: error instanceof ShardkitError ? error.code : "INTERNAL",
          error: messageOf(error),
          retryInMs: retryMs,
        });
        await sleep(retryMs, signal);
      } finally {
        await copy?.close().catch(() => undefined);
      }
    }
    options.onEvent?.({ event: "stopped", ...at });
  };

  const reconcile = async () => {
    const now = await directory.version();
    if (now === version) return;
    const snapshot = await directory.snapshot();
    version = snapshot.version;
    const wanted = new Map<string, { table: ReferenceTable; shard: ShardRecord }>();
    for (const table of snapshot.referenceTables ?? []) {
      for (const shard of snapshot.shards)
        wanted.set(`${table.name}@${shard.name}`, { table, shard });
    }
    for (const [key, r] of running) {
      if (!wanted.has(key)) {
        r.controller.abort();
        running.delete(key);
      }
    }
    for (const [key, { table, shard }] of wanted) {
      if (running.has(key)) continue;
      const controller = new AbortController();
      const done = runCopy(table, shard, controller.signal);
      unfinished.add(done);
      void done.finally(() => unfinished.delete(done));
      running.set(key, { controller, done });
    }
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await reconcile();
      } catch (error) {
        options.onEvent?.({
          event: "failed",
          table: "*",
          shard: "*",
          code: error instanceof ShardkitError ? error.code : "INTERNAL",
          error: `cannot read the directory (${messageOf(error)})`,
          retryInMs: pollMs,
        });
      }
      await sleep(pollMs, stopping.signal);
    }
    for (const r of running.values()) r.controller.abort();
    await Promise.allSettled([...unfinished]);
  })();

  return {
    async stop() {
      stopping.abort();
      await loop;
    },
    get copies() {
      return [...running.keys()];
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
