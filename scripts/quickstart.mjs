// The quickstart: starts two local MySQL servers, creates a directory, registers both servers
// as shards, lays out four key ranges over them and routes a few keys. Everything it starts
// is stopped and removed before it exits.

import { main } from "@shardkit/cli";
import { startFleet } from "@shardkit/fleet";
import { createRouter } from "@shardkit/router";
import mysql from "mysql2/promise";

/**
 * Creates the application's table on one shard (schema changes are not routed).
 * @param {string} url
 */
async function createUsersTable(url) {
  const conn = await mysql.createConnection(url);
  try {
    await conn.query("CREATE TABLE users (user_id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL)");
  } finally {
    await conn.end();
  }
}

const fleet = await startFleet({ servers: 2 });
let status = 0;
try {
  const [a, b] = fleet.servers;
  if (!a || !b) throw new Error("the fleet started fewer than two servers");
  const directory = await a.createDatabase("directory");
  const shardkit = async (/** @type {string[]} */ ...args) => {
    console.log(`\n$ shardkit ${args.join(" ")}`);
    const code = await main(["--directory", directory, ...args]);
    if (code !== 0) throw new Error(`shardkit ${args[0]} exited with ${code}`);
  };
  console.log(`started ${fleet.servers.length} MySQL servers (${fleet.backend} backend)`);
  await shardkit("init");
  await shardkit("shard", "add", "s1", a.url);
  await shardkit("shard", "add", "s2", b.url);
  // The application's table exists on every shard before it is declared sharded.
  for (const server of [a, b]) await createUsersTable(server.url);
  await shardkit("table", "add", "users", "--key", "user_id");
  await shardkit("layout", "even", "4");
  await shardkit("ranges");
  await shardkit("route", "1", "2", "3", "42", "alice", "bob");
  await shardkit("pin", "alice", "s1");
  await shardkit("route", "alice");
  await shardkit("doctor");

  // The application side: write and read through the router.
  const router = await createRouter({ directory, pollIntervalMs: 0 });
  try {
    console.log("\nwriting 20 users through the router (each to the shard that owns its user_id)");
    for (let id = 1; id <= 20; id++) {
      await router.insert("users", { user_id: id, name: `user ${id}` });
    }
    for (const name of ["s1", "s2"]) {
      const [counted] = await router.readShard(name)("users").count({ n: "*" });
      console.log(`  ${name} holds ${counted?.n} users`);
    }
    const { rows } = await router.scatter({
      query: (knex) => knex("users").select("user_id", "name"),
      orderBy: [{ column: "user_id", order: "desc" }],
      limit: 3,
    });
    console.log(
      `  the 3 highest user_ids across both shards: ${rows.map((r) => r.user_id).join(", ")}`,
    );
  } finally {
    await router.close();
  }
  console.log(
    "\nquickstart finished: the directory and both shards agree, and the router wrote and read through them.",
  );
} catch (error) {
  console.error(`quickstart failed: ${error instanceof Error ? error.message : error}`);
  status = 1;
} finally {
  await fleet.stop();
  console.log("stopped every server and removed their data directories");
}
process.exitCode = status;
