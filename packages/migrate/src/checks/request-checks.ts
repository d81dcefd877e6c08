import {
  canonicalKeyBytes,
  columnKey,
  type DirectorySnapshot,
  formatKeyRange,
  getKeyFunction,
  hashKeyFunction,
  type KeyRange,
  type PinnedKey,
  parseKeyRange,
  rangesOverlap,
  ShardKeyError,
  type ShardRecord,
} from "@shardkit/directory";
import { readKeyColumnTypes } from "@shardkit/directory/internal";
import { openShardConnection, type ShardLoginResolver } from "../connection/shard-connection.js";
import { MoveError } from "../move-error.js";
import type { MoveRequest } from "../workflow/move-options.js";

/** What a request names, resolved against the directory: where the rows are and where they go. */
export interface ResolvedRequest {
  readonly kind: "range" | "key";
  /** The range moved; for a key `[ksid, ksid + 1)` of its pin. */
  readonly range: KeyRange;
  readonly source: ShardRecord;
  readonly target: ShardRecord;
  /** For a key: its canonical bytes, how it is shown, the value to pin, and whether it is pinned already. */
  readonly key: {
    readonly bytes: Uint8Array;
    readonly text: string;
    readonly value: unknown;
    readonly pinned: boolean;
  } | null;
}

function shardNamed(snapshot: DirectorySnapshot, name: string, role: string): ShardRecord {
  const shard = snapshot.shards.find((s) => s.name === name);
  if (!shard) {
    const known = snapshot.shards.map((s) => s.name).join(", ") || "none";
    throw new MoveError(
      "UNKNOWN_SHARD",
      `unknown ${role} shard "${name}" (registered: ${known}); pick a registered shard (shardkit shard list)`,
      { details: { shard: name } },
    );
  }
  return shard;
}

function busy(snapshot: DirectorySnapshot, range: KeyRange, what: string): void {
  const move = snapshot.moves.find((m) => rangesOverlap(m.range, range));
  if (move) {
    throw new MoveError(
      "RANGE_BUSY",
      `${what} overlaps move ${move.id}: ${move.kind === "key" ? "a key in it" : `range ${formatKeyRange(move.range)}`} is moving from ${move.source} to ${move.target} (${move.state}); wait for it to finish or abort it (shardkit move abort ${move.id})`,
      { details: { move: move.id } },
    );
  }
}

/**
 * Resolves a move request against the directory, refusing (one line, nothing changed): both or
 * neither of range and key, an unknown target, an overlapping active move, a range not served
 * whole by one serving range of one shard, target = source, a range holding a key pinned to
 * another shard than its source.
 */
export async function resolveRequest(
  snapshot: DirectorySnapshot,
  request: MoveRequest,
  login: ShardLoginResolver,
): Promise<ResolvedRequest> {
  if ((request.range === undefined) === (request.key === undefined)) {
    throw new MoveError(
      "BAD_ARGUMENT",
      "name either a key range or one key to move, not both and not neither",
    );
  }
  const target = shardNamed(snapshot, request.to, "target");
  if (request.key !== undefined) return resolveKey(snapshot, request, target, login);
  const range =
    typeof request.range === "string" ? parseKeyRange(request.range) : (request.range as KeyRange);
  const text = formatKeyRange(range);
  if (snapshot.ranges.length === 0) {
    throw new MoveError(
      "NO_LAYOUT",
      "the directory has no ranges yet; lay them out with shardkit layout even <n>",
    );
  }
  // Before the layout checks: a range overlapping a move in progress spans the piece the move
  // split off, and is busy rather than spanning shards.
  busy(snapshot, range, `range ${text}`);
  const holder = snapshot.ranges.find(
    (r) => r.range.start <= range.start && range.end <= r.range.end,
  );
  if (!holder) {
    const parts = snapshot.ranges
      .filter((r) => rangesOverlap(r.range, range))
      .map((r) => `${formatKeyRange(r.range)} on ${r.shard}`);
    throw new MoveError(
      "RANGE_SPANS_SHARDS",
      `range ${text} is not served whole by one range of one shard (it spans ${parts.join(", ")}); move each part on its own`,
      { details: { range: text } },
    );
  }
  const source = shardNamed(snapshot, holder.shard, "source");
  if (source.name === target.name) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `range ${text} is already on ${target.name}; name another target shard`,
    );
  }
  if (holder.state !== "serving") {
    throw new MoveError(
      "RANGE_BUSY",
      `range ${formatKeyRange(holder.range)} is ${holder.state}; wait for the move that holds it to finish`,
    );
  }
  const away = snapshot.pins.find(
    (p) => p.shard !== source.name && range.start <= p.ksid && p.ksid < range.end,
  );
  if (away) {
    throw new MoveError(
      "PINNED_KEY_IN_RANGE",
      `range ${text} holds the key ${away.keyText}, pinned to ${away.shard} where its rows live; move that key back to ${source.name} first (shardkit move --key) or move a range without it`,
      { details: { range: text, key: away.keyText, shard: away.shard } },
    );
  }
  return { kind: "range", range, source, target, key: null };
}

