import { type MysqlEndpoint, parseMysqlUrl, type ShardRecord } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import {
  type BinlogItem,
  type BinlogPosition,
  comparePositions,
  mariadbFlavour,
  openShardConnection,
  openZongjiBinlogSource,
  type ShardConnection,
  shardConnectOptions,
} from "@shardkit/migrate/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let fleet: Fleet;
let shard: ShardRecord;
let conn: ShardConnection;

beforeAll(async () => {
  fleet = await startFleet({ servers: 1 });
  const endpoint: MysqlEndpoint = parseMysqlUrl(fleet.servers[0]?.url as string);
  shard = { name: "s1", ...endpoint, state: "serving" };
  conn = await openShardConnection(shard, { user: endpoint.user, password: endpoint.password });
  await conn.query("CREATE TABLE t (id INT PRIMARY KEY, k VARCHAR(20) NOT NULL, v INT NULL)");
  await conn.query("CREATE TABLE other (id INT PRIMARY KEY)");
});

afterAll(async () => {
  await conn?.close();
  await fleet?.stop();
});

/** Reads the binlog from `start` until it has passed `end`; the items in order. */
async function readUntil(start: BinlogPosition, end: BinlogPosition): Promise<BinlogItem[]> {
  const source = openZongjiBinlogSource(
    shardConnectOptions(shard, { user: shard.user, password: "" }),
    "s1",
    {
      start,
      database: shard.database,
      tables: ["t"],
    },
  );
  const items: BinlogItem[] = [];
  const timer = setTimeout(() => void source.close(), 15_000);
  try {
    for await (const item of source) {
      items.push(item);
      if (comparePositions(item.position, end) >= 0) break;
    }
  } finally {
    clearTimeout(timer);
    await source.close();
  }
  return items;
}

const transactions = (items: BinlogItem[]) =>
  items.flatMap((i) => (i.kind === "transaction" ? [i] : []));

describe("the zongji binlog source", () => {
  it("yields each transaction's row changes in order with whole images and the position after it", async () => {
    const start = await mariadbFlavour.currentPosition(conn, "s1");
    await conn.query("INSERT INTO t VALUES (1, 'a', 10), (2, 'b', NULL)");
    await conn.query("INSERT INTO other VALUES (1)");
    await conn.query("START TRANSACTION");
    await conn.query("UPDATE t SET v = 11, k = 'aa' WHERE id = 1");
    await conn.query("INSERT INTO other VALUES (2)");
    await conn.query("DELETE FROM t WHERE id = 2");
    await conn.query("COMMIT");
    const end = await mariadbFlavour.currentPosition(conn, "s1");
    const items = await readUntil(start, end);
    const txs = transactions(items);
    expect(txs.map((t) => t.changes)).toEqual([
      [
        { table: "t", before: null, after: { id: 1, k: "a", v: 10 } },
        { table: "t", before: null, after: { id: 2, k: "b", v: null } },
      ],
      [
        { table: "t", before: { id: 1, k: "a", v: 10 }, after: { id: 1, k: "aa", v: 11 } },
        { table: "t", before: { id: 2, k: "b", v: null }, after: null },
      ],
    ]);
    // Positions only grow, and the last one is where the server says the binlog ends.
    for (let i = 1; i < items.length; i++) {
      expect(
        comparePositions(
          items[i - 1]?.position as BinlogPosition,
          items[i]?.position as BinlogPosition,
        ),
      ).toBeLessThan(0);
    }
    expect(items.at(-1)?.position).toMatchObject({ file: end.file, pos: end.pos });
    expect(txs[1]?.position.gtid).toMatch(/^\d+-\d+-\d+$/);
  });

  it("resumed from a saved position yields every later transaction once: no duplicate, no gap", async () => {
    const start = await mariadbFlavour.currentPosition(conn, "s1");
    for (let i = 0; i < 20; i++) await conn.query("INSERT INTO t VALUES (?, 'r', ?)", [100 + i, i]);
    const end = await mariadbFlavour.currentPosition(conn, "s1");
    const all = transactions(await readUntil(start, end));
    expect(all.map((t) => t.changes[0]?.after?.id)).toEqual(
      Array.from({ length: 20 }, (_, i) => 100 + i),
    );
    const saved = all[6]?.position as BinlogPosition;
    const resumed = transactions(await readUntil(saved, end));
    expect(resumed.map((t) => t.changes[0]?.after?.id)).toEqual(
      Array.from({ length: 13 }, (_, i) => 107 + i),
    );
  });

  it("reports a statement that alters a streamed table", async () => {
    const start = await mariadbFlavour.currentPosition(conn, "s1");
    await conn.query("ALTER TABLE t ADD COLUMN extra INT NULL");
    await conn.query("ALTER TABLE other ADD COLUMN extra INT NULL");
    const end = await mariadbFlavour.currentPosition(conn, "s1");
    const schema = (await readUntil(start, end)).filter((i) => i.kind === "schema");
    expect(schema.map((i) => i.kind === "schema" && i.table)).toEqual(["t"]);
    await conn.query("ALTER TABLE t DROP COLUMN extra");
  });
});
