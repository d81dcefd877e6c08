// The scatter the benchmarks time, and the same queries an application would run by hand.

/** @typedef {import("knex").Knex} Knex */

/**
 * `SELECT id, v FROM items ORDER BY v, id LIMIT 100` through the router, and the same query on
 * every shard's plain pool in parallel, for `sideBySide`.
 * @param {import("@shardkit/router").Router} routed
 * @param {Knex[]} knexes
 */
export function orderByLimit100(routed, knexes) {
  return {
    routed: () =>
      routed.scatter({
        query: (k) => k("items").select("id", "v"),
        orderBy: [{ column: "v" }, { column: "id" }],
        limit: 100,
      }),
    byHand: () =>
      Promise.all(
        knexes.map((k) =>
          k("items")
            .select("id", "v")
            .orderBy([{ column: "v" }, { column: "id" }])
            .limit(100),
        ),
      ),
  };
}
