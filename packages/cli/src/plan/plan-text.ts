import type { PlanFile, PlanFileStep } from "@shardkit/migrate";
import { formatTable } from "../output.js";
import { count } from "../progress/progress-state.js";

/** Bytes as people read them: 512 B, 1.5 MiB, 2.0 GiB. */
export function byteSize(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** A step as one line. */
export function stepLine(s: PlanFileStep): string {
  return s.kind === "split"
    ? `${s.step}. split ${s.range} at ${s.at}`
    : `${s.step}. move ${s.range} from ${s.from} to ${s.to} (${count(s.rows)} rows, ${byteSize(s.bytes)})`;
}

/** What `shardkit plan` prints: load per shard before and after, bytes moved against the bound, the steps. */
export function planText(plan: PlanFile, out: string | undefined): string {
  const by = plan.assumed.by;
  const shown = (l: { rows: number; bytes: number }) =>
    by === "rows" ? count(l.rows) : byteSize(l.bytes);
  const table = formatTable(
    ["SHARD", "BEFORE", "AFTER", "FAIR SHARE", "AFTER/SHARE"],
    plan.shards.map((s) => [
      `${s.shard}${s.drained ? " (drain)" : ""}`,
      shown(s.before),
      shown(s.after),
      by === "rows" ? count(Math.round(s.target)) : byteSize(s.target),
      s.target > 0
        ? `${(((by === "rows" ? s.after.rows : s.after.bytes) / s.target) * 100).toFixed(1)}%`
        : "-",
    ]),
  );
  const closeness =
    plan.closeness === null
      ? "the bound is 0"
      : `${plan.closeness.toFixed(2)} times the lower bound ${byteSize(plan.lowerBoundBytes)}`;
  const lines = [
    `plan from directory version ${plan.directoryVersion}, balancing ${by} within ${plan.assumed.maxImbalance}%${plan.assumed.stats.sample ? ` (measured from a ${plan.assumed.stats.sample} sample)` : ""}`,
    table.trimEnd(),
    `moves ${byteSize(plan.bytesMoved)} (${count(plan.rowsMoved)} rows): ${closeness}; largest load over fair share ${plan.maxOverMean.before.toFixed(2)} -> ${plan.maxOverMean.after.toFixed(2)}`,
  ];
  if (!plan.withinImbalance) lines.push(...plan.unmet.map((u) => `not within the imbalance: ${u}`));
  if (plan.steps.length === 0) lines.push("nothing to do: every shard is within the imbalance");
  else lines.push("steps:", ...plan.steps.map((s) => `  ${stepLine(s)}`));
  if (out) lines.push(`plan written to ${out}; run it with shardkit apply ${out}`);
  return lines.join("\n");
}
