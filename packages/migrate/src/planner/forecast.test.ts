import { describe, expect, it } from "vitest";
import { forecast, MONTH_MS } from "./forecast.js";

const GiB = 2 ** 30;
const at = (month: number) => new Date(Date.UTC(2026, 0, 1) + month * MONTH_MS);

describe("forecast", () => {
  it("fits 10% a month from history and says when each shard fills and how many shards are needed", () => {
    const points = [0, 1, 2, 3].map((m) => ({
      takenAt: at(m),
      shards: [
        { shard: "s1", bytes: 60 * GiB * 1.1 ** m },
        { shard: "s2", bytes: 40 * GiB * 1.1 ** m },
      ],
    }));
    const f = forecast(points, { capacity: 100 * GiB, months: 12 });
    expect(f.growthFrom).toBe("history");
    expect(f.growthPercentPerMonth).toBeCloseTo(10, 6);
    const s1 = f.shards.find((s) => s.shard === "s1");
    // 60 * 1.1^3 = 79.9 GiB; 100/79.86 = 1.1^m -> m = 2.36 months.
    expect(s1?.fullInMonths).toBeCloseTo(Math.log(100 / (60 * 1.1 ** 3)) / Math.log(1.1), 6);
    expect(f.months[0]).toEqual({
      month: 1,
      totalBytes: Math.round(100 * GiB * 1.1 ** 4),
      shardsNeeded: 2,
    });
    // Month 12: 100 GiB * 1.1^15 = 417.7 GiB -> 5 shards.
    expect(f.shardsNeeded).toBe(5);
  });

  it("uses --growth without history, and never for no growth", () => {
    const one = [{ takenAt: at(0), shards: [{ shard: "a", bytes: 50 * GiB }] }];
    expect(() => forecast(one, { capacity: 100 * GiB })).toThrow(/give --growth/);
    const f = forecast(one, { capacity: 100 * GiB, growthPercent: 5, months: 24 });
    expect(f.growthFrom).toBe("given");
    expect(f.shards[0]?.fullInMonths).toBeCloseTo(Math.log(2) / Math.log(1.05), 6);
    expect(f.shardsNeeded).toBe(2);
    expect(
      forecast(one, { capacity: 100 * GiB, growthPercent: 0 }).shards[0]?.fullInMonths,
    ).toBeNull();
    expect(forecast(one, { capacity: 10 * GiB, growthPercent: 0 }).shards[0]?.fullInMonths).toBe(0);
  });

  it("refuses what it cannot answer", () => {
    expect(() => forecast([], { capacity: 1 })).toThrow(/run shardkit stats first/);
    const one = [{ takenAt: at(0), shards: [{ shard: "a", bytes: 5 }] }];
    expect(() => forecast(one, { capacity: 0, growthPercent: 1 })).toThrow(/--capacity/);
    expect(() => forecast(one, { capacity: 1, growthPercent: 1, months: 0 })).toThrow(/--months/);
    expect(() => forecast(one, { capacity: 1, growthPercent: -100 })).toThrow(/--growth/);
  });
});
