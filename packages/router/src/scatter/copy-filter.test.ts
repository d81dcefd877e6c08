import {
  type ActiveMove,
  canonicalKeyBytes,
  DirectoryMap,
  type DirectorySnapshot,
  hashKeyFunction,
  ShardkitError,
} from "@shardkit/directory";
import knexFactory, { type Knex } from "knex";
import { afterAll, describe, expect, it } from "vitest";
import { keyHelper, shardCopies } from "./copy-filter.js";
import { copiesByShard } from "./move-copies.js";
import { queryShape } from "./query-shape.js";

const knex = knexFactory({ client: "mysql2" });
afterAll(() => knex.destroy());

const HALF = 2 ** 31;
const LOW = { start: 0, end: HALF };
const HIGH = { start: HALF, end: 2 ** 32 };
const shard = (name: string) => ({
  name,
  host: "127.0.0.1",
  port: 9,
  user: "app",
  database: name,
  state: "serving" as const,
});

/** Integer keys whose keyspace id is in `range`, from 1 upwards. */
function keysIn(range: { start: number; end: number }, n: number): number[] {
  const out: number[] = [];
  for (let k = 1; out.length < n; k++) {
    const ksid = hashKeyFunction.ksid(k);
    if (range.start <= ksid && ksid < range.end) out.push(k);
  }
  return out;
}
const [whale, pinnedToB, lowKey] = keysIn(LOW, 3) as [number, number, number];
const [highKey] = keysIn(HIGH, 1) as [number];

const rangeMove: ActiveMove = {
  id: "m-range",
  kind: "range",
  range: LOW,
  keyBytes: null,
  source: "a",
  target: "b",
  state: "copying",
};

/** a owns the low half, b the high half; users and orders sharded by user_id; `pinnedToB` lives on b. */
function mapWith(
  moves: readonly ActiveMove[],
  owners: { low: string; whale?: string } = { low: "a" },
): DirectoryMap {
  const pins = [{ key: pinnedToB, shard: "b" }];
  if (owners.whale) pins.push({ key: whale, shard: owners.whale });
  const snapshot: DirectorySnapshot = {
    version: 1,
    shards: [shard("a"), shard("b")],
    tables: [
      { name: "users", keyColumn: "user_id", keyFunction: "hash" },
      { name: "orders", keyColumn: "user_id", keyFunction: "hash" },
    ],
    ranges: [
      { range: LOW, shard: owners.low, state: "serving" },
      { range: HIGH, shard: "b", state: "serving" },
    ],
    pins: pins.map((p) => ({
      keyBytes: canonicalKeyBytes(p.key),
      keyText: String(p.key),
      ksid: hashKeyFunction.ksid(p.key),
      shard: p.shard,
      state: "serving" as const,
    })),
    moves,
  };
  return new DirectoryMap(snapshot);
}

function copiesFor(map: DirectoryMap, on: string, qb: Knex.QueryBuilder, groupsRows = false) {
  const scopes = copiesByShard(map).get(on);
  if (!scopes) throw new Error(`no copies on ${on}`);
  const shape = queryShape(qb, (t) => map.table(t)?.keyColumn);
  return shardCopies(map, on, scopes, shape, qb, groupsRows, (_t, k) => k);
}

