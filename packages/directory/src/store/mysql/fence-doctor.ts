import {
  diffFence,
  ensureFence,
  expectedFence,
  type FenceDifference,
  readFence,
  writeFence,
} from "../../fence/ownership-fence.js";
import { formatKeyRange } from "../../key-range.js";
import type { DoctorReport } from "../directory-admin.js";
import type { StoreParts } from "./change-transaction.js";
import { loadSnapshot, lockVersion } from "./snapshot-reader.js";

/**
 * Compares every shard's ownership table with the directory, holding the version lock so no
 * change runs meanwhile, and rewrites those that differ unless `dryRun`. Unreachable shards
 * and shards whose differing range a move owns are refused, each with what to do.
 */
export async function doctor(
  { directory, shards }: StoreParts,
  options: { readonly dryRun?: boolean } = {},
): Promise<DoctorReport> {
  return directory.serial(async () => {
    const conn = await directory.ready();
    await conn.query("START TRANSACTION");
    try {
      const version = await lockVersion(conn);
      const snapshot = await loadSnapshot(conn, version);
      const differences: FenceDifference[] = [];
      const repaired: string[] = [];
      const refusals: string[] = [];
      const unreachable: string[] = [];
      for (const shard of snapshot.shards) {
        try {
          await shards.with(shard, async (sc) => {
            await ensureFence(sc);
            const want = expectedFence(snapshot, shard.name);
            const diff = diffFence(shard.name, want, await readFence(sc));
            if (diff.length === 0) return;
            differences.push(...diff);
            const busy = snapshot.ranges.filter(
              (r) => r.shard === shard.name && r.state !== "serving",
            );
            if (busy.length > 0) {
              refusals.push(
                `shard ${shard.name} differs from the directory while range ${busy.map((r) => formatKeyRange(r.range)).join(", ")} is ${busy[0]?.state}; finish or abort that move first`,
              );
              return;
            }
            if (!options.dryRun) {
              await writeFence(sc, want, snapshot.version);
              repaired.push(shard.name);
            }
          });
        } catch (error) {
          if ((error as { code?: unknown }).code !== "SHARD_UNAVAILABLE") throw error;
          unreachable.push(shard.name);
          refusals.push(
            `shard ${shard.name} is unreachable (${(error as Error).message}); bring it back (or fix its credentials) and run shardkit doctor again`,
          );
        }
      }
      return {
        version: snapshot.version,
        checkedShards: snapshot.shards.map((s) => s.name),
        differences,
        repairedShards: repaired,
        refusals,
        unreachableShards: unreachable,
      };
    } finally {
      await conn.query("COMMIT");
    }
  });
}
