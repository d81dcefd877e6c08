// Reference tables on a real fleet: a source database on one server, shards on two, the
// copies kept in step by the follower while a workload writes the source; a shard added
// later; an applier stopped and started again; copies refusing writes; the router's
// reference() and waitForReference(); doctor; and the CLI's refusals. One file because every
// test needs the same two-server fleet with row binlog, started once.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseMysqlUrl } from "@shardkit/directory";
import { connect, type SqlConnection } from "@shardkit/directory/internal";
import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import { followReferenceTables, type ReferenceFollower } from "@shardkit/migrate";
import { createRouter } from "@shardkit/router";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  DirectoryFactory,
  expectRefusal,
  shardkitBin,
  sql,
  type TestDirectory,
} from "./cli-harness.js";

let fleet: Fleet;
let a: FleetServer;
let b: FleetServer;
let directories: DirectoryFactory;

beforeAll(async () => {
  fleet = await startFleet({ servers: 2 });
  [a, b] = fleet.servers as [FleetServer, FleetServer];
  directories = new DirectoryFactory(a);
});

afterAll(async () => {
  await directories?.close();
  await fleet?.stop();
});

const PRODUCTS =
  "CREATE TABLE products (id BIGINT PRIMARY KEY, title VARCHAR(100) NOT NULL, price DECIMAL(10,2) NOT NULL)";
const ORDERS =
  "CREATE TABLE orders (order_id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, product_id BIGINT NOT NULL, CONSTRAINT orders_product FOREIGN KEY (product_id) REFERENCES products (id))";

interface World {
  readonly dir: TestDirectory;
  readonly sourceUrl: string;
  readonly source: SqlConnection;
  close(): Promise<void>;
}

/**
 * A directory with shards s1 (server a) and s2 (server b), products in a source database on
 * server b declared a reference table, and orders sharded by customer_id with a foreign key
 * to products on every shard.
 */
async function world(seed = 50): Promise<World> {
  const dir = await directories.create({ shards: [a, b], layout: 2 });
  const sourceUrl = await b.createDatabase("global");
  await sql(sourceUrl, PRODUCTS);
  const source = await connect(parseMysqlUrl(sourceUrl));
  for (let i = 1; i <= seed; i++) {
    await source.execute("INSERT INTO products VALUES (?, ?, ?)", [i, `product ${i}`, `${i}.50`]);
  }
  const add = await dir.cli([
    "reference",
    "add",
    "products",
    "--source",
    sourceUrl,
    "--source-name",
    "global",
  ]);
  expect(add.code, add.stderr).toBe(0);
  for (const url of dir.shardUrls) await sql(url, ORDERS);
  const table = await dir.cli(["table", "add", "orders", "--key", "customer_id"]);
  expect(table.code, table.stderr).toBe(0);
  return { dir, sourceUrl, source, close: () => source.close() };
}

async function rows(url: string, table = "products"): Promise<unknown[]> {
  const conn = await connect(parseMysqlUrl(url));
  try {
    return await conn.query(`SELECT * FROM ${table} ORDER BY 1`);
  } finally {
    await conn.close();
  }
}

/** Waits until every url's products equal the source's, or fails after `ms`. */
async function converged(w: World, urls: readonly string[], ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const want = await rows(w.sourceUrl);
    const have = await Promise.all(urls.map((u) => rows(u)));
    if (have.every((h) => JSON.stringify(h) === JSON.stringify(want))) return;
    if (Date.now() > deadline) {
      expect(have).toEqual(urls.map(() => want));
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the installed shardkit bin with `env`; `done` turns true once it ended. */
function runBin(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> & { done: Promise<boolean> } {
  const child = spawn(process.execPath, [shardkitBin, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "ignore"],
  });
  let ended = false;
  const result = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => {
      ended = true;
      resolve({ code, signal });
    }),
  );
  return Object.assign(result, {
    get done() {
      return Promise.resolve(ended);
    },
  });
}

function follow(w: World): ReferenceFollower {
  return followReferenceTables(w.dir.store, { pollMs: 200, retryMs: 500 });
}

