import { measureLoads, sampleBound } from "@shardkit/migrate";
import { Command, Option } from "commander";
import type { CommandDefinition } from "../command-definition.js";
import { numberOf } from "../plan/plan-arguments.js";
import { statsText } from "../plan/stats-text.js";

const EXAMPLES = `
Reads every sharded table on every shard and computes each row's keyspace id, as the router
does, to count each range's rows and bytes (a row's bytes: the lengths of its values), per
table, per shard, and the keys with the most rows (whales worth pinning, or moving with
shardkit move --key). --sample reads a fraction of the rows (chosen by a hash of the primary
key) and scales up; each estimate is printed with its error bound (3 standard deviations).
Each run is stored in the directory, so shardkit forecast knows the growth.

Examples:
  shardkit stats
  shardkit stats --sample 0.05 --top 20
  shardkit stats --json > stats.json`;

interface Flags {
  readonly sample?: number;
  readonly top?: number;
  readonly store?: boolean;
}

/** `shardkit stats`: rows and bytes per range, table and shard, the top keys; stored as a snapshot. */
export const statsCommand: CommandDefinition = (action) =>
  new Command("stats")
    .description(
      "measure rows and bytes per range, table and shard, and the largest keys; store a snapshot",
    )
    .addOption(
      new Option(
        "--sample <fraction>",
        "read this fraction of the rows and estimate (default: every row, exact)",
      ).argParser(
        numberOf("--sample", (n) => n > 0 && n <= 1, "a fraction above 0 and at most 1, e.g. 0.1"),
      ),
    )
    .addOption(
      new Option("--top <n>", "keys with the most rows to show (default 10)").argParser(
        numberOf("--top", (n) => Number.isInteger(n) && n >= 0, "a whole number, e.g. 10"),
      ),
    )
    .option("--no-store", "do not store this measurement in the directory")
    .addHelpText("after", EXAMPLES)
    .action(
      action(async (ctx, flags: Flags) => {
        let last = Date.now();
        const report = await measureLoads(ctx.admin, {
          ...(flags.sample !== undefined ? { sample: flags.sample } : {}),
          ...(flags.top !== undefined ? { topKeys: flags.top } : {}),
          credentials: ctx.credentials,
          onProgress: (p) => {
            if (ctx.io.terminal === undefined || Date.now() - last < 1000) return;
            last = Date.now();
            ctx.note(`read ${p.rowsRead} rows of ${p.table} on ${p.shard}...`);
          },
        });
        const totalRows = report.shards.reduce((s, x) => s + x.rows, 0);
        const totalBytes = report.shards.reduce((s, x) => s + x.bytes, 0);
        let snapshotId: number | null = null;
        if (flags.store !== false) {
          const stored = await ctx.admin.recordStats({
            takenAt: new Date(report.takenAt),
            directoryVersion: report.directoryVersion,
            sample: report.sample,
            totalRows,
            totalBytes,
            report: report as unknown as Record<string, unknown>,
          });
          snapshotId = stored.id;
        }
        const bounds =
          report.sample === null
            ? null
            : report.ranges.map((r) => ({
                range: r.range,
                rows: Math.round(sampleBound(r.rows, report.sample as number)),
                bytes:
                  r.rows > 0
                    ? Math.round((sampleBound(r.rows, report.sample as number) / r.rows) * r.bytes)
                    : 0,
              }));
        return {
          kind: "report",
          text: statsText(report, bounds, snapshotId),
          data: { ...report, totalRows, totalBytes, snapshotId, ...(bounds ? { bounds } : {}) },
        };
      }),
    );
