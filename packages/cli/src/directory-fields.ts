import type { ShardRecord } from "@shardkit/directory";

/** A keyspace id as 8 lowercase hex digits, as every command prints it (tables and JSON). */
export function ksidHex(ksid: number): string {
  return ksid.toString(16).padStart(8, "0");
}

/** A range's exclusive end as hex; the end of the keyspace is `100000000`. */
export function rangeEndHex(end: number): string {
  return end === 2 ** 32 ? "100000000" : ksidHex(end);
}

/** The fields of a shard that commands print: where it is, never how to log in. */
export function shardFields(s: ShardRecord) {
  return {
    name: s.name,
    host: s.host,
    port: s.port,
    user: s.user,
    database: s.database,
    state: s.state,
  };
}
