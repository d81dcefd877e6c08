// A rental shop's schema for the scatter tests: customers, their rentals and payments sharded by
// customer_id over three shards on two servers; stores, staff, films and inventory on every
// shard with the same rows; and one reference database holding every row, where the same SQL
// gives the answer a scatter must equal, value for value and type for type.
import { MysqlDirectoryStore, parseMysqlUrl } from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { createRouter, type Router } from "@shardkit/router";
import knexFactory, { type Knex } from "knex";

export const SHARDED_TABLES = ["customer", "rental", "payment"] as const;

const SCHEMA = [
  `CREATE TABLE store (store_id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)
   DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
  "CREATE TABLE staff (staff_id INT PRIMARY KEY, store_id INT NOT NULL, first_name VARCHAR(45) NOT NULL)",
  `CREATE TABLE film (film_id INT PRIMARY KEY, title VARCHAR(128) NOT NULL,
   rating ENUM('G','PG','PG-13','R','NC-17') NOT NULL, rental_rate DECIMAL(4,2) NOT NULL,
   length SMALLINT UNSIGNED NULL) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
  "CREATE TABLE inventory (inventory_id INT PRIMARY KEY, film_id INT NOT NULL, store_id INT NOT NULL)",
  `CREATE TABLE customer (customer_id INT PRIMARY KEY, store_id INT NOT NULL,
   first_name VARCHAR(45) NOT NULL, last_name VARCHAR(45) NOT NULL, active TINYINT(1) NOT NULL,
   create_date DATETIME NOT NULL, KEY by_last_name (last_name))
   DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
  `CREATE TABLE rental (rental_id INT PRIMARY KEY, rental_date DATETIME(6) NOT NULL,
   inventory_id INT NOT NULL, customer_id INT NOT NULL, return_date DATETIME NULL,
   staff_id INT NOT NULL, KEY by_customer (customer_id))`,
  `CREATE TABLE payment (payment_id INT PRIMARY KEY, customer_id INT NOT NULL, staff_id INT NOT NULL,
   rental_id INT NULL, amount DECIMAL(5,2) NOT NULL, payment_date DATETIME NOT NULL,
   KEY by_customer (customer_id))`,
];

/** A seeded random number generator (mulberry32), so every run loads the same rows. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Knex with the router's connection settings, so the reference answers with the same JS types. */
export function knexOf(url: string): Knex {
  const e = parseMysqlUrl(url);
  return knexFactory({
    client: "mysql2",
    connection: {
      host: e.host,
      port: e.port,
      user: e.user,
      password: e.password,
      database: e.database,
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: false,
    },
    pool: { min: 0, max: 4 },
  });
}

/** Servers, shards, the reference database and a router over them. */
export interface ScatterWorld {
  readonly fleet: Fleet;
  readonly store: MysqlDirectoryStore;
  readonly router: Router;
  /** Each shard's database, by shard name. */
  readonly shards: Readonly<Record<string, Knex>>;
  /** One database holding every row of every table. */
  readonly reference: Knex;
  /** Runs DDL on every shard and the reference. */
  ddl(sql: string): Promise<void>;
  /** Inserts rows of a sharded table into their owners (by `keyColumn`) and the reference. */
  insertSharded(
    table: string,
    keyColumn: string,
    rows: readonly Record<string, unknown>[],
  ): Promise<void>;
  /** Inserts rows of a table present on every shard into every shard and the reference. */
  insertEverywhere(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  /** The shard that owns a customer id. */
  ownerOf(customerId: number): string;
  stop(): Promise<void>;
}

/**
 * Starts two servers with shards s1 (server 1), s2 and s3 (server 2), the schema plus `extra`
 * tables sharded by customer_id (given by name and CREATE TABLE), and no rows.
 */
export async function startScatterWorld(
  extra: readonly { readonly table: string; readonly ddl: string }[] = [],
): Promise<ScatterWorld> {
  const fleet = await startFleet({ servers: 2 });
  const knexes: Knex[] = [];
  let store: MysqlDirectoryStore | undefined;
  let router: Router | undefined;
  try {
    const [a, b] = fleet.servers;
    if (!a || !b) throw new Error("the fleet started no servers");
    store = new MysqlDirectoryStore({ directory: await a.createDatabase("dir") });
    await store.init();
    const urls = {
      s1: await a.createDatabase("s1"),
      s2: await b.createDatabase("s2"),
      s3: await b.createDatabase("s3"),
    };
    const shards: Record<string, Knex> = {};
    for (const [name, url] of Object.entries(urls)) {
      await store.addShard({ name, ...parseMysqlUrl(url) });
      shards[name] = knexOf(url);
      knexes.push(shards[name]);
    }
    const reference = knexOf(await a.createDatabase("reference"));
    knexes.push(reference);
    const all = [...Object.values(shards), reference];
    const ddl = async (sql: string) => {
      await Promise.all(all.map((k) => k.raw(sql)));
    };
    for (const sql of [...SCHEMA, ...extra.map((e) => e.ddl)]) await ddl(sql);
    for (const table of [...SHARDED_TABLES, ...extra.map((e) => e.table)]) {
      await store.addTable({ name: table, keyColumn: "customer_id", keyFunction: "hash" });
    }
    await store.layoutEven(6);
    const r = await createRouter({ directory: store, pollIntervalMs: 0, heartbeatId: false });
    router = r;
    const ownerOf = (id: number) => r.locate(id, { table: "customer" }).shard;
    const chunks = <T>(rows: readonly T[]) =>
      Array.from({ length: Math.ceil(rows.length / 500) }, (_, i) =>
        rows.slice(i * 500, i * 500 + 500),
      );
    const s = store;
    return {
      fleet,
      store: s,
      router: r,
      shards,
      reference,
      ddl,
      ownerOf,
      async insertSharded(table, keyColumn, rows) {
        const byShard = new Map<string, Record<string, unknown>[]>();
        for (const row of rows) {
          const shard = ownerOf(Number(row[keyColumn]));
          byShard.set(shard, [...(byShard.get(shard) ?? []), row]);
        }
        for (const [shard, list] of byShard)
          for (const c of chunks(list)) await (shards[shard] as Knex)(table).insert(c);
        for (const c of chunks(rows)) await reference(table).insert(c);
      },
      async insertEverywhere(table, rows) {
        for (const k of all) for (const c of chunks(rows)) await k(table).insert(c);
      },
      async stop() {
        await r.close();
        await Promise.all(knexes.map((k) => k.destroy()));
        await s.close();
        await fleet.stop();
      },
    };
  } catch (error) {
    await router?.close();
    await Promise.all(knexes.map((k) => k.destroy()));
    await store?.close();
    await fleet.stop();
    throw error;
  }
}

const FIRST = ["Mary", "Patricia", "Linda", "Barbara", "Elizabeth", "Jennifer", "Maria", "Susan"];
const LAST = [
  "SMITH",
  "JOHNSON",
  "Williams",
  "brown",
  "Jones",
  "García",
  "garcia",
  "MILLER",
  "Davis",
  "zoë",
  "Zack",
  "alice",
  "Ábel",
  "Øst",
];

/** Loads the shop: 2 stores, 4 staff, 40 films, 200 inventory items, 150 customers with rentals and payments. */
export async function loadShop(world: ScatterWorld): Promise<void> {
  const rnd = seeded(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T;
  await world.insertEverywhere("store", [
    { store_id: 1, name: "Lethbridge" },
    { store_id: 2, name: "woodridge" },
  ]);
  await world.insertEverywhere(
    "staff",
    [1, 2, 3, 4].map((i) => ({ staff_id: i, store_id: 1 + (i % 2), first_name: pick(FIRST) })),
  );
  await world.insertEverywhere(
    "film",
    Array.from({ length: 40 }, (_, i) => ({
      film_id: i + 1,
      title: `${pick(LAST)} ${pick(["DINOSAUR", "academy", "Alien", "ángel"])} ${i}`,
      rating: pick(["G", "PG", "PG-13", "R", "NC-17"]),
      rental_rate: pick(["0.99", "2.99", "4.99"]),
      length: i % 9 === 0 ? null : 46 + Math.floor(rnd() * 140),
    })),
  );
  await world.insertEverywhere(
    "inventory",
    Array.from({ length: 200 }, (_, i) => ({
      inventory_id: i + 1,
      film_id: 1 + Math.floor(rnd() * 40),
      store_id: 1 + (i % 2),
    })),
  );
  const customers = Array.from({ length: 150 }, (_, i) => ({
    customer_id: i + 1,
    store_id: 1 + Math.floor(rnd() * 2),
    first_name: pick(FIRST),
    last_name: pick(LAST),
    active: rnd() < 0.9 ? 1 : 0,
    create_date: new Date(Date.UTC(2024, 0, 1 + Math.floor(rnd() * 300), 8, 30)),
  }));
  await world.insertSharded("customer", "customer_id", customers);
  const rentals = Array.from({ length: 900 }, (_, i) => {
    const at = Date.UTC(2024, 4, 1) + Math.floor(rnd() * 200 * 86_400_000);
    return {
      rental_id: i + 1,
      // Microseconds, so ordering and grouping by them must not stop at milliseconds.
      rental_date: `${new Date(at).toISOString().slice(0, 19).replace("T", " ")}.${String(Math.floor(rnd() * 1e6)).padStart(6, "0")}`,
      inventory_id: 1 + Math.floor(rnd() * 200),
      customer_id: 1 + Math.floor(rnd() * 150),
      return_date: rnd() < 0.1 ? null : new Date(at + Math.floor(rnd() * 9 * 86_400_000)),
      staff_id: 1 + Math.floor(rnd() * 4),
    };
  });
  await world.insertSharded("rental", "customer_id", rentals);
  await world.insertSharded(
    "payment",
    "customer_id",
    rentals.map((r) => ({
      payment_id: r.rental_id,
      customer_id: r.customer_id,
      staff_id: r.staff_id,
      rental_id: r.rental_id,
      amount: (Math.floor(rnd() * 1100) / 100).toFixed(2),
      payment_date: new Date(Date.UTC(2024, 5, 1) + Math.floor(rnd() * 150 * 86_400_000)),
    })),
  );
}
