// The quickstart: starts two local MySQL servers, creates a directory, registers both servers
// as shards, lays out four key ranges over them and routes a few keys. Everything it starts
// is stopped and removed before it exits.
import { startFleet } from "@shardkit/fleet";
import { main } from "@shardkit/migrate";

const fleet = await startFleet({ servers: 2 });
let status = 0;
try {
  const [a, b] = fleet.servers;
  const directory = await a.createDatabase("directory");
  const shardkit = async (...args) => {
    console.log(`\n$ shardkit ${args.join(" ")}`);
    const code = await main(["--directory", directory, ...args]);
    if (code !== 0) throw new Error(`shardkit ${args[0]} exited with ${code}`);
  };
  console.log(`started ${fleet.servers.length} MySQL servers (${fleet.backend} backend)`);
  await shardkit("init");
  await shardkit("shard", "add", "s1", a.url);
  await shardkit("shard", "add", "s2", b.url);
  await shardkit("table", "add", "users", "--key", "user_id");
  await shardkit("layout", "even", "4");
  await shardkit("ranges");
  await shardkit("route", "1", "2", "3", "42", "alice", "bob");
  await shardkit("pin", "alice", "s1");
  await shardkit("route", "alice");
  await shardkit("doctor");
  console.log("\nquickstart finished: the directory and both shards agree.");
} catch (error) {
  console.error(`quickstart failed: ${error instanceof Error ? error.message : error}`);
  status = 1;
} finally {
  await fleet.stop();
  console.log("stopped every server and removed their data directories");
}
process.exitCode = status;
