// What `reference list`, doctor and a move's checks see of reference copies. Changes nothing.
import type { CredentialResolver, DirectorySnapshot, ReferenceTable } from "@shardkit/directory";
import { openShardConnection, type ShardLoginResolver } from "../connection/shard-connection.js";
import { MoveError, messageOf } from "../move-error.js";
import { showCreateTable } from "../rows/table-schema.js";
import { registeredLogins } from "../schema/shard-logins.js";
import { hasReadOnlyGuard } from "./read-only-guard.js";
import { type ReferenceCopyState, readCopyRecords } from "./reference-state.js";
import { compareReferenceCopy } from "./reference-verify.js";

/** Passwords of shards and sources (by name). Default: the environment. */
interface StatusOptions {
  readonly credentials?: CredentialResolver;
}

/** One copy as `reference list` and doctor see it. */
export interface ReferenceCopyStatus {
  readonly table: string;
  readonly source: string;
  readonly shard: string;
  /** `missing` when the shard has no copy (or no record of one), `unreachable` when it could not be read. */
  readonly state: ReferenceCopyState | "missing" | "unreachable";
  readonly rowsCopied: number;
  /** The lag its applier measured last; grows with the time since when no applier runs. */
  readonly lagMs: number | null;
  /** How long ago the lag was measured (the shard's clock). */
  readonly checkedMsAgo: number | null;
  readonly readOnly: boolean;
  readonly error: string | null;
}

/** Every reference table's copy on every shard, with its state and lag. Changes nothing. */
export async function listReferenceCopies(
  snapshot: DirectorySnapshot,
  options: StatusOptions = {},
): Promise<ReferenceCopyStatus[]> {
  const login = registeredLogins(options.credentials);
  const out: ReferenceCopyStatus[] = [];
  const tables = snapshot.referenceTables ?? [];
  if (tables.length === 0) return out;
  for (const shard of snapshot.shards) {
    const base = (t: ReferenceTable) => ({
      table: t.name,
      source: t.source.name,
      shard: shard.name,
    });
    try {
      const conn = await openShardConnection(shard, login(shard));
      try {
        const records = await readCopyRecords(conn);
        for (const t of tables) {
          const record = records.find((r) => r.table === t.name);
          const exists = (await showCreateTable(conn, t.name)) !== null;
          if (!record || !exists) {
            out.push({
              ...base(t),
              state: "missing",
              rowsCopied: 0,
              lagMs: null,
              checkedMsAgo: null,
              readOnly: false,
              error: null,
            });
            continue;
          }
          out.push({
            ...base(t),
            state: record.state,
            rowsCopied: record.rowsCopied,
            lagMs:
              record.lagMs === null
                ? null
                : record.lagMs + staleness(record.state, record.checkedMsAgo),
            checkedMsAgo: record.checkedMsAgo,
            readOnly: await hasReadOnlyGuard(conn, t.name),
            error: record.error,
          });
        }
      } finally {
        await conn.close();
      }
    } catch (error) {
      for (const t of tables) {
        out.push({
          ...base(t),
          state: "unreachable",
          rowsCopied: 0,
          lagMs: null,
          checkedMsAgo: null,
          readOnly: false,
          error: messageOf(error),
        });
      }
    }
  }
  return out.sort((a, b) =>
    a.table === b.table ? (a.shard < b.shard ? -1 : 1) : a.table < b.table ? -1 : 1,
  );
}

/** A following applier records every second; beyond that, the time since counts as lag. */
function staleness(state: ReferenceCopyState, ago: number | null): number {
  if (ago === null) return 0;
  return state === "following" ? Math.max(0, ago - 2000) : ago;
}

/** A problem doctor found with a reference copy. */
export interface ReferenceProblem {
  readonly table: string;
  readonly shard: string;
  readonly kind: "missing" | "lagging" | "different" | "writable" | "unreachable";
  readonly message: string;
}