/** The refusal `work` throws. */
function refusal(work: () => unknown): ShardkitError {
  try {
    work();
  } catch (error) {
    if (error instanceof ShardkitError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("which shards hold copies", () => {
  it("none while no move is active", () => {
    expect(copiesByShard(mapWith([])).size).toBe(0);
  });

  it("the target before the switch, the source after it, whatever the move's state says", () => {
    for (const state of ["copying", "cutting_over", "failed", "aborting"] as const) {
      const before = copiesByShard(mapWith([{ ...rangeMove, state }]));
      expect([...before.keys()]).toEqual(["b"]);
    }
    for (const state of ["switched", "cleaning", "failed"] as const) {
      const after = copiesByShard(mapWith([{ ...rangeMove, state }], { low: "b" }));
      expect([...after.keys()]).toEqual(["a"]);
    }
  });

  it("for a key move, the shard its pin does not name", () => {
    const move: ActiveMove = {
      id: "m-key",
      kind: "key",
      range: { start: hashKeyFunction.ksid(whale), end: hashKeyFunction.ksid(whale) + 1 },
      keyBytes: canonicalKeyBytes(whale),
      source: "a",
      target: "b",
      state: "copied",
    };
    expect([...copiesByShard(mapWith([move], { low: "a", whale: "a" })).keys()]).toEqual(["b"]);
    expect([...copiesByShard(mapWith([move], { low: "a", whale: "b" })).keys()]).toEqual(["a"]);
  });
});

describe("which rows are copies", () => {
  const map = mapWith([rangeMove]);
  const users = copiesFor(map, "b", knex("users"));
  const row = (key: unknown) => ({ user_id: key, [keyHelper(0)]: key });

  it("drops rows of the moving range another shard owns, and keeps the shard's own", () => {
    expect(users.keys).toEqual(["users.user_id"]);
    expect(users.keep(row(lowKey))).toBe(false);
    expect(users.keep(row(whale))).toBe(false);
    // In the range but pinned to this shard: its own row, not the move's.
    expect(users.keep(row(pinnedToB))).toBe(true);
    expect(users.keep(row(highKey))).toBe(true);
    // A row a LEFT JOIN left without the table has no key: nothing to drop.
    expect(users.keep(row(null))).toBe(true);
  });

  it("for a key move, drops only that key's rows", () => {
    const move: ActiveMove = {
      id: "m-key",
      kind: "key",
      range: { start: hashKeyFunction.ksid(whale), end: hashKeyFunction.ksid(whale) + 1 },
      keyBytes: canonicalKeyBytes(whale),
      source: "a",
      target: "b",
      state: "copied",
    };
    const keyed = copiesFor(mapWith([move], { low: "a", whale: "a" }), "b", knex("users"));
    expect(keyed.keep(row(whale))).toBe(false);
    expect(keyed.keep(row(lowKey))).toBe(true);
    expect(keyed.keep(row(highKey))).toBe(true);
  });

  it("refuses a row whose key cannot be routed, naming the move", () => {
    const scopes = copiesByShard(map).get("b") ?? [];
    const qb = knex("users");
    const shape = queryShape(qb, (t) => map.table(t)?.keyColumn);
    const strict = shardCopies(map, "b", scopes, shape, qb, false, () => {
      throw new ShardkitError("BAD_SHARD_KEY", "not an integer; pass one");
    });
    const error = refusal(() => strict.keep(row("x")));
    expect(error.code).toBe("RANGE_BUSY");
    expect(error.message).toMatch(/m-range.*users.*not an integer/);
  });
});

describe("which keys a query must carry", () => {
  const map = mapWith([rangeMove]);
  const keys = (qb: Knex.QueryBuilder, groupsRows = false) =>
    copiesFor(map, "b", qb, groupsRows).keys;

  it("the queried table's key, under its alias", () => {
    expect(keys(knex("users as u").where("u.name", "x"))).toEqual(["u.user_id"]);
  });

  it("a table joined on a key already carried shares it; any other join carries its own", () => {
    expect(keys(knex("users").join("orders", "orders.user_id", "users.user_id"))).toEqual([
      "users.user_id",
    ]);
    expect(
      keys(
        knex("users as u")
          .leftJoin("orders as o", "o.user_id", "u.user_id")
          .join("orders as p", "p.user_id", "o.user_id"),
      ),
    ).toEqual(["u.user_id"]);
    expect(keys(knex("users").join("orders", "orders.order_id", "users.user_id"))).toEqual([
      "users.user_id",
      "orders.user_id",
    ]);
    // A RIGHT JOIN keeps rows of orders without a user; OR widens the match.
    expect(keys(knex("users").rightJoin("orders", "orders.user_id", "users.user_id"))).toEqual([
      "users.user_id",
      "orders.user_id",
    ]);
    expect(
      keys(
        knex("users").join("orders", function () {
          this.on("orders.user_id", "=", "users.user_id").orOn("orders.id", "=", "users.id");
        }),
      ),
    ).toEqual(["users.user_id", "orders.user_id"]);
    // Tables that are not sharded carry nothing.
    expect(keys(knex("countries").join("users", "users.country", "countries.code"))).toEqual([
      "users.user_id",
    ]);
    expect(keys(knex("countries"))).toEqual([]);
  });

  it("refuses reads of a sharded table it cannot follow, naming the move and the table", () => {
    for (const [qb, why] of [
      [
        knex("users").whereIn("user_id", knex("orders").select("user_id")),
        "reads orders in a subquery or raw SQL",
      ],
      [
        knex("users").join(knex.raw("orders ON orders.user_id = users.user_id")),
        "reads orders in a subquery or raw SQL",
      ],
      [knex.from(knex("users").as("x")), "reads users in a subquery or raw SQL"],
      [
        knex("users").whereRaw("EXISTS (SELECT 1 FROM `orders` o WHERE o.total > 0)"),
        "reads orders in a subquery or raw SQL",
      ],
    ] as const) {
      const error = refusal(() => keys(qb));
      expect(error.code).toBe("RANGE_BUSY");
      expect(error.message).toContain(
        "shard b holds copies of rows it does not own for move m-range of range -80 (copying, a -> b)",
      );
      expect(error.message).toContain(why);
    }
    const grouped = refusal(() =>
      keys(knex("users").join("orders", "orders.order_id", "users.user_id"), true),
    );
    expect(grouped.message).toContain(
      "groups rows of orders, joined on other columns than the shard key",
    );
    // A column or alias named like a table is no read of it.
    expect(keys(knex("users").select("orders", "users.orders as from_orders"))).toEqual([
      "users.user_id",
    ]);
  });
});
