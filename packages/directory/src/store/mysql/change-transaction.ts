import {
  type FenceRowKey,
  fenceRowKey,
  replaceFenceRows,
  sameKey,
} from "../../fence/fence-row-edits.js";
import { expectedFence, readFence, writeFence } from "../../fence/ownership-fence.js";
import type { DirectorySnapshot, ShardRecord } from "../../model.js";
import type { SqlConnection } from "../../mysql/sql-connection.js";
import type { ChangeResult } from "../directory-admin.js";
import type { DirectoryConnection } from "./directory-connection.js";
import { checkInvariants } from "./directory-invariants.js";
import type { ShardConnections } from "./shard-connections.js";
import { loadSnapshot, lockVersion } from "./snapshot-reader.js";

/** What the changes work with: the directory's connection and the shards. */
export interface StoreParts {
  readonly directory: DirectoryConnection;
  readonly shards: ShardConnections;
}

/** One change's view: its open transaction on the directory and the map before it. */
export interface ChangeContext extends StoreParts {
  readonly tx: SqlConnection;
  readonly before: DirectorySnapshot;
}

/** What a change asks of the fences once its rows are written. */
export interface ChangePlan {
  /** Shards whose fence to rewrite, in order: those losing ownership before those gaining it. */
  readonly fence: readonly string[];
  /** Passwords for shards not registered yet (a shard being added). */
  readonly passwords?: Readonly<Record<string, string>>;
  /**
   * Fence rows to bring in step one by one, after the rewrites, in order (a shard losing
   * ownership before one gaining it): the shard's other rows, and writes to them, are untouched.
   */
  readonly rows?: readonly FenceRowChange[];
  /** Nothing changed in the directory: no version bump; `rows` are still brought in step. */
  readonly unchanged?: boolean;
}

/** Some fence rows of one shard to make what the directory says, by key. */
export interface FenceRowChange {
  readonly shard: string;
  readonly keys: readonly FenceRowKey[];
  /** Seconds to wait for writes in flight on those rows. Default: the server's lock wait timeout. */
  readonly lockWaitSeconds?: number;
}

/**
 * Runs one change: lock the version row, apply, bump the version, check the invariants,
 * bring the fences in step (whole tables, then single rows), commit. On any failure the directory rolls back and the fences
 * already rewritten are put back.
 */
export async function runChange(
  parts: StoreParts,
  apply: (change: ChangeContext) => Promise<ChangePlan>,
): Promise<ChangeResult> {
  const { directory, shards } = parts;
  return directory.serial(async () => {
    const tx = await directory.ready();
    await tx.query("START TRANSACTION");
    // How to put back what this change wrote to fences, oldest first.
    const undo: { shard: ShardRecord; restore: (sc: SqlConnection) => Promise<unknown> }[] = [];
    let before: DirectorySnapshot | undefined;
    try {
      const version = await lockVersion(tx);
      before = await loadSnapshot(tx, version);
      const plan = await apply({ ...parts, tx, before });
      let after = before;
      if (!plan.unchanged) {
        await tx.execute(
          "UPDATE shardkit_directory SET version = version + 1, updated_at = CURRENT_TIMESTAMP(3) WHERE id = 1",
        );
        after = await loadSnapshot(tx, version + 1);
        checkInvariants(after);
      }
      const old = before.version;
      // Fences first, in the order the change gave (revokes before grants), then the
      // directory commit: a crash in between leaves fences that doctor resets to the directory.
      for (const name of plan.fence) {
        const shard = after.shards.find((s) => s.name === name);
        if (!shard) continue;
        await shards.with(
          shard,
          async (sc) => {
            const prior = await readFence(sc);
            await writeFence(sc, expectedFence(after, name), after.version);
            undo.push({ shard, restore: (c) => writeFence(c, prior, old) });
          },
          plan.passwords?.[name],
        );
      }
      for (const { shard: name, keys, lockWaitSeconds } of plan.rows ?? []) {
        const shard = after.shards.find((s) => s.name === name);
        if (!shard) continue;
        const want = expectedFence(after, name).filter((r) =>
          keys.some((k) => sameKey(k, fenceRowKey(r))),
        );
        await shards.with(shard, async (sc) => {
          const prior = await replaceFenceRows(sc, keys, want, after.version, { lockWaitSeconds });
          undo.push({ shard, restore: (c) => replaceFenceRows(c, keys, prior, old) });
        });
      }
      await tx.query("COMMIT");
      return { version: after.version };
    } catch (error) {
      await tx.query("ROLLBACK").catch(() => undefined);
      // Put back what this change wrote to fences, newest first.
      for (const { shard, restore } of undo.reverse()) {
        await shards.with(shard, restore).catch(() => undefined);
      }
      throw error;
    }
  });
}