describe("shardkit reference add", () => {
  it("copies the table to every shard, read-only, and lists each copy", async () => {
    const w = await world();
    try {
      for (const url of w.dir.shardUrls) expect(await rows(url)).toEqual(await rows(w.sourceUrl));
      const list = await w.dir.json<
        { table: string; shard: string; state: string; readOnly: boolean; source: string }[]
      >(["reference", "list"]);
      expect(
        list.map((c) => [c.table, c.shard, c.state, c.readOnly, c.source]),
        JSON.stringify(list),
      ).toEqual([
        ["products", "s1", "copied", true, "global"],
        ["products", "s2", "copied", true, "global"],
      ]);
      // A write to a copy is refused for every session but the applier's.
      const s1 = await connect(parseMysqlUrl(w.dir.shardUrls[0] as string));
      try {
        for (const statement of [
          "INSERT INTO products VALUES (999, 'x', 1)",
          "UPDATE products SET price = 0 WHERE id = 1",
          "DELETE FROM products WHERE id = 2",
        ]) {
          await expect(s1.execute(statement)).rejects.toThrow(
            /products is a reference copy, read-only here/,
          );
        }
      } finally {
        await s1.close();
      }
      expect(await rows(w.dir.shardUrls[0] as string)).toEqual(await rows(w.sourceUrl));
      const diff = await w.dir.cli(["schema", "diff"]);
      expect(diff.code, diff.stdout + diff.stderr).toBe(0);
    } finally {
      await w.close();
    }
  });

  it.each([
    [
      "a table the source lacks",
      ["reference", "add", "stores", "--source", "SOURCE", "--source-name", "global"],
      3,
      /source global \(.*\) has no table stores; create it there/,
    ],
    [
      "a sharded table's name",
      ["reference", "add", "orders", "--source", "SOURCE", "--source-name", "global"],
      4,
      /table orders is a sharded table/,
    ],
    [
      "a source URL without a database",
      ["reference", "add", "products", "--source", "mysql://root@127.0.0.1:1"],
      2,
      /names no database/,
    ],
    [
      "an unknown table to resync",
      ["reference", "resync", "stores"],
      3,
      /"stores" is not a reference table/,
    ],
    [
      "an unknown table to remove",
      ["reference", "remove", "stores"],
      3,
      /"stores" is not a reference table/,
    ],
  ])("refuses %s in one line, changing nothing", async (_, args, status, message) => {
    const w = await world(3);
    try {
      const before = {
        version: await w.dir.store.version(),
        s1: await rows(w.dir.shardUrls[0] as string),
      };
      const r = await w.dir.cli(args.map((x) => (x === "SOURCE" ? w.sourceUrl : x)));
      expectRefusal(r, status, message);
      const json = await w.dir.cli([
        "--json",
        ...args.map((x) => (x === "SOURCE" ? w.sourceUrl : x)),
      ]);
      expect(json.code).toBe(status);
      expect(JSON.parse(json.stdout)).toHaveProperty("error.code");
      expect({
        version: await w.dir.store.version(),
        s1: await rows(w.dir.shardUrls[0] as string),
      }).toEqual(before);
    } finally {
      await w.close();
    }
  });
});

