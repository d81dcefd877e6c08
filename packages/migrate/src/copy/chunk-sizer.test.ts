import { afterEach, describe, expect, it, vi } from "vitest";
import { chunkSizer } from "./table-copier.js";

afterEach(() => vi.useRealTimers());

describe("copy chunk sizes", () => {
  it("follow the time chunks take, between a tenth and 20 times the first size", () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    const sizer = chunkSizer(1000, 100);
    expect(sizer.size).toBe(1000);
    vi.advanceTimersByTime(10);
    sizer.done(1000); // 100 rows/ms: 10000 rows would take 100 ms
    expect(sizer.size).toBe(4000); // growing: at most four times the last size
    vi.advanceTimersByTime(40);
    sizer.done(4000);
    expect(sizer.size).toBe(10_000);
    vi.advanceTimersByTime(200);
    sizer.done(10_000); // 50 rows/ms: shrinking halfway to 5000
    expect(sizer.size).toBe(7500);
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(1);
      sizer.done(sizer.size);
    }
    expect(sizer.size).toBe(20_000);
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(10_000);
      sizer.done(10);
    }
    expect(sizer.size).toBe(100);
  });

  it("stay at the first size without a target time", () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    const sizer = chunkSizer(40, 0);
    vi.advanceTimersByTime(1);
    sizer.done(40);
    expect(sizer.size).toBe(40);
  });
});
