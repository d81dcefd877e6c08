import {
  DirectoryClient,
  hashKeyFunction,
  MysqlDirectoryStore,
  rangeContains,
} from "@shardkit/directory";
import { type Fleet, startFleet } from "@shardkit/fleet";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { directories, shardInput } from "./helpers.js";

let fleet: Fleet;
const dirs = directories(() => fleet);

beforeAll(async () => {
  fleet = await startFleet({ servers: 1 });
});
afterEach(() => dirs.closeAll());
afterAll(async () => {
  await fleet?.stop();
});

/** A directory with two shards, an identity-keyed table and four ranges. */
function twoShards() {
  return dirs.create({
    shards: ["s1", "s2"],
    tables: [{ name: "events", keyColumn: "id", keyFunction: "identity" }],
    layout: 4,
  });
}

describe("DirectoryClient", () => {
  it("answers lookups from memory: the owner of the range holding the key's ksid", async () => {
    const { store, url: directoryUrl } = await twoShards();
    const client = await DirectoryClient.open({ directory: directoryUrl, pollIntervalMs: 0 });
    try {
      const snap = await store.snapshot();
      for (const key of [0, 1, 42, -7, 2n ** 60n, "alice", "", Buffer.from([1, 2, 3])]) {
        const loc = client.lookup(key);
        expect(loc.ksid).toBe(hashKeyFunction.ksid(key));
        const owner = snap.ranges.find((r) => rangeContains(r.range, loc.ksid));
        expect(loc).toMatchObject({ shard: owner?.shard, range: owner?.range, pinned: false });
      }
      // identity key function through the table: ksid 0xc0000000 is in the last range, on s2
      expect(client.lookup(0xc0000000, "events")).toMatchObject({ ksid: 0xc0000000, shard: "s2" });
      expect(() => client.lookup(2 ** 32, "events")).toThrow(
        expect.objectContaining({ code: "BAD_SHARD_KEY" }),
      );
      expect(() => client.lookup(1, "nope")).toThrow(
        expect.objectContaining({ code: "UNKNOWN_TABLE" }),
      );
      expect(() => client.lookup(null)).toThrow(expect.objectContaining({ code: "BAD_SHARD_KEY" }));
    } finally {
      await client.close();
    }
  });

  it("follows the version by refresh() and by polling, pinned keys first", async () => {
    const { store, url: directoryUrl } = await twoShards();
    const client = await DirectoryClient.open({ directory: directoryUrl, pollIntervalMs: 50 });
    const polled = await DirectoryClient.open({
      directory: store,
      pollIntervalMs: 50,
      heartbeatId: false,
    });
    try {
      const home = client.lookup("whale").shard;
      const other = home === "s1" ? "s2" : "s1";
      const { version } = await store.pinKey("whale", other);
      expect(await client.refresh()).toBe(true);
      expect(client.version).toBe(version);
      expect(client.lookup("whale")).toMatchObject({ shard: other, pinned: true });
      await vi.waitFor(() => expect(polled.lookup("whale").shard).toBe(other), { timeout: 3000 });
      expect(await client.refresh()).toBe(false);
      await store.unpinKey("whale");
      await vi.waitFor(() => expect(client.lookup("whale").shard).toBe(home), { timeout: 3000 });
    } finally {
      await client.close();
      await polled.close();
    }
  });

  it("records the version it holds as its heartbeat", async () => {
    const { store, url: directoryUrl } = await twoShards();
    const client = await DirectoryClient.open({
      directory: directoryUrl,
      pollIntervalMs: 0,
      heartbeatId: "router-test",
    });
    try {
      await client.refresh();
      const hb = (await store.listHeartbeats()).find((h) => h.id === "router-test");
      expect(hb).toMatchObject({ pid: process.pid, version: client.version });
    } finally {
      await client.close();
    }
  });

  it("keeps serving the last map when the directory is unreachable, and says how stale it is", async () => {
    const lonely = await startFleet({ servers: 1 });
    let client: DirectoryClient | undefined;
    try {
      const [srv] = lonely.servers;
      const url = await srv?.createDatabase("dir");
      const s = new MysqlDirectoryStore({ directory: url ?? "" });
      await s.init();
      await s.addShard(shardInput("only", (await srv?.createDatabase("only")) ?? ""));
      await s.layoutEven(2);
      await s.close();
      client = await DirectoryClient.open({ directory: url ?? "", pollIntervalMs: 0 });
      expect(client.status().unreachable).toBe(false);
      await lonely.stop();
      await expect(client.refresh()).rejects.toMatchObject({ code: "DIRECTORY_UNAVAILABLE" });
      expect(client.lookup(42).shard).toBe("only");
      await new Promise((r) => setTimeout(r, 30));
      const st = client.status();
      expect(st.unreachable).toBe(true);
      expect(st.staleMs).toBeGreaterThanOrEqual(30);
      expect(st.lastError).toMatch(/directory/);
    } finally {
      await client?.close();
      await lonely.stop();
    }
  });
});