describe("reference copies in step", () => {
  it("keeps every copy in step under a concurrent workload, within the bound, with foreign keys from sharded rows", async () => {
    const w = await world();
    const follower = follow(w);
    const router = await createRouter({
      directory: w.dir.url,
      pollIntervalMs: 100,
      heartbeatId: false,
    });
    try {
      // Writers on the source: inserts, updates and deletes, while readers time each write's arrival.
      const lags: number[] = [];
      let next = 1000;
      const products = () => router.reference("products")("products");
      const writer = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const id = next++;
          await products().insert({ id, title: `new ${id}`, price: "1.00" });
          await products()
            .where({ id: id - 900 })
            .update({ price: "9.99" });
          if (id % 3 === 0)
            await products()
              .where({ id: id - 950 })
              .delete();
        }
      };
      const timer = async () => {
        for (let i = 0; i < 8; i++) {
          const id = 5000 + i;
          await products().insert({ id, title: "timed", price: "2.00" });
          const t0 = performance.now();
          await router.waitForReference("products", undefined, { timeoutMs: 5000 });
          lags.push(performance.now() - t0);
        }
      };
      await Promise.all([writer(60), writer(60), timer()]);
      await converged(w, w.dir.shardUrls);
      expect(Math.max(...lags)).toBeLessThan(2000);

      // A sharded row referencing a reference row: the write waits for the copy, then the join runs on one shard.
      await router
        .reference("products")
        .transaction((trx) => trx("products").insert({ id: 7777, title: "lamp", price: "30.00" }));
      await router.waitForReference("products");
      await router.write(42, (trx) =>
        trx("orders").insert({ order_id: 1, customer_id: 42, product_id: 7777 }),
      );
      const joined = await router
        .read(42)
        .from("orders")
        .join("products", "products.id", "orders.product_id")
        .where({ customer_id: 42 })
        .select("order_id", "title");
      expect(joined).toEqual([{ order_id: 1, title: "lamp" }]);
      // The router's own write paths cannot write a copy either.
      await expect(
        router.write(42, (trx) => trx("products").insert({ id: 8888, title: "x", price: "1.00" })),
      ).rejects.toThrow(/products is a reference copy, read-only here/);
      // Without the reference row the shard's foreign key refuses the order.
      await expect(
        router.write(42, (trx) =>
          trx("orders").insert({ order_id: 2, customer_id: 42, product_id: 424242 }),
        ),
      ).rejects.toThrow(/foreign key constraint fails/);
      const list = await w.dir.json<{ state: string; lagMs: number }[]>(["reference", "list"]);
      expect(list.map((c) => c.state)).toEqual(["following", "following"]);
      for (const c of list) expect(c.lagMs).toBeLessThan(2000);
      const doctor = await w.dir.cli(["doctor"]);
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
      expect(doctor.stdout).toMatch(
        /every reference copy is present, read-only, in step and equal to its source/,
      );
    } finally {
      await router.close();
      await follower.stop();
      await w.close();
    }
  });

  it("gives a shard added later the tables, and follows it", async () => {
    const w = await world(20);
    const follower = follow(w);
    try {
      const s3 = await b.createDatabase("s3");
      const add = await w.dir.cli(["shard", "add", "s3", s3]);
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toMatch(/reference tables copied: products \(20 rows\)/);
      expect(await rows(s3)).toEqual(await rows(w.sourceUrl));
      await w.source.execute("UPDATE products SET title = 'renamed' WHERE id = 3");
      await w.source.execute("INSERT INTO products VALUES (21, 'late', 3.00)");
      await converged(w, [...w.dir.shardUrls, s3]);
    } finally {
      await follower.stop();
      await w.close();
    }
  });

  it("resumes a stopped applier from its committed position, losing nothing", async () => {
    const w = await world(30);
    let follower = follow(w);
    try {
      await w.source.execute("UPDATE products SET price = 1 WHERE id <= 10");
      await converged(w, w.dir.shardUrls);
      await follower.stop();
      // Changes while no applier runs: inserts, updates, deletes.
      await w.source.execute(
        "INSERT INTO products VALUES (31, 'while stopped', 4.00), (32, 'also', 5.00)",
      );
      await w.source.execute("UPDATE products SET title = 'changed' WHERE id BETWEEN 11 AND 15");
      await w.source.execute("DELETE FROM products WHERE id IN (1, 2, 3)");
      const stale = await w.dir.json<{ lagMs: number }[]>(["reference", "list"]);
      expect(stale).toHaveLength(2);
      expect(await rows(w.dir.shardUrls[0] as string)).not.toEqual(await rows(w.sourceUrl));
      follower = follow(w);
      await converged(w, w.dir.shardUrls);
    } finally {
      await follower.stop();
      await w.close();
    }
  });
});

describe("killed copiers and appliers", () => {
  it("a copy killed midway and an applier killed mid-stream resume from what they committed", async () => {
    const dir = await directories.create({ shards: [a, b], layout: 2 });
    const sourceUrl = await b.createDatabase("global");
    await sql(sourceUrl, PRODUCTS);
    const source = await connect(parseMysqlUrl(sourceUrl));
    const w: World = { dir, sourceUrl, source, close: () => source.close() };
    try {
      const values = Array.from(
        { length: 2500 },
        (_, i) => `(${i + 1}, 'p${i + 1}', ${i % 90}.25)`,
      );
      await source.execute(`INSERT INTO products VALUES ${values.join(", ")}`);
      // Killed after the second chunk (of 1000 rows) of the first shard's copy.
      const add = await runBin(
        ["reference", "add", "products", "--source", sourceUrl, "--source-name", "global"],
        { SHARDKIT_DIRECTORY: dir.url, SHARDKIT_FAILPOINT: "after-copy-chunk:2" },
      );
      expect(add.signal).toBe("SIGKILL");
      expect((await rows(dir.shardUrls[0] as string)).length).toBe(2000);
      await source.execute("UPDATE products SET price = 0 WHERE id IN (5, 1500, 2400)");
      await source.execute("DELETE FROM products WHERE id IN (6, 2401)");
      // An applier killed after its third batch, while the source takes writes.
      const applier = runBin(["reference", "follow", "--json", "--poll-ms", "100"], {
        SHARDKIT_DIRECTORY: dir.url,
        SHARDKIT_FAILPOINT: "after-apply-batch:3",
      });
      for (let i = 0; i < 40 && !(await applier.done); i++) {
        await source.execute("INSERT INTO products VALUES (?, 'during', 1)", [3000 + i]);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await applier).signal).toBe("SIGKILL");
      await source.execute("UPDATE products SET title = 'after' WHERE id = 7");
      const follower = follow(w);
      try {
        await converged(w, dir.shardUrls, 20_000);
      } finally {
        await follower.stop();
      }
    } finally {
      await w.close();
    }
  });
});

