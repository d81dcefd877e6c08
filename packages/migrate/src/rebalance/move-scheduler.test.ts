import { describe, expect, it } from "vitest";
import { runOnDisjointShards } from "./move-scheduler.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 2));

/** Runs tasks that take a few ticks each, recording what ran at the same time. */
async function trace(
  tasks: { id: number; from: string; to: string; fail?: boolean }[],
  parallel: number,
) {
  const running = new Set<number>();
  const started: number[] = [];
  let most = 0;
  const overlaps: string[] = [];
  const error = await runOnDisjointShards(tasks, parallel, async (t) => {
    for (const other of running) {
      const o = tasks.find((x) => x.id === other) as (typeof tasks)[number];
      if ([o.from, o.to].some((s) => s === t.from || s === t.to)) overlaps.push(`${o.id}/${t.id}`);
    }
    running.add(t.id);
    started.push(t.id);
    most = Math.max(most, running.size);
    for (let i = 0; i < 3; i++) await tick();
    running.delete(t.id);
    if (t.fail) throw new Error(`task ${t.id} failed`);
  }).then(
    () => null,
    (e: Error) => e.message,
  );
  return { started, most, overlaps, error };
}

describe("runOnDisjointShards", () => {
  it("runs moves on disjoint shards at once, up to the limit, never two on one shard", async () => {
    const tasks = [
      { id: 1, from: "s1", to: "s3" },
      { id: 2, from: "s1", to: "s4" },
      { id: 3, from: "s2", to: "s4" },
      { id: 4, from: "s5", to: "s6" },
      { id: 5, from: "s2", to: "s3" },
    ];
    const two = await trace(tasks, 2);
    expect(two.overlaps).toEqual([]);
    expect(two.most).toBe(2);
    // 1 and 3 start together; 2 waits for s1 and s4, so 4 takes the free slot next.
    expect(two.started.slice(0, 3)).toEqual([1, 3, 4]);
    expect([...two.started].sort()).toEqual([1, 2, 3, 4, 5]);
    const one = await trace(tasks, 1);
    expect(one.most).toBe(1);
    expect(one.started).toEqual([1, 2, 3, 4, 5]);
    const many = await trace(tasks, 8);
    expect(many.overlaps).toEqual([]);
    expect(many.most).toBe(3);
  });

  it("starts nothing new after a failure, lets running moves finish, then throws the first failure", async () => {
    const r = await trace(
      [
        { id: 1, from: "a", to: "b", fail: true },
        { id: 2, from: "c", to: "d" },
        { id: 3, from: "a", to: "e" },
        { id: 4, from: "f", to: "g" },
      ],
      2,
    );
    expect(r.error).toBe("task 1 failed");
    expect(r.started).toEqual([1, 2]);
  });
});
