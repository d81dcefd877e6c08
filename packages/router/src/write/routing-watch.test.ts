import { describe, expect, it } from "vitest";
import { REFRESH_GAP_MS, RoutingWatch } from "./routing-watch.js";

describe("RoutingWatch", () => {
  it("shares one refresh among every refused write, and starts the next no sooner than the gap", async () => {
    const starts: number[] = [];
    const watch = new RoutingWatch(async () => {
      starts.push(performance.now());
      await new Promise((r) => setTimeout(r, 1));
    });
    await Promise.all(Array.from({ length: 50 }, () => watch.refreshSoon()));
    expect(starts).toHaveLength(1);
    for (let i = 0; i < 5; i++) await watch.refreshSoon();
    expect(starts).toHaveLength(6);
    for (let i = 1; i < starts.length; i++) {
      expect((starts[i] as number) - (starts[i - 1] as number)).toBeGreaterThanOrEqual(
        REFRESH_GAP_MS,
      );
    }
  });

  it("keeps the gap between starts as the refresh sees them, when its call is slow to begin", async () => {
    const starts: number[] = [];
    let calls = 0;
    const watch = new RoutingWatch(async () => {
      // The first call is held up (a GC pause, a busy loop) before it notes its start.
      if (calls++ === 0) for (const end = performance.now() + 1.5; performance.now() < end; );
      starts.push(performance.now());
    });
    await watch.refreshSoon();
    await watch.refreshSoon();
    expect((starts[1] as number) - (starts[0] as number)).toBeGreaterThanOrEqual(REFRESH_GAP_MS);
  });

  it("a failed refresh is no failure of the write: it resolves", async () => {
    const watch = new RoutingWatch(() => Promise.reject(new Error("directory down")));
    await expect(watch.refreshSoon()).resolves.toBeUndefined();
  });

  it("wakes every waiting write when routing moves, and the others after their wait", async () => {
    const watch = new RoutingWatch(async () => undefined);
    const t0 = performance.now();
    const woken = Promise.all([watch.wait(5_000), watch.wait(5_000)]).then(() => performance.now());
    setTimeout(() => watch.moved(), 5);
    expect((await woken) - t0).toBeLessThan(1_000);
    const t1 = performance.now();
    await watch.wait(20);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(19);
  });
});