describe("shardkit reference follow and schema apply on a source", () => {
  it("follows for a while, printing JSON lines, and a change applied to shards and source keeps them alike", async () => {
    const w = await world(5);
    try {
      const running = w.dir.cli([
        "--json",
        "reference",
        "follow",
        "--duration",
        "5000",
        "--poll-ms",
        "200",
      ]);
      await new Promise((r) => setTimeout(r, 1500));
      await w.source.execute("UPDATE products SET title = 'followed' WHERE id = 2");
      const r = await running;
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines).toEqual(
        expect.arrayContaining([
          { event: "following", table: "products", shard: "s1" },
          { event: "following", table: "products", shard: "s2" },
        ]),
      );
      expect(lines.at(-1)).toEqual({ event: "stopped", copies: ["products@s1", "products@s2"] });
      for (const url of w.dir.shardUrls) expect(await rows(url)).toEqual(await rows(w.sourceUrl));

      const workdir = mkdtempSync(join(tmpdir(), "shardkit-ref-"));
      onTestFinished(() => rmSync(workdir, { recursive: true, force: true }));
      const change = join(workdir, "add-sku.sql");
      writeFileSync(change, "ALTER TABLE products ADD COLUMN sku VARCHAR(20) NULL;");
      const shardsFirst = await w.dir.json<{ shards: { shard: string; outcome: string }[] }>([
        "schema",
        "apply",
        change,
      ]);
      expect(shardsFirst.shards.map((s) => s.outcome)).toEqual(["applied", "applied"]);
      const diff = await w.dir.cli(["schema", "diff"]);
      expectRefusal(diff, 4, /products on s1: has extra `sku` varchar\(20\) DEFAULT NULL/);
      const source = await w.dir.json<{ shards: { shard: string; outcome: string }[] }>([
        "schema",
        "apply",
        change,
        "--source",
        "global",
      ]);
      expect(source.shards.map((s) => [s.shard, s.outcome])).toEqual([
        ["global", "applied"],
        ["s1", "skipped"],
        ["s2", "skipped"],
      ]);
      const same = await w.dir.cli(["schema", "diff"]);
      expect(same.code, same.stdout).toBe(0);
      const unknown = await w.dir.cli(["schema", "apply", change, "--source", "nowhere"]);
      expectRefusal(
        unknown,
        2,
        /no reference table has a source named nowhere \(sources: global\)/,
      );
    } finally {
      await w.close();
    }
  });
});

