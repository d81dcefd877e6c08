// The reference-table commands of the engine: add, resync, remove, and the copies a new shard
// gets. The copies themselves: reference-copy.ts; what list, doctor and moves see: reference-status.ts.
import {
  type CredentialResolver,
  type DirectoryAdmin,
  type DirectorySnapshot,
  type ReferenceTable,
  ShardkitError,
  type ShardRecord,
} from "@shardkit/directory";
import { openShardConnection, type ShardLoginResolver } from "../connection/shard-connection.js";
import { dropProgress } from "../copy/target-progress.js";
import { detectFlavour } from "../flavour/detect-flavour.js";
import { MoveError, messageOf } from "../move-error.js";
import { showCreateTable } from "../rows/table-schema.js";
import { registeredLogins } from "../schema/shard-logins.js";
import type { BinlogOpener } from "../workflow/move-session.js";
import { removeReadOnlyGuard } from "./read-only-guard.js";
import { ReferenceCopy } from "./reference-copy.js";
import { dropCopyRecord, referenceCopyId } from "./reference-state.js";

/** Options shared by the reference-table commands. */
export interface ReferenceOptions {
  /** Passwords of shards and sources (by name). Default: the environment. */
  readonly credentials?: CredentialResolver;
  /** Called as each copy is done. */
  readonly onCopy?: (copy: CopySyncResult) => void;
  /** Source rows per copy chunk. Default 1000. */
  readonly chunkSize?: number;
  readonly signal?: AbortSignal;
  /** The binlog client (tests). Default the zongji one. */
  readonly openBinlog?: BinlogOpener;
}

/** One copy brought in step (copied, caught up), or the error that stopped it. */
export interface CopySyncResult {
  readonly table: string;
  readonly shard: string;
  readonly ok: boolean;
  readonly rowsCopied: number;
  readonly lagMs: number | null;
  readonly error?: string;
}

/** The result of a command that brings copies in step; `failure` is the first copy's error. */
export interface ReferenceSyncResult {
  readonly version?: number;
  readonly copies: readonly CopySyncResult[];
  readonly failure?: ShardkitError;
}

/** What {@link addReferenceTable} declares: a table in a source database. */
export interface AddReferenceInput {
  readonly table: string;
  /** The source: its name (for its password) and where it is. */
  readonly source: Omit<ShardRecord, "state">;
}

/** The reference table `name` in a snapshot, or UNKNOWN_TABLE. */
export function requireReferenceTable(snapshot: DirectorySnapshot, name: string): ReferenceTable {
  const table = (snapshot.referenceTables ?? []).find((t) => t.name === name);
  if (table) return table;
  const known = (snapshot.referenceTables ?? []).map((t) => t.name).join(", ") || "none";
  throw new MoveError(
    "UNKNOWN_TABLE",
    `table "${name}" is not a reference table (reference tables: ${known}); see shardkit reference list`,
    { details: { table: name } },
  );
}

/**
 * Declares a reference table and copies it to every shard (copy, then catch-up with the
 * source's binlog). The source is checked first (reachable, row binlog, the table with a
 * primary key), so a refusal changes nothing. A copy that fails is named in the result;
 * `shardkit reference resync` finishes it.
 */
export async function addReferenceTable(
  admin: DirectoryAdmin,
  input: AddReferenceInput,
  options: ReferenceOptions = {},
): Promise<ReferenceSyncResult> {
  const login = registeredLogins(options.credentials);
  const table: ReferenceTable = {
    name: input.table,
    source: { ...input.source, state: "serving" },
  };
  // A name the directory refuses is refused before the source is reached.
  const before = await admin.snapshot();
  const lower = table.name.toLowerCase();
  if (before.tables.some((t) => t.name.toLowerCase() === lower)) {
    throw new MoveError(
      "NAME_CLASH",
      `table ${table.name} is a sharded table; a table is either sharded or a reference table`,
      { details: { table: table.name } },
    );
  }
  await checkSource(table, login);
  const { version } = await admin.addReferenceTable(table);
  const snapshot = await admin.snapshot();
  const copies = await syncCopies(
    snapshot.shards.map((shard) => ({ table, shard })),
    login,
    options,
    false,
  );
  return { version, ...copies };
}

/** Copies every reference table to `shard` (a new shard, or a move's target), one after another. */
export async function copyReferenceTablesTo(
  admin: DirectoryAdmin,
  shardName: string,
  options: ReferenceOptions = {},
): Promise<ReferenceSyncResult> {
  const snapshot = await admin.snapshot();
  const shard = snapshot.shards.find((s) => s.name === shardName);
  if (!shard)
    throw new MoveError("UNKNOWN_SHARD", `unknown shard "${shardName}"; see shardkit shard list`);
  const login = registeredLogins(options.credentials);
  return syncCopies(
    (snapshot.referenceTables ?? []).map((table) => ({ table, shard })),
    login,
    options,
    false,
  );
}

