import { hashKeyFunction, parseMysqlUrl } from "@shardkit/directory";
import { startFleet } from "@shardkit/fleet";
import {
  openShardConnection,
  rangeSelector,
  readChunk,
  readTableSchemas,
} from "@shardkit/migrate/internal";

const MUL = (a, b) =>
  `((((${a}) & 65535) * ${b} + (((((${a}) >> 16) * ${b}) & 65535) << 16)) & 4294967295)`;
const FN = `CREATE FUNCTION shardkit_ksid(k VARBINARY(255)) RETURNS INT UNSIGNED DETERMINISTIC NO SQL
BEGIN
  DECLARE h BIGINT UNSIGNED DEFAULT 0;
  DECLARE n INT DEFAULT LENGTH(k);
  DECLARE i INT DEFAULT 1;
  DECLARE k1 BIGINT UNSIGNED;
  WHILE i + 3 <= n DO
    SET k1 = ASCII(SUBSTRING(k, i, 1)) | (ASCII(SUBSTRING(k, i + 1, 1)) << 8) | (ASCII(SUBSTRING(k, i + 2, 1)) << 16) | (ASCII(SUBSTRING(k, i + 3, 1)) << 24);
    SET k1 = ${MUL("k1", 3432918353)};
    SET k1 = ((k1 << 15) | (k1 >> 17)) & 4294967295;
    SET k1 = ${MUL("k1", 461845907)};
    SET h = h ^ k1;
    SET h = ((h << 13) | (h >> 19)) & 4294967295;
    SET h = (h * 5 + 3864292196) & 4294967295;
    SET i = i + 4;
  END WHILE;
  SET k1 = 0;
  IF n - i + 1 >= 3 THEN SET k1 = k1 ^ (ASCII(SUBSTRING(k, i + 2, 1)) << 16); END IF;
  IF n - i + 1 >= 2 THEN SET k1 = k1 ^ (ASCII(SUBSTRING(k, i + 1, 1)) << 8); END IF;
  IF n - i + 1 >= 1 THEN
    SET k1 = k1 ^ ASCII(SUBSTRING(k, i, 1));
    SET k1 = ${MUL("k1", 3432918353)};
    SET k1 = ((k1 << 15) | (k1 >> 17)) & 4294967295;
    SET k1 = ${MUL("k1", 461845907)};
    SET h = h ^ k1;
  END IF;
  SET h = h ^ n;
  SET h = h ^ (h >> 16);
  SET h = ${MUL("h", 2246822507)};
  SET h = h ^ (h >> 13);
  SET h = ${MUL("h", 3266489909)};
  SET h = h ^ (h >> 16);
  RETURN h;
END`;

const ROWS = 200000;
const fleet = await startFleet({ servers: 1 });
try {
  const shard = {
    name: "s",
    ...parseMysqlUrl(await fleet.servers[0].createDatabase("ks")),
    state: "serving",
  };
  const c = await openShardConnection(shard, { user: shard.user, password: "" });
  await c.execute(FN);
  for (const k of [
    "",
    "a",
    "ab",
    "abc",
    "abcd",
    "hello",
    "12345",
    "alice",
    "é",
    "0123456789abcdef",
  ]) {
    const [{ v }] = await c.query("SELECT shardkit_ksid(?) AS v", [Buffer.from(k)]);
    if (Number(v) !== hashKeyFunction.ksid(k))
      throw new Error(`mismatch for ${k}: ${v} vs ${hashKeyFunction.ksid(k)}`);
  }
  await c.execute(
    "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL, payload VARCHAR(80) NOT NULL, n INT NOT NULL) ENGINE=InnoDB",
  );
  for (let i = 0; i < ROWS; i += 5000) {
    const rows = [];
    for (let j = i; j < i + 5000; j++) rows.push([j + 1, (j * 7919) % 100000, "x".repeat(78), j]);
    await c.query("INSERT INTO t VALUES ?", [rows]);
  }
  const range = { start: 0, end: 0x4000_0000 };
  const { schemas } = await readTableSchemas(c, "s", [
    { name: "t", keyColumn: "user_id", keyFunction: "hash" },
  ]);
  const table = schemas.get("t");
  const selector = rangeSelector(range, []);
  for (let round = 0; round < 2; round++) {
    let t = performance.now();
    let after = null;
    let kept = 0;
    let read = 0;
    for (;;) {
      const rows = await readChunk(c, table, after, 1000);
      if (!rows.length) break;
      read += rows.length;
      kept += selector.filter(table, rows).length;
      after = [rows.at(-1).id];
      if (rows.length < 1000) break;
    }
    const jsMs = performance.now() - t;
    t = performance.now();
    after = 0;
    let keptSql = 0;
    for (;;) {
      const [{ last }] = await c.query(
        "SELECT MAX(id) AS last FROM (SELECT id FROM t WHERE id > ? ORDER BY id LIMIT 1000) x",
        [after],
      );
      if (last === null) break;
      const rows = await c.query(
        "SELECT * FROM t WHERE id > ? AND id <= ? AND shardkit_ksid(CAST(user_id AS CHAR)) BETWEEN ? AND ?",
        [after, last, range.start, range.end - 1],
      );
      keptSql += rows.length;
      after = Number(last);
    }
    const sqlMs = performance.now() - t;
    console.log(
      JSON.stringify({
        rows: read,
        moved: kept,
        movedSql: keptSql,
        readPerMoved: +(read / kept).toFixed(2),
        jsFilterMs: Math.round(jsMs),
        storedFunctionMs: Math.round(sqlMs),
      }),
    );
  }
  await c.close();
} finally {
  await fleet.stop();
}