/**
 * Checks every copy for doctor: missing, not read-only, lagging past `maxLagMs` (or not
 * followed), or different from its source by chunk checksums (named keys).
 */
export async function checkReferenceCopies(
  snapshot: DirectorySnapshot,
  options: StatusOptions & { readonly maxLagMs?: number } = {},
): Promise<ReferenceProblem[]> {
  const maxLagMs = options.maxLagMs ?? 5000;
  const login = registeredLogins(options.credentials);
  const problems: ReferenceProblem[] = [];
  for (const c of await listReferenceCopies(snapshot, options)) {
    const at = { table: c.table, shard: c.shard };
    if (c.state === "unreachable") {
      problems.push({
        ...at,
        kind: "unreachable",
        message: `${c.shard} could not be read (${c.error})`,
      });
      continue;
    }
    if (c.state === "missing") {
      problems.push({
        ...at,
        kind: "missing",
        message: `no copy of ${c.table} on ${c.shard}; run shardkit reference resync ${c.table} --shard ${c.shard}`,
      });
      continue;
    }
    if (!c.readOnly) {
      problems.push({
        ...at,
        kind: "writable",
        message: `the copy of ${c.table} on ${c.shard} lacks its read-only triggers; run shardkit reference resync ${c.table} --shard ${c.shard}`,
      });
    }
    if (c.state === "failed") {
      problems.push({
        ...at,
        kind: "lagging",
        message: `the applier of ${c.table} on ${c.shard} failed (${c.error}); run shardkit reference resync ${c.table} --shard ${c.shard}`,
      });
    } else if (c.lagMs !== null && c.lagMs > maxLagMs) {
      problems.push({
        ...at,
        kind: "lagging",
        message: `the copy of ${c.table} on ${c.shard} lags ${c.lagMs} ms (bound ${maxLagMs} ms)${c.state === "following" ? "" : "; no applier follows it: run shardkit reference follow"}`,
      });
    }
    const table = (snapshot.referenceTables ?? []).find((t) => t.name === c.table);
    const shard = snapshot.shards.find((s) => s.name === c.shard);
    if (!table || !shard) continue;
    try {
      const diff = await compareReferenceCopy(table, shard, login);
      if (diff.differences > 0) {
        problems.push({
          ...at,
          kind: "different",
          message: `the copy of ${c.table} on ${c.shard} differs from its source in ${diff.differences} row(s) (keys ${diff.differingKeys.join(", ")}); run shardkit reference resync ${c.table} --shard ${c.shard}`,
        });
      }
    } catch (error) {
      problems.push({
        ...at,
        kind: "unreachable",
        message: `could not compare ${c.table} on ${c.shard} (${messageOf(error)})`,
      });
    }
  }
  return problems;
}

/**
 * Refuses a move's target (or any shard about to serve a range) that lacks a copy of a
 * reference table, or whose copy was never brought in step: REFERENCE_COPY_MISSING.
 */
export async function requireReferenceCopies(
  snapshot: DirectorySnapshot,
  shardName: string,
  login: ShardLoginResolver,
): Promise<void> {
  const tables = snapshot.referenceTables ?? [];
  const shard = snapshot.shards.find((s) => s.name === shardName);
  if (tables.length === 0 || !shard) return;
  const conn = await openShardConnection(shard, login(shard));
  try {
    const records = await readCopyRecords(conn);
    for (const t of tables) {
      const record = records.find((r) => r.table === t.name);
      if (!record || record.state === "copying" || (await showCreateTable(conn, t.name)) === null) {
        throw new MoveError(
          "REFERENCE_COPY_MISSING",
          `shard ${shardName} has no copy of reference table ${t.name} yet; run shardkit reference resync ${t.name} --shard ${shardName}, then retry`,
          { details: { table: t.name, shard: shardName } },
        );
      }
    }
  } finally {
    await conn.close();
  }
}