/** Copies a reference table again on every shard (or `shard`): every row over the copy's, then those the source lacks deleted. */
export async function resyncReferenceTable(
  admin: DirectoryAdmin,
  name: string,
  options: ReferenceOptions & { readonly shard?: string } = {},
): Promise<ReferenceSyncResult> {
  const snapshot = await admin.snapshot();
  const table = requireReferenceTable(snapshot, name);
  const shards = options.shard
    ? snapshot.shards.filter((s) => s.name === options.shard)
    : snapshot.shards;
  if (options.shard && shards.length === 0) {
    throw new MoveError(
      "UNKNOWN_SHARD",
      `unknown shard "${options.shard}"; see shardkit shard list`,
      {
        details: { shard: options.shard },
      },
    );
  }
  const login = registeredLogins(options.credentials);
  await checkSource(table, login);
  return syncCopies(
    shards.map((shard) => ({ table, shard })),
    login,
    options,
    true,
  );
}

/**
 * Forgets a reference table: the directory first, then on every shard its read-only triggers
 * and its applier's progress (the table and its rows stay, now writable).
 */
export async function removeReferenceTable(
  admin: DirectoryAdmin,
  name: string,
  options: Pick<ReferenceOptions, "credentials"> = {},
): Promise<{ version: number; shards: readonly string[]; unreachable: readonly string[] }> {
  const before = await admin.snapshot();
  requireReferenceTable(before, name);
  const { version } = await admin.removeReferenceTable(name);
  const login = registeredLogins(options.credentials);
  const done: string[] = [];
  const unreachable: string[] = [];
  for (const shard of before.shards) {
    try {
      const conn = await openShardConnection(shard, login(shard));
      try {
        await removeReadOnlyGuard(conn, name);
        await dropCopyRecord(conn, name);
        await dropProgress(conn, referenceCopyId(name, shard.name)).catch(() => undefined);
      } finally {
        await conn.close();
      }
      done.push(shard.name);
    } catch {
      unreachable.push(shard.name);
    }
  }
  return { version, shards: done, unreachable };
}

/** Checks the source can feed copies: reachable, row binlog with full images. */
async function checkSource(table: ReferenceTable, login: ShardLoginResolver): Promise<void> {
  const conn = await openShardConnection(table.source, login(table.source));
  try {
    const flavour = await detectFlavour(conn);
    const refusal = await flavour.binlogRefusal(conn, table.source.name);
    if (refusal) {
      throw new MoveError("BINLOG_UNSUITABLE", refusal.replace(/^shard /, "source "), {
        details: { source: table.source.name },
      });
    }
    const exists = await showCreateTable(conn, table.name);
    if (exists === null) {
      throw new MoveError(
        "TABLE_NOT_ON_SHARD",
        `source ${table.source.name} (${table.source.host}:${table.source.port}/${table.source.database}) has no table ${table.name}; create it there and retry`,
        { details: { table: table.name, source: table.source.name } },
      );
    }
    const keys = await conn.query(
      "SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY'",
      [table.name],
    );
    if (keys.length === 0) {
      throw new MoveError(
        "NO_PRIMARY_KEY",
        `reference table ${table.name} on source ${table.source.name} has no primary key, which its copies are kept in step by; add one and retry`,
        { details: { table: table.name, source: table.source.name } },
      );
    }
  } finally {
    await conn.close();
  }
}

async function syncCopies(
  work: readonly { table: ReferenceTable; shard: ShardRecord }[],
  login: ShardLoginResolver,
  options: ReferenceOptions,
  reset: boolean,
): Promise<{ copies: CopySyncResult[]; failure?: ShardkitError }> {
  const copies: CopySyncResult[] = [];
  let failure: ShardkitError | undefined;
  for (const { table, shard } of work) {
    let result: CopySyncResult;
    try {
      const copy = await ReferenceCopy.open({
        table,
        shard,
        login,
        ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
        ...(options.openBinlog ? { openBinlog: options.openBinlog } : {}),
      });
      try {
        if (reset) await copy.reset();
        const synced = await copy.sync(options.signal);
        result = { table: table.name, shard: shard.name, ok: true, ...synced };
      } finally {
        await copy.close();
      }
    } catch (error) {
      result = {
        table: table.name,
        shard: shard.name,
        ok: false,
        rowsCopied: 0,
        lagMs: null,
        error: messageOf(error),
      };
      failure ??= new MoveError(
        error instanceof ShardkitError ? error.code : "INTERNAL",
        `the copy of ${table.name} on shard ${shard.name} failed (${messageOf(error)}); once fixed, run shardkit reference resync ${table.name} --shard ${shard.name}`,
        { details: { table: table.name, shard: shard.name }, cause: error },
      );
    }
    copies.push(result);
    options.onCopy?.(result);
  }
  return { copies, ...(failure ? { failure } : {}) };
}
