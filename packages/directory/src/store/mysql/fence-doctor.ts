import {
  describeRow,
  diffFence,
  ensureFence,
  expectedFence,
  type FenceDifference,
  type FenceRow,
  readFence,
  writeFence,
} from "../../fence/ownership-fence.js";
import { formatKeyRange, rangesOverlap } from "../../key-range.js";
import type { DirectorySnapshot } from "../../model.js";
import type { DoctorReport } from "../directory-admin.js";
import type { StoreParts } from "./change-transaction.js";
import { loadSnapshot, lockVersion } from "./snapshot-reader.js";

/**
 * Compares every shard's ownership table with the directory, holding the version lock so no
 * change runs meanwhile, and rewrites those that differ unless `dryRun`. Fence rows an active
 * move governs are left as they are and reported; unreachable shards are refused, each with what
 * to do.
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
            const have = await readFence(sc);
            const governor = (row: FenceRow) => governorOf(snapshot, shard.name, row);
            const diff = diffFence(shard.name, want, have);
            if (diff.length === 0) return;
            differences.push(...diff);
            // Rows a move governs are the move's to change: leave them as they are.
            const governors = new Map<string, string>();
            for (const r of [...want, ...have]) {
              const who = governor(r);
              if (who) governors.set(describeRow(r), who);
            }
            const held = diff.filter((d) => governors.has(d.what));
            for (const what of new Set(held.map((d) => d.what))) {
              refusals.push(
                `shard ${shard.name} differs from the directory on ${what}, which ${governors.get(what)} governs; doctor left it alone: finish or abort that move first`,
              );
            }
            if (held.length === diff.length || options.dryRun) return;
            const keep = have.filter(governor);
            await writeFence(sc, [...want.filter((r) => !governor(r)), ...keep], snapshot.version);
            repaired.push(shard.name);
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

/**
 * Who owns a shard's fence row instead of doctor: an active move of its range or key (on any
 * shard for a key, on its source or target for a range), or a range frozen or moving with no
 * move recorded. Undefined when doctor may rewrite it.
 */
function governorOf(s: DirectorySnapshot, shard: string, row: FenceRow): string | undefined {
  const bytes = Buffer.from(row.keyBytes);
  for (const m of s.moves) {
    const governs =
      m.kind === "key"
        ? row.kind !== "range" && bytes.equals(Buffer.from(m.keyBytes ?? []))
        : row.kind === "range" &&
          (shard === m.source || shard === m.target) &&
          rangesOverlap(row.range, m.range);
    if (governs) return `move ${m.id} (${m.state})`;
  }
  const busy = s.ranges.find(
    (r) =>
      r.shard === shard &&
      r.state !== "serving" &&
      row.kind === "range" &&
      rangesOverlap(r.range, row.range),
  );
  if (busy) return `the ${busy.state} state of range ${formatKeyRange(busy.range)}`;
  const pin = s.pins.find(
    (p) => p.state !== "serving" && row.kind !== "range" && bytes.equals(Buffer.from(p.keyBytes)),
  );
  return pin && `the ${pin.state} state of key ${pin.keyText}`;
}
