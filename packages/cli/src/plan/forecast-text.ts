import type { Forecast } from "@shardkit/migrate";
import { formatTable } from "../output.js";
import { byteSize } from "./plan-text.js";

/** What `shardkit forecast` prints: the growth, each shard's fill date, the shards needed by month. */
export function forecastText(f: Forecast): string {
  const growth = `${f.growthPercentPerMonth.toFixed(2)}% a month (${f.growthFrom === "given" ? "given" : `fitted to ${f.basedOn.snapshots} measurements, ${f.basedOn.from.slice(0, 10)} to ${f.basedOn.to.slice(0, 10)}`})`;
  const shards = formatTable(
    ["SHARD", "BYTES", "FULL", "IN MONTHS"],
    f.shards.map((s) => [
      s.shard,
      byteSize(s.bytes),
      s.fullInMonths === 0 ? "full now" : (s.fullOn ?? "never at this growth"),
      s.fullInMonths === null ? "-" : s.fullInMonths.toFixed(1),
    ]),
  ).trimEnd();
  const step = Math.max(1, Math.ceil(f.months.length / 12));
  const months = formatTable(
    ["MONTH", "TOTAL", "SHARDS NEEDED"],
    f.months
      .filter((_m, i) => (i + 1) % step === 0 || i === f.months.length - 1)
      .map((m) => [String(m.month), byteSize(m.totalBytes), String(m.shardsNeeded)]),
  ).trimEnd();
  return [
    `${byteSize(f.totalBytes)} over ${f.currentShards} shards, growing ${growth}; capacity ${byteSize(f.capacity)} a shard`,
    shards,
    "",
    months,
    `in ${f.months.length} months: ${f.shardsNeeded} shards (${f.shardsNeeded - f.currentShards > 0 ? `${f.shardsNeeded - f.currentShards} more` : "no more"})`,
  ].join("\n");
}
