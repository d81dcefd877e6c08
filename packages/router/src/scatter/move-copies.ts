// Which shards hold rows they do not own while a move runs: before the switch the target holds
// copies of the range's (or key's) rows, after it the source holds them until cleanup. The owner
// is whichever shard the directory says owns the range (or pinned key) now, so the same rule
// covers every state, a failed move's included.
import {
  type ActiveMove,
  canonicalKeyString,
  type DirectoryMap,
  formatKeyRange,
  type KeyRange,
} from "@shardkit/directory";

/** Rows of one move that a shard holds without owning them. */
export interface CopyScope {
  readonly move: ActiveMove;
  /** A range move's range: rows whose keyspace id is in it and that another shard owns are copies. */
  readonly range: KeyRange;
  /** A key move's key, as its canonical string: rows of that key that another shard owns are copies. */
  readonly key: string | null;
}

const EMPTY: ReadonlyMap<string, readonly CopyScope[]> = new Map();
const byMap = new WeakMap<DirectoryMap, ReadonlyMap<string, readonly CopyScope[]>>();

/** Per shard, the moves whose rows it holds without owning them; empty when no move is active. */
export function copiesByShard(map: DirectoryMap): ReadonlyMap<string, readonly CopyScope[]> {
  if (map.snapshot.moves.length === 0) return EMPTY;
  let out = byMap.get(map);
  if (!out) {
    out = computeCopies(map);
    byMap.set(map, out);
  }
  return out;
}

function computeCopies(map: DirectoryMap): ReadonlyMap<string, readonly CopyScope[]> {
  const out = new Map<string, CopyScope[]>();
  for (const move of map.snapshot.moves) {
    const owner = ownerOfMove(map, move);
    const key = move.kind === "key" && move.keyBytes ? canonicalKeyString(move.keyBytes) : null;
    // A key move whose key is unknown is treated as a move of its keyspace id.
    const scope: CopyScope = { move, range: move.range, key };
    for (const shard of new Set([move.source, move.target])) {
      if (shard === owner) continue;
      const list = out.get(shard);
      if (list) list.push(scope);
      else out.set(shard, [scope]);
    }
  }
  return out;
}

/** The shard that owns the move's range (or its pinned key) in `map`; undefined when none does. */
function ownerOfMove(map: DirectoryMap, move: ActiveMove): string | undefined {
  try {
    if (move.kind === "key" && move.keyBytes) return map.lookup(Buffer.from(move.keyBytes)).shard;
    return map.ownerOf(move.range.start).shard;
  } catch {
    return undefined;
  }
}

/** A move as a message names it: `move <id> of <range or key> (<state>, <source> -> <target>)`. */
export function describeMove(move: ActiveMove): string {
  const what = move.kind === "key" ? `key ${keyText(move)}` : `range ${formatKeyRange(move.range)}`;
  return `move ${move.id} of ${what} (${move.state}, ${move.source} -> ${move.target})`;
}

function keyText(move: ActiveMove): string {
  if (!move.keyBytes) return `with keyspace id ${formatKeyRange(move.range)}`;
  const text = Buffer.from(move.keyBytes).toString("utf8");
  return /^[\x20-\x7e]{1,40}$/.test(text)
    ? JSON.stringify(text)
    : `of ${move.keyBytes.length} bytes`;
}
