// How a move record prints: its fields for `moves` and `move status`, and the time spent in each
// state, read from its history.
import { formatKeyRange, type MoveEventRecord, type MoveRecord } from "@shardkit/directory";

/** A move's fields as commands print them (JSON-safe: dates as ISO strings, the key as text). */
export function moveFields(m: MoveRecord) {
  return {
    id: m.id,
    kind: m.kind,
    range: formatKeyRange(m.range),
    key: m.keyText,
    source: m.source,
    target: m.target,
    state: m.state,
    failedIn: m.failedIn,
    error: m.error,
    switchedVersion: m.switchedVersion,
    lease:
      m.leaseOwner === null
        ? null
        : { owner: m.leaseOwner, expiresAt: m.leaseExpiresAt?.toISOString() ?? null },
    options: m.options,
    progress: m.progress,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
  };
}

/** The row of one move in `shardkit moves`: its fields, and `what`, `status` and `updated` for the table. */
export function moveRow(m: MoveRecord) {
  return {
    ...moveFields(m),
    what: m.kind === "key" ? `key ${m.keyText ?? "?"}` : formatKeyRange(m.range),
    status: m.state === "failed" && m.failedIn ? `failed (in ${m.failedIn})` : m.state,
    updated: m.updatedAt.toISOString().replace("T", " ").slice(0, 19),
  };
}

/**
 * Milliseconds spent in each state, from a move's history (oldest first): a state lasts from
 * its first entry to the next entry in another state; the current state runs until `now`,
 * unless the move has ended.
 */
export function stateDurations(
  events: readonly MoveEventRecord[],
  now: Date,
  ended: boolean,
): Record<string, number> {
  const spent: Record<string, number> = {};
  const add = (state: string, ms: number) => {
    spent[state] = (spent[state] ?? 0) + Math.max(0, ms);
  };
  let state: string | null = null;
  let since = 0;
  for (const e of events) {
    if (state === e.state) continue;
    if (state !== null) add(state, e.at.getTime() - since);
    state = e.state;
    since = e.at.getTime();
  }
  if (state !== null && !ended) add(state, now.getTime() - since);
  return spent;
}
