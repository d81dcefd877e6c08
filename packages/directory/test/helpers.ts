import {
  connect,
  type FenceRow,
  parseMysqlUrl,
  readFence,
  type SqlConnection,
} from "@shardkit/directory";

/** Reads a shard database's ownership table, sorted, as plain strings for comparison. */
export async function fenceOf(url: string): Promise<string[]> {
  const conn = await connect(parseMysqlUrl(url));
  try {
    return (await readFence(conn)).map(describeRow).sort();
  } finally {
    await conn.close();
  }
}

/** Runs statements on a database given by URL. */
export async function sql(url: string, ...statements: string[]): Promise<unknown[][]> {
  const conn: SqlConnection = await connect(parseMysqlUrl(url));
  try {
    const out: unknown[][] = [];
    for (const s of statements) out.push(await conn.query(s));
    return out;
  } finally {
    await conn.close();
  }
}

function describeRow(r: FenceRow): string {
  const key = r.keyBytes.length ? ` ${Buffer.from(r.keyBytes).toString()}` : "";
  return `${r.kind} ${r.range.start.toString(16)}-${r.range.end.toString(16)}${key} ${r.state}`;
}

/** An endpoint of a URL, ready for addShard. */
export function shardInput(name: string, url: string) {
  return { name, ...parseMysqlUrl(url) };
}
