// shardkit schema apply|diff|migrate and doctor's schema comparison, on three shards of one
// server: a rollout, its failure midway and resume, conflicts, differences named, knex
// migrations, and refusals that change nothing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseMysqlUrl } from "@shardkit/directory";
import { connect } from "@shardkit/directory/internal";
import { type Fleet, type FleetServer, startFleet } from "@shardkit/fleet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectoryFactory, expectRefusal, sql, type TestDirectory } from "./cli-harness.js";

let fleet: Fleet;
let server: FleetServer;
let directories: DirectoryFactory;
let workdir: string;

beforeAll(async () => {
  fleet = await startFleet({ servers: 1 });
  server = fleet.servers[0] as FleetServer;
  directories = new DirectoryFactory(server);
  workdir = mkdtempSync(join(tmpdir(), "shardkit-schema-"));
});

afterAll(async () => {
  await directories?.close();
  await fleet?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

function threeShards(): Promise<TestDirectory> {
  return directories.create({
    shards: [server, server, server],
    tables: [["orders", "customer_id"]],
    layout: 3,
  });
}

/** Writes `text` to a file in the work directory and returns its path. */
function file(name: string, text: string): string {
  const path = join(workdir, name);
  writeFileSync(path, text);
  return path;
}

async function query<T>(url: string, statement: string): Promise<T[]> {
  const conn = await connect(parseMysqlUrl(url));
  try {
    return await conn.query<T>(statement);
  } finally {
    await conn.close();
  }
}

async function columns(url: string, table: string): Promise<string[]> {
  const rows = await query<{ c: string }>(
    url,
    `SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}' ORDER BY ORDINAL_POSITION`,
  );
  return rows.map((r) => r.c);
}

async function indexes(url: string, table: string): Promise<string[]> {
  const rows = await query<{ i: string }>(
    url,
    `SELECT DISTINCT INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}' ORDER BY i`,
  );
  return rows.map((r) => r.i);
}

async function records(url: string) {
  return query<{ name: string; state: string; statements_done: number }>(
    url,
    "SELECT name, state, statements_done FROM shardkit_schema_changes ORDER BY name",
  );
}

describe("shardkit schema apply", () => {
  it("applies a change to every shard, records it on each, and skips them when run again", async () => {
    const dir = await threeShards();
    const change = file(
      "add-note.sql",
      "-- the note customers write\nALTER TABLE orders ADD COLUMN gift_note VARCHAR(80) NULL;\nCREATE INDEX orders_by_note ON orders (gift_note);\n",
    );
    const r = await dir.json<{
      name: string;
      statements: number;
      shards: { shard: string; outcome: string; statementsRun: number }[];
    }>(["schema", "apply", change, "--parallel", "2"]);
    expect(r.name).toBe("add-note");
    expect(r.statements).toBe(2);
    expect(r.shards.map((s) => [s.shard, s.outcome, s.statementsRun])).toEqual([
      ["s1", "applied", 2],
      ["s2", "applied", 2],
      ["s3", "applied", 2],
    ]);
    for (const url of dir.shardUrls) {
      expect(await columns(url, "orders")).toEqual(["customer_id", "note", "gift_note"]);
      expect(await indexes(url, "orders")).toContain("orders_by_note");
      expect(await records(url)).toEqual([
        { name: "add-note", state: "applied", statements_done: 2 },
      ]);
    }
    const again = await dir.cli(["schema", "apply", change]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/s1: skipped\n {2}s2: skipped\n {2}s3: skipped/);
    const diff = await dir.cli(["schema", "diff"]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toMatch(/every table is defined alike on every shard/);
  });

  it("stops at a shard that fails, leaves the later ones untouched, and resumes from the failed statement", async () => {
    const dir = await threeShards();
    const [s1, s2, s3] = dir.shardUrls as [string, string, string];
    // s2 holds two orders with the same note: the unique key of statement 2 fails there.
    await sql(s2, "INSERT INTO orders VALUES (1, 'same'), (2, 'same')");
    const change = file(
      "unique-note.sql",
      "ALTER TABLE orders ADD COLUMN ref INT NULL;\nALTER TABLE orders ADD UNIQUE KEY orders_note (note);\nALTER TABLE orders ADD COLUMN done TINYINT NOT NULL DEFAULT 0;\n",
    );
    const before = await dir.store.version();
    const failed = await dir.cli(["schema", "apply", change]);
    expectRefusal(
      failed,
      6,
      /schema change unique-note failed on shard s2 at statement 2 of 3: .*Duplicate entry.*; not started on s3; fix the cause on s2/,
    );
    expect(failed.stdout).toMatch(/s1: applied, 3 statement\(s\)/);
    expect(failed.stdout).toMatch(/s2: failed, 1 statement\(s\)/);
    expect(failed.stdout).toMatch(/s3: not-started/);
    expect(await columns(s1, "orders")).toEqual(["customer_id", "note", "ref", "done"]);
    expect(await columns(s2, "orders")).toEqual(["customer_id", "note", "ref"]);
    expect(await columns(s3, "orders")).toEqual(["customer_id", "note"]);
    expect(await records(s2)).toEqual([
      { name: "unique-note", state: "failed", statements_done: 1 },
    ]);
    expect(await query(s3, "SHOW TABLES LIKE 'shardkit_schema_changes'")).toEqual([]);
    // The JSON document names the failing shard.
    const json = await dir.cli(["--json", "schema", "apply", change]);
    expect(json.code).toBe(6);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: { code: "MYSQL_ERROR", details: { shard: "s2", name: "unique-note" } },
    });

    await sql(s2, "UPDATE orders SET note = 'other' WHERE customer_id = 2");
    const resumed = await dir.json<{
      shards: { shard: string; outcome: string; statementsRun: number }[];
    }>(["schema", "apply", change]);
    // Statement 1 (ADD COLUMN ref) would fail if run again on s2: the resume starts at 2.
    expect(resumed.shards.map((s) => [s.shard, s.outcome, s.statementsRun])).toEqual([
      ["s1", "skipped", 0],
      ["s2", "applied", 2],
      ["s3", "applied", 3],
    ]);
    for (const url of dir.shardUrls) {
      expect(await columns(url, "orders")).toEqual(["customer_id", "note", "ref", "done"]);
      expect(await indexes(url, "orders")).toContain("orders_note");
    }
    expect(await dir.store.version()).toBe(before);
  });

  it("refuses a change of the same name with other content, changing nothing", async () => {
    const dir = await threeShards();
    const first = file("rename-me.sql", "ALTER TABLE orders ADD COLUMN a INT NULL;");
    expect((await dir.cli(["schema", "apply", first])).code).toBe(0);
    const edited = file("rename-me.sql", "ALTER TABLE orders ADD COLUMN b INT NULL;");
    const r = await dir.cli(["schema", "apply", edited]);
    expectRefusal(
      r,
      4,
      /shard s1 already applied a change named rename-me with other content .*give the new change another name with --name/,
    );
    for (const url of dir.shardUrls) {
      expect(await columns(url, "orders")).toEqual(["customer_id", "note", "a"]);
    }
    const renamed = await dir.cli(["schema", "apply", edited, "--name", "add-b"]);
    expect(renamed.code, renamed.stderr).toBe(0);
    for (const url of dir.shardUrls) {
      expect(await columns(url, "orders")).toEqual(["customer_id", "note", "a", "b"]);
    }
  });

  it.each([
    [
      "a missing file",
      ["schema", "apply", "/nonexistent/change.sql"],
      2,
      /cannot read \/nonexistent\/change.sql \(ENOENT\)/,
    ],
    ["a file without statements", ["schema", "apply", "EMPTY"], 2, /holds no SQL statement/],
    ["DELIMITER", ["schema", "apply", "DELIMITER"], 2, /uses DELIMITER/],
    [
      "--parallel 0",
      ["schema", "apply", "EMPTY", "--parallel", "0"],
      2,
      /a whole number of at least 1/,
    ],
    [
      "a knexfile that does not load",
      ["schema", "migrate", "--knexfile", "/nonexistent/knexfile.mjs"],
      2,
      /cannot load knexfile/,
    ],
  ])("refuses %s in one line, changing nothing", async (_, args, status, message) => {
    const dir = await threeShards();
    const files: Record<string, string> = {
      EMPTY: file("empty.sql", "-- nothing yet\n"),
      DELIMITER: file(
        "trigger.sql",
        "DELIMITER //\nCREATE TRIGGER t BEFORE INSERT ON orders FOR EACH ROW SET NEW.note = 'x'//\n",
      ),
    };
    const before = await dir.store.version();
    const r = await dir.cli(args.map((a) => files[a] ?? a));
    expectRefusal(r, status, message);
    const json = await dir.cli(["--json", ...args.map((a) => files[a] ?? a)]);
    expect(json.code).toBe(status);
    expect(JSON.parse(json.stdout)).toHaveProperty("error.code");
    expect(await dir.store.version()).toBe(before);
    for (const url of dir.shardUrls) {
      expect(await columns(url, "orders")).toEqual(["customer_id", "note"]);
      expect(await query(url, "SHOW TABLES LIKE 'shardkit_schema_changes'")).toEqual([]);
    }
  });
});

describe("shardkit schema diff and doctor", () => {
  it("names each table defined otherwise on a shard, and doctor fails with it", async () => {
    const dir = await threeShards();
    const [, s2, s3] = dir.shardUrls as [string, string, string];
    await sql(s2, "ALTER TABLE orders MODIFY note VARCHAR(80) NULL, ADD COLUMN extra INT NULL");
    await sql(s3, "DROP TABLE orders");
    const r = await dir.cli(["schema", "diff"]);
    expectRefusal(
      r,
      4,
      /2 table definition\(s\) differ, first orders on s2: has `note` varchar\(80\)/,
    );
    expect(r.stdout).toContain(
      "s2: orders has `note` varchar(80) DEFAULT NULL where expected `note` varchar(40) DEFAULT NULL (as on s1)",
    );
    expect(r.stdout).toContain("s2: orders has extra `extra` int(11) DEFAULT NULL (as on s1)");
    expect(r.stdout).toContain("s3: orders missing (as on s1)");
    const json = JSON.parse((await dir.cli(["--json", "schema", "diff"])).stdout);
    expect(json.error.details.differences).toEqual([
      expect.objectContaining({
        table: "orders",
        shard: "s2",
        differences: [
          expect.stringMatching(/^has `note`/),
          expect.stringMatching(/^has extra `extra`/),
        ],
      }),
      expect.objectContaining({ table: "orders", shard: "s3", differences: ["missing"] }),
    ]);
    const doctor = await dir.cli(["doctor"]);
    expectRefusal(doctor, 4, /table definition\(s\) differ/);
    expect(doctor.stdout).toMatch(/every shard is in step with the directory/);
    expect(doctor.stdout).toContain("s3: orders missing");
  });
});

describe("shardkit schema migrate", () => {
  it("runs a knex migration set on three shards, continues after a failure, and is up to date after", async () => {
    const dir = await threeShards();
    const [, s2] = dir.shardUrls as [string, string, string];
    const project = mkdtempSync(join(workdir, "app-"));
    mkdirSync(join(project, "migrations"));
    writeFileSync(
      join(project, "knexfile.mjs"),
      "export default { development: { client: 'mysql2', migrations: { directory: './migrations', loadExtensions: ['.mjs'] } } };\n",
    );
    writeFileSync(
      join(project, "migrations", "20260101_create_products.mjs"),
      "export const up = (knex) => knex.schema.createTable('products', (t) => { t.bigInteger('id').primary(); t.string('title', 100); });\nexport const down = (knex) => knex.schema.dropTable('products');\n",
    );
    writeFileSync(
      join(project, "migrations", "20260102_orders_product.mjs"),
      "export const up = (knex) => knex.schema.alterTable('orders', (t) => { t.bigInteger('product_id').nullable(); });\nexport const down = (knex) => knex.schema.alterTable('orders', (t) => { t.dropColumn('product_id'); });\n",
    );
    // s2 already has the column: the second migration fails there.
    await sql(s2, "ALTER TABLE orders ADD COLUMN product_id BIGINT NULL");
    const knexfile = join(project, "knexfile.mjs");
    const failed = await dir.cli(["schema", "migrate", "--knexfile", knexfile]);
    expectRefusal(
      failed,
      6,
      /knex migrations failed on shard s2: .*product_id.*; not started on s3/,
    );
    expect(failed.stdout).toMatch(
      /s1: migrated \(batch 1: 20260101_create_products.mjs, 20260102_orders_product.mjs\)/,
    );
    expect(await query(dir.shardUrls[2] as string, "SHOW TABLES LIKE 'products'")).toEqual([]);

    await sql(s2, "ALTER TABLE orders DROP COLUMN product_id");
    const done = await dir.json<{
      shards: { shard: string; outcome: string; migrations: string[] }[];
    }>(["schema", "migrate", "--knexfile", knexfile]);
    expect(done.shards.map((s) => [s.shard, s.outcome, s.migrations.length])).toEqual([
      ["s1", "up-to-date", 0],
      ["s2", "migrated", 1],
      ["s3", "migrated", 2],
    ]);
    for (const url of dir.shardUrls) {
      expect(await columns(url, "products")).toEqual(["id", "title"]);
      expect(await columns(url, "orders")).toEqual(["customer_id", "note", "product_id"]);
      const names = await query<{ name: string }>(
        url,
        "SELECT name FROM knex_migrations ORDER BY id",
      );
      expect(names.map((n) => n.name)).toEqual([
        "20260101_create_products.mjs",
        "20260102_orders_product.mjs",
      ]);
    }
    const diff = await dir.cli(["schema", "diff"]);
    expect(diff.code, diff.stdout).toBe(0);
  });
});
