import { type DirectoryClient, type ReferenceTable, ShardkitError } from "@shardkit/directory";
import { APPLIED_POSITION_TABLE, referenceCopyId } from "@shardkit/directory/internal";
import type { Knex } from "knex";
import type { ShardPools } from "../shard-pools.js";

/** A point in a reference source's binlog: what a copy must have applied to hold a write. */
export interface ReferencePosition {
  readonly file: string;
  readonly pos: number;
}

/** Options of {@link ReferenceTables.wait}. */
export interface WaitForReferenceOptions {
  /** Give up after this long with DEADLINE_EXCEEDED. Default 10000 ms. */
  readonly timeoutMs?: number;
}

const POLL_MS = 20;

/**
 * The router's side of reference tables: knex on each table's source for writes (plain
 * transactions, no fence: the fence is for sharded data), the source's binlog position, and
 * waiting until every shard's copy has applied a position.
 */
export class ReferenceTables {
  constructor(
    private readonly client: DirectoryClient,
    private readonly sources: ShardPools,
    private readonly shards: (shard: string) => Knex,
  ) {}

  /** The reference table `name`, or UNKNOWN_TABLE naming the reference tables there are. */
  table(name: string): ReferenceTable {
    const all = this.client.map.snapshot.referenceTables ?? [];
    const found = all.find((t) => t.name === name);
    if (found) return found;
    throw new ShardkitError(
      "UNKNOWN_TABLE",
      `table ${name} is not a reference table (reference tables: ${all.map((t) => t.name).join(", ") || "none"}); declare it with shardkit reference add ${name} --source <url>`,
      { details: { table: name } },
    );
  }

  /** knex bound to the source database of table `name` (writable). */
  source(name: string): Knex {
    return this.sources.get(this.table(name).source).writer;
  }

  /** The source's binlog position now (SHOW MASTER STATUS on the source). */
  async position(name: string): Promise<ReferencePosition> {
    const [rows] = (await this.source(name).raw("SHOW MASTER STATUS")) as [
      { File: string; Position: number | string }[],
    ];
    const row = rows[0];
    if (!row) {
      throw new ShardkitError(
        "BINLOG_UNSUITABLE",
        `the source of ${name} has no binary log; reference copies need log_bin on their source`,
        { details: { table: name } },
      );
    }
    return { file: row.File, pos: Number(row.Position) };
  }

  /**
   * Waits until every shard's copy of `name` has applied `position` (default: the source's
   * position now, so a write committed before the call is readable on every copy after it).
   */
  async wait(
    name: string,
    position?: ReferencePosition,
    options: WaitForReferenceOptions = {},
  ): Promise<void> {
    const want = position ?? (await this.position(name));
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    let behind = this.client.map.snapshot.shards.map((s) => s.name);
    for (;;) {
      const still: string[] = [];
      for (const shard of behind) {
        const [rows] = (await this.shards(shard).raw(
          `SELECT binlog_file AS file, binlog_pos AS pos FROM ${APPLIED_POSITION_TABLE} WHERE move_id = ?`,
          [referenceCopyId(name, shard)],
        )) as [{ file: string; pos: number | string }[]];
        const at = rows[0];
        if (!at || comparePositions({ file: at.file, pos: Number(at.pos) }, want) < 0) {
          still.push(shard);
        }
      }
      behind = still;
      if (behind.length === 0) return;
      if (Date.now() > deadline) {
        throw new ShardkitError(
          "DEADLINE_EXCEEDED",
          `the copies of ${name} on ${behind.join(", ")} did not reach ${want.file}:${want.pos} in time; is shardkit reference follow running? (shardkit reference list shows each copy's lag)`,
          { details: { table: name, shards: behind } },
        );
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

/** Orders two positions of one server's binlog by file sequence number, then offset. */
function comparePositions(a: ReferencePosition, b: ReferencePosition): number {
  const seq = (f: string) => Number(/\.(\d+)$/.exec(f)?.[1] ?? 0);
  const files = a.file === b.file ? 0 : seq(a.file) - seq(b.file);
  return files !== 0 ? files : a.pos - b.pos;
}