describe("a source with a password", () => {
  it("uses the URL's password for add, never prints it, and reads it by source name after", async () => {
    const dir = await directories.create({ shards: [a], layout: 1 });
    const sourceUrl = await b.createDatabase("global");
    const database = parseMysqlUrl(sourceUrl).database as string;
    const password = "Rf7@pw:Secret";
    await sql(
      b.adminUrl,
      "DROP USER IF EXISTS 'ref_src'@'%'",
      `CREATE USER 'ref_src'@'%' IDENTIFIED BY '${password}'`,
      "GRANT ALL PRIVILEGES ON *.* TO 'ref_src'@'%'",
    );
    onTestFinished(() => sql(b.adminUrl, "DROP USER IF EXISTS 'ref_src'@'%'"));
    await sql(sourceUrl, PRODUCTS, "INSERT INTO products VALUES (1, 'one', 1)");
    const url = `mysql://ref_src:${encodeURIComponent(password)}@${b.host}:${b.port}/${database}`;
    const add = await dir.cli([
      "reference",
      "add",
      "products",
      "--source",
      url,
      "--source-name",
      "global",
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toMatch(/note: .*set SHARDKIT_SHARD_PASSWORD_GLOBAL/);
    const without = await dir.cli(["--json", "reference", "resync", "products"]);
    expect(without.code).toBe(5);
    const withEnv = await dir.cli(["reference", "resync", "products"], {
      SHARDKIT_SHARD_PASSWORD_GLOBAL: password,
    });
    expect(withEnv.code, withEnv.stderr).toBe(0);
    for (const r of [add, without, withEnv]) {
      expect(r.stdout + r.stderr).not.toContain(password);
      expect(r.stdout + r.stderr).not.toContain(encodeURIComponent(password));
    }
    expect(await rows(dir.shardUrls[0] as string)).toEqual([
      { id: 1, title: "one", price: "1.00" },
    ]);
  });
});

describe("doctor, resync and moves", () => {
  it("reports a missing and a different copy, resync repairs them, and a move refuses a target without the copy", async () => {
    const w = await world(10);
    try {
      const [s1, s2] = w.dir.shardUrls as [string, string];
      // A copy changed behind shardkit's back (as the applier's session may), and one dropped.
      const conn = await connect(parseMysqlUrl(s1));
      await conn.execute("SET @shardkit_reference_applier = 1");
      await conn.execute("UPDATE products SET price = 0 WHERE id = 4");
      await conn.execute("INSERT INTO products VALUES (4444, 'not on the source', 1)");
      await conn.close();
      await sql(s2, "DROP TABLE orders", "DROP TABLE products");
      const doctor = await w.dir.cli(["doctor"]);
      // The schema comparison names the dropped tables too; its failure comes first.
      expectRefusal(doctor, 4, /differ/);
      expect(doctor.stdout).toMatch(
        /reference different: the copy of products on s1 differs from its source in 2 row\(s\) \(keys \[4\], \[4444\]\)/,
      );
      expect(doctor.stdout).toMatch(
        /reference missing: no copy of products on s2; run shardkit reference resync products --shard s2/,
      );
      const unknownShard = await w.dir.cli(["reference", "resync", "products", "--shard", "s9"]);
      expectRefusal(unknownShard, 3, /unknown shard "s9"/);
      // One shard at a time: s2 only, then s1 stays different until its own resync.
      const one = await w.dir.json<{ copies: { shard: string; ok: boolean }[] }>([
        "reference",
        "resync",
        "products",
        "--shard",
        "s2",
      ]);
      expect(one.copies.map((c) => [c.shard, c.ok])).toEqual([["s2", true]]);
      expect(await rows(s2)).toEqual(await rows(w.sourceUrl));
      expect(await rows(s1)).not.toEqual(await rows(w.sourceUrl));
      const fixed = await w.dir.cli(["reference", "resync", "products"]);
      expect(fixed.code, fixed.stderr).toBe(0);
      for (const url of w.dir.shardUrls) expect(await rows(url)).toEqual(await rows(w.sourceUrl));
      await sql(s2, ORDERS);
      const again = await w.dir.cli(["doctor"]);
      expect(again.code, again.stdout + again.stderr).toBe(0);

      // A new shard registered without its copy (as an interrupted shard add leaves it) is no move target.
      const s3 = await b.createDatabase("s3");
      const added = await w.dir.cli(["shard", "add", "s3", s3]);
      expect(added.code, added.stderr).toBe(0);
      await sql(s3, "DROP TABLE products");
      const move = await w.dir.cli(["move", "-80", "--to", "s3"]);
      expectRefusal(
        move,
        4,
        /shard s3 has no copy of reference table products yet; run shardkit reference resync products --shard s3/,
      );
    } finally {
      await w.close();
    }
  });

  it("reports a copy no applier follows as lagging past the bound", async () => {
    const w = await world(5);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const doctor = await w.dir.cli(["doctor", "--max-reference-lag-ms", "1000"]);
      expectRefusal(doctor, 4, /reference copy problem/);
      expect(doctor.stdout).toMatch(
        /reference lagging: the copy of products on s1 lags \d+ ms \(bound 1000 ms\); no applier follows it: run shardkit reference follow/,
      );
      const relaxed = await w.dir.cli(["doctor", "--max-reference-lag-ms", "600000"]);
      expect(relaxed.code, relaxed.stdout + relaxed.stderr).toBe(0);
    } finally {
      await w.close();
    }
  });

  it("forgets a table on remove: its copies stay and take writes again", async () => {
    const w = await world(5);
    try {
      const r = await w.dir.cli(["reference", "remove", "products"]);
      expect(r.code, r.stderr).toBe(0);
      await sql(w.dir.shardUrls[0] as string, "UPDATE products SET price = 0 WHERE id = 1");
      expect((await w.dir.json<unknown[]>(["reference", "list"])).length).toBe(0);
    } finally {
      await w.close();
    }
  });
});
