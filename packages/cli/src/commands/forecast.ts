import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { forecast, makePlanFile, type PlanFile, type StatsReport } from "@shardkit/migrate";
import { Command, Option } from "commander";
import { UsageError } from "../cli-errors.js";
import type { CommandDefinition } from "../command-definition.js";
import { byteCount } from "../plan/byte-arguments.js";
import { forecastText } from "../plan/forecast-text.js";
import { numberOf } from "../plan/plan-arguments.js";
import { planText } from "../plan/plan-text.js";

const EXAMPLES = `
Reads the measurements shardkit stats stored, fits the growth of the total bytes (compound, per
month) and says when each shard reaches --capacity and how many shards the next --months need.
Without two measurements some time apart, give the growth with --growth. --plan hands the
answer to the planner: it scales out to the shards needed, taking registered shards that own
nothing yet (register them first with shardkit shard add).

Examples:
  shardkit forecast --capacity 500G
  shardkit forecast --capacity 2T --months 24 --growth 4
  shardkit forecast --capacity 500G --plan --out plan.json`;

interface Flags {
  readonly capacity?: number;
  readonly months?: number;
  readonly growth?: number;
  readonly plan?: boolean;
  readonly out?: string;
  readonly maxImbalance?: number;
}

/** `shardkit forecast --capacity <bytes>`: when shards fill up; `--plan` plans the shards needed. */
export const forecastCommand: CommandDefinition = (action) =>
  new Command("forecast")
    .description(
      "say when each shard fills up and how many shards the next months need (--plan: plan them)",
    )
    .addOption(
      new Option("--capacity <bytes>", "bytes one shard holds, e.g. 500G (required)").argParser(
        byteCount("--capacity"),
      ),
    )
    .addOption(
      new Option("--months <n>", "months to look ahead (default 12)").argParser(
        numberOf(
          "--months",
          (n) => Number.isInteger(n) && n >= 1 && n <= 600,
          "a whole number from 1 to 600",
        ),
      ),
    )
    .addOption(
      new Option(
        "--growth <percent>",
        "growth per month in percent (default: fitted to the stored measurements)",
      ).argParser(
        numberOf("--growth", (n) => n > -100, "a percentage per month above -100, e.g. 5"),
      ),
    )
    .option("--plan", "plan the scale-out to the shards needed at the end of the period")
    .option("--out <file>", "with --plan: write the plan to this file, for shardkit apply")
    .addOption(
      new Option(
        "--max-imbalance <percent>",
        "with --plan: as shardkit plan's (default 10)",
      ).argParser(
        numberOf(
          "--max-imbalance",
          (n) => n >= 0 && n < 100,
          "a percentage from 0 to below 100, e.g. 10",
        ),
      ),
    )
    .addHelpText("after", EXAMPLES)
    .action(
      action(async (ctx, flags: Flags) => {
        if (flags.capacity === undefined) {
          throw new UsageError(
            "USAGE",
            "give the bytes one shard holds with --capacity, e.g. --capacity 500G; see shardkit forecast --help",
          );
        }
        if (flags.out !== undefined && !flags.plan) {
          throw new UsageError(
            "BAD_ARGUMENT",
            "--out writes the plan of --plan: add --plan, or drop --out",
          );
        }
        const stored = await ctx.admin.listStats();
        const points = stored.map((s) => ({
          takenAt: s.takenAt,
          shards: ((s.report as unknown as StatsReport).shards ?? []).map((x) => ({
            shard: x.shard,
            bytes: x.bytes,
          })),
        }));
        const f = forecast(points, {
          capacity: flags.capacity,
          ...(flags.months !== undefined ? { months: flags.months } : {}),
          ...(flags.growth !== undefined ? { growthPercent: flags.growth } : {}),
        });
        let plan: PlanFile | null = null;
        let out: string | undefined;
        if (flags.plan) {
          const snapshot = await ctx.admin.snapshot();
          const owners = new Set(snapshot.ranges.map((r) => r.shard));
          const extra = f.shardsNeeded - owners.size;
          if (extra > 0) {
            const free = snapshot.shards
              .filter((s) => !owners.has(s.name) && s.state === "serving")
              .map((s) => s.name);
            if (free.length < extra) {
              throw new UsageError(
                "BAD_ARGUMENT",
                `the next ${f.months.length} months need ${f.shardsNeeded} shards and ${owners.size} own ranges, but only ${free.length} registered shards own nothing: register ${extra - free.length} more with shardkit shard add, then run again`,
              );
            }
            const latest = stored.at(-1)?.report as unknown as StatsReport;
            plan = makePlanFile(snapshot, latest, {
              add: free.slice(0, extra),
              ...(flags.maxImbalance !== undefined ? { maxImbalance: flags.maxImbalance } : {}),
            });
            if (flags.out !== undefined) {
              out = resolve(ctx.io.cwd, flags.out);
              writeFileSync(out, `${JSON.stringify(plan, null, 2)}\n`);
            }
          }
        }
        const text = [forecastText(f)];
        if (flags.plan)
          text.push("", plan ? planText(plan, flags.out) : "no shard to add: no plan needed");
        return {
          kind: "report",
          text: text.join("\n"),
          data: { ...f, ...(flags.plan ? { plan } : {}), ...(out ? { out } : {}) },
        };
      }),
    );
