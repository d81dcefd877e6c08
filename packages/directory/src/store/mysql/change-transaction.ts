import {
  expectedFence,
  type FenceRow,
  readFence,
  writeFence,
} from "../../fence/ownership-fence.js";
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
}

/**
 * Runs one change: lock the version row, apply, bump the version, check the invariants,
 * bring the fences in step, commit. On any failure the directory rolls back and the fences
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
    const written: { shard: ShardRecord; rows: FenceRow[] }[] = [];
    let before: DirectorySnapshot | undefined;
    try {
      const version = await lockVersion(tx);
      before = await loadSnapshot(tx, version);
      const { fence, passwords } = await apply({ ...parts, tx, before });
      await tx.execute(
        "UPDATE shardkit_directory SET version = version + 1, updated_at = CURRENT_TIMESTAMP(3) WHERE id = 1",
      );
      const after = await loadSnapshot(tx, version + 1);
      checkInvariants(after);
      // Fences first, in the order the change gave (revokes before grants), then the
      // directory commit: a crash in between leaves fences that doctor resets to the directory.
      for (const name of fence) {
        const shard = after.shards.find((s) => s.name === name);
        if (!shard) continue;
        await shards.with(
          shard,
          async (sc) => {
            const prior = await readFence(sc);
            await writeFence(sc, expectedFence(after, name), after.version);
            written.push({ shard, rows: prior });
          },
          passwords?.[name],
        );
      }
      await tx.query("COMMIT");
      return { version: after.version };
    } catch (error) {
      await tx.query("ROLLBACK").catch(() => undefined);
      // Put back what this change wrote to fences, newest first.
      for (const { shard, rows } of written.reverse()) {
        await shards
          .with(shard, (sc) => writeFence(sc, rows, before?.version ?? 0))
          .catch(() => undefined);
      }
      throw error;
    }
  });
}
