// Routers in other processes: what a stale router does after a range moved, and ids handed
// out by many routers at once.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { hashKeyFunction, rangeContains } from "@shardkit/directory";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RouterFixture, startRouterFixture, user } from "./fixtures/router-fixture.js";

let f: RouterFixture;

beforeAll(async () => {
  f = await startRouterFixture({ seedUsers: 60 });
}, 120_000);

afterAll(async () => {
  await f?.close();
});

interface Child {
  proc: ChildProcessWithoutNullStreams;
  send(cmd: object): Promise<Record<string, unknown>>;
  ready: Promise<Record<string, unknown>>;
}

function child(pollMs: number): Child {
  const proc = spawn(process.execPath, [
    join(import.meta.dirname, "fixtures/router-child.mjs"),
    f.directoryUrl,
    String(pollMs),
  ]);
  const lines = createInterface({ input: proc.stdout });
  const waiting: ((v: Record<string, unknown>) => void)[] = [];
  lines.on("line", (l) => waiting.shift()?.(JSON.parse(l)));
  proc.stderr.on("data", (d) => process.stderr.write(d));
  // A child that died answers every question with its exit, rather than leaving the test waiting.
  const exited = { ok: false, exited: true };
  proc.on("exit", () => {
    for (const w of waiting.splice(0)) w(exited);
  });
  const next = () =>
    new Promise<Record<string, unknown>>((r) =>
      proc.exitCode === null ? waiting.push(r) : r(exited),
    );
  const ready = next();
  return {
    proc,
    ready,
    send: (cmd) => {
      const p = next();
      proc.stdin.write(`${JSON.stringify(cmd)}\n`);
      return p;
    },
  };
}

async function stopChild(c: Child): Promise<void> {
  if (c.proc.exitCode !== null) return;
  c.proc.stdin.end(`${JSON.stringify({ op: "exit" })}\n`);
  await new Promise((r) => c.proc.once("exit", r));
}

describe("routers in other processes", () => {
  it("a stale router's write is refused by the fence, retried, and lands on the new owner only", async () => {
    const { router, store, shardDb } = f;
    const stale = child(0);
    const staleInserter = child(0);
    // A key that is not in the table yet, in the first range.
    const range = (await store.snapshot()).ranges[0];
    if (!range) throw new Error("no ranges");
    const from = range.shard;
    const to = from === "s3" ? "s2" : "s3";
    const [key, insertKey] = [...Array(5000).keys()]
      .map((i) => i + 900_000)
      .filter((k) => rangeContains(range.range, hashKeyFunction.ksid(k))) as [number, number];
    const rows = (await shardDb[from]?.("users").select()) ?? [];
    const moving = rows.filter((r) =>
      rangeContains(range.range, hashKeyFunction.ksid(Number(r.user_id))),
    );
    let moved = false;
    try {
      const { version } = await stale.ready;
      expect((await staleInserter.ready).version).toBe(version);
      // Copy the range's rows to the new owner (what a move's copy step does), then switch.
      if (moving.length > 0) await shardDb[to]?.("users").insert(moving);
      const before = Number((await shardDb[from]?.("users").count({ n: "*" }))?.[0]?.n);
      const switched = await store.assignRange(range.range, from, to);
      moved = true;
      expect(switched.version).toBeGreaterThan(version as number);

      const reply = await stale.send({ op: "write", key, name: "late" });
      expect(reply).toMatchObject({ ok: true, shard: to });
      expect(reply.version).toBe(switched.version);
      expect(await f.whereIs("users", "user_id", key)).toEqual([to]);
      // The same through insert(), whose one statement the old owner's fence refuses too.
      const inserted = await staleInserter.send({ op: "insert", key: insertKey, name: "late" });
      expect(inserted).toMatchObject({ ok: true, shard: to, version: switched.version });
      expect(await f.whereIs("users", "user_id", insertKey)).toEqual([to]);
      expect(Number((await shardDb[from]?.("users").count({ n: "*" }))?.[0]?.n)).toBe(before);
      // The polling router follows on its own and writes to the new owner too.
      await new Promise((r) => setTimeout(r, 300));
      expect(router.directory.version).toBe(switched.version);
      await router.write(key + 1_000_000, (trx) => trx("users").insert(user(key + 1_000_000)));
      expect(await f.whereIs("users", "user_id", key + 1_000_000)).toEqual([to]);
    } finally {
      await Promise.all([stopChild(stale), stopChild(staleInserter)]);
      // Put the range back and remove what this test wrote, on every shard.
      if (moved) await store.assignRange(range.range, to, from);
      const ids = moving.map((r) => r.user_id as Knex.Value);
      await shardDb[to]?.("users").whereIn("user_id", ids).delete();
      for (const db of Object.values(shardDb)) {
        await db("users")
          .whereIn("user_id", [key, insertKey, key + 1_000_000])
          .delete();
      }
      await router.refresh();
    }
  });

  it("hands out ids unique across routers in parallel processes, increasing within each", async () => {
    const children = [child(0), child(0), child(0)];
    try {
      await Promise.all(children.map((c) => c.ready));
      const replies = await Promise.all(
        children.map((c) => c.send({ op: "ids", sequence: "orders", n: 2500 })),
      );
      const mine: number[] = [];
      for (let i = 0; i < 1500; i++) mine.push(await f.router.nextId("orders"));
      const all = [...replies.flatMap((r) => r.ids as number[]), ...mine];
      expect(all).toHaveLength(3 * 2500 + 1500);
      expect(new Set(all).size).toBe(all.length);
      for (const list of [...replies.map((r) => r.ids as number[]), mine]) {
        for (let i = 1; i < list.length; i++)
          expect(list[i]).toBeGreaterThan(list[i - 1] as number);
      }
    } finally {
      await Promise.all(children.map(stopChild));
    }
  });
});
