import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { evenSplit } from "../key-range.js";
import type { DirectorySnapshot, RouterHeartbeat } from "../model.js";
import type { DirectorySource, IdBlock } from "../store/directory-source.js";
import { DirectoryClient } from "./directory-client.js";

/** A directory held in memory: another source than MySQL, as an HTTP source would be. */
class MemorySource implements DirectorySource {
  readonly location = "memory";
  readonly heartbeats: Omit<RouterHeartbeat, "lastSeen">[] = [];
  closed = 0;
  snapshots = 0;
  constructor(public current: DirectorySnapshot) {}
  async snapshot() {
    this.snapshots++;
    return this.current;
  }
  async version() {
    return this.current.version;
  }
  async recordHeartbeat(hb: Omit<RouterHeartbeat, "lastSeen">) {
    this.heartbeats.push(hb);
  }
  async listHeartbeats(): Promise<RouterHeartbeat[]> {
    return [];
  }
  async reserveIds(_sequence: string, count: number): Promise<IdBlock> {
    return { start: 1, end: 1 + count };
  }
  async close() {
    this.closed++;
  }
}

function layout(version: number, shards: readonly string[]): DirectorySnapshot {
  return {
    version,
    shards: shards.map((name) => ({
      name,
      host: "h",
      port: 3306,
      user: "u",
      database: name,
      state: "serving" as const,
    })),
    tables: [{ name: "events", keyColumn: "id", keyFunction: "identity" }],
    ranges: evenSplit(2).map((range, i) => ({
      range,
      shard: shards[i % shards.length] ?? "",
      state: "serving" as const,
    })),
    pins: [],
    moves: [],
  };
}

describe("DirectoryClient over any DirectorySource", () => {
  it("looks keys up, follows the version and reports its heartbeat through the source", async () => {
    const source = new MemorySource(layout(7, ["a", "b"]));
    const client = await DirectoryClient.open({
      directory: source,
      pollIntervalMs: 0,
      heartbeatId: "r",
    });
    try {
      expect(client.source).toBe(source);
      expect(client.lookup(5, "events")).toMatchObject({ ksid: 5, shard: "a" });
      expect(client.version).toBe(7);
      expect(await client.refresh()).toBe(false);
      expect(source.snapshots).toBe(1);
      source.current = layout(8, ["b", "a"]);
      expect(await client.refresh()).toBe(true);
      expect(client.map.version).toBe(8);
      expect(client.lookup(5, "events").shard).toBe("b");
      expect(source.heartbeats.map((h) => [h.id, h.version])).toEqual([
        ["r", 7],
        ["r", 7],
        ["r", 8],
      ]);
    } finally {
      await client.close();
    }
    // A source passed in stays its owner's to close.
    expect(source.closed).toBe(0);
  });

  it("a refresh called while a poll is under way sees every change made before the call", async () => {
    const source = new MemorySource(layout(7, ["a", "b"]));
    const client = await DirectoryClient.open({
      directory: source,
      pollIntervalMs: 0,
      heartbeatId: false,
    });
    // A poll reads the version (7), then stalls; meanwhile a change commits and a caller refreshes.
    let release = () => {};
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    const version = source.version.bind(source);
    source.version = async () => {
      const v = await version();
      source.version = version;
      await stalled;
      return v;
    };
    const underWay = client.refresh();
    source.current = layout(8, ["a", "c"]);
    const mine = client.refresh();
    release();
    expect(await underWay).toBe(false);
    expect(await mine).toBe(true);
    expect(client.map.version).toBe(8);
    await client.close();
  });

  it("refuses a URL it has no source for, with BAD_URL", async () => {
    await expect(DirectoryClient.open({ directory: "ftp://dir.example/x" })).rejects.toMatchObject({
      code: "BAD_URL",
    });
  });

  it("names no store: the client and the fence import only the source contract", () => {
    for (const file of ["./directory-client.ts", "../fence/ownership-fence.ts"]) {
      const text = readFileSync(new URL(file, import.meta.url), "utf8");
      expect(text, file).not.toMatch(/from "\.\.\/store\/(mysql\/|directory-admin)/);
    }
  });
});
