// A plain knex pool on a fleet database: what an application would use without shardkit, and
// the benchmarks' way to reach a shard's database directly.
import { parseMysqlUrl } from "@shardkit/directory";
import knexFactory from "knex";

/**
 * A knex/mysql2 pool on the database of `url`, of `pool` connections.
 * @param {string} url
 * @param {{ min: number, max: number }} pool
 * @returns {import("knex").Knex}
 */
export function plainKnex(url, pool) {
  const e = parseMysqlUrl(url);
  return knexFactory({
    client: "mysql2",
    connection: {
      host: e.host,
      port: e.port,
      user: e.user,
      password: e.password,
      database: e.database,
    },
    pool,
  });
}