async function resolveKey(
  snapshot: DirectorySnapshot,
  request: MoveRequest,
  target: ShardRecord,
  login: ShardLoginResolver,
): Promise<ResolvedRequest> {
  let value: unknown = request.key;
  let ksid: number;
  if (request.table !== undefined) {
    const table = snapshot.tables.find((t) => t.name === request.table);
    if (!table) {
      throw new MoveError(
        "UNKNOWN_TABLE",
        `unknown sharded table ${request.table}; name a table of shardkit table list`,
      );
    }
    const type = await keyColumnType(snapshot, table, login);
    const key = columnKey(type, request.key);
    if (key instanceof ShardKeyError) throw key;
    value = key;
    ksid = getKeyFunction(table.keyFunction).ksid(key);
  } else {
    ksid = hashKeyFunction.ksid(value);
  }
  const bytes = canonicalKeyBytes(value);
  const text =
    typeof value === "string"
      ? value
      : Buffer.isBuffer(value)
        ? `0x${value.toString("hex")}`
        : String(value);
  const pin: PinnedKey | undefined = snapshot.pins.find((p) =>
    Buffer.from(p.keyBytes).equals(bytes),
  );
  let source: ShardRecord;
  if (pin) {
    source = shardNamed(snapshot, pin.shard, "source");
    ksid = pin.ksid;
  } else {
    const holder = snapshot.ranges.find((r) => r.range.start <= ksid && ksid < r.range.end);
    if (!holder)
      throw new MoveError(
        "NO_LAYOUT",
        "the directory has no ranges yet; lay them out with shardkit layout even <n>",
      );
    source = shardNamed(snapshot, holder.shard, "source");
    ksid = hashKeyFunction.ksid(value);
  }
  if (source.name === target.name) {
    throw new MoveError(
      "BAD_ARGUMENT",
      `key ${text} is already on ${target.name}; name another target shard`,
    );
  }
  const range = { start: ksid, end: ksid + 1 };
  const active = snapshot.moves.find(
    (m) =>
      (m.kind === "key" && m.keyBytes && Buffer.from(m.keyBytes).equals(bytes)) ||
      (m.kind === "range" && rangesOverlap(m.range, range)),
  );
  if (active) {
    throw new MoveError(
      "RANGE_BUSY",
      `key ${text} is being moved by move ${active.id} (${active.state}); wait for it to finish or abort it (shardkit move abort ${active.id})`,
      { details: { move: active.id } },
    );
  }
  return {
    kind: "key",
    range,
    source,
    target,
    key: { bytes, text, value, pinned: pin !== undefined },
  };
}

/** The key column type of `table` from the first shard that has it. */
async function keyColumnType(
  snapshot: DirectorySnapshot,
  table: { readonly name: string; readonly keyColumn: string },
  login: ShardLoginResolver,
) {
  let failure: unknown = null;
  for (const shard of snapshot.shards) {
    // A shard the mover cannot read (no grant there, or down) leaves the question to the next.
    const conn = await openShardConnection(shard, login(shard)).catch((error: unknown) => {
      failure = error;
      return null;
    });
    if (!conn) continue;
    try {
      const types = await readKeyColumnTypes((sql, params) => conn.query(sql, params), [table]);
      const type = types.get(table.name);
      if (type) return type;
    } catch (error) {
      failure = error;
    } finally {
      await conn.close();
    }
  }
  if (failure) throw failure;
  throw new MoveError(
    "TABLE_NOT_ON_SHARD",
    `no shard has the key column ${table.name}.${table.keyColumn} to read the key by; create the table and retry`,
  );
}
