import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { checkPlanOptions, makePlanFile, measureLoads } from "@shardkit/migrate";
import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";
import { type PlanFlags, planOptionsOf, withPlanFlags } from "../plan/plan-arguments.js";
import { planText } from "../plan/plan-text.js";

const EXAMPLES = `
The planner measures every range (rows and bytes, by reading the sharded tables and computing
each row's keyspace id; --sample reads a fraction), then proposes splits and moves that bring
every shard within --max-imbalance percent of its fair share while moving the fewest bytes it
can. It prints each shard's load before and after, the bytes moved against a lower bound no
plan can beat, and the steps. --out writes the plan file that shardkit apply runs; it records
the directory version it was made from and what the planner assumed.

Examples:
  shardkit plan --add s3,s4 --out plan.json        # scale out from s1,s2 to four shards
  shardkit plan --drain s2 --out drain.json        # empty s2 before shardkit shard remove s2
  shardkit plan --max-imbalance 5 --by rows        # rebalance the shards there are
  shardkit plan --add big1 --weight big1=2 --sample 0.1 --out plan.json`;

interface Flags extends PlanFlags {
  readonly out?: string;
}

/** `shardkit plan`: measures the ranges and proposes a plan (`--out` writes it for `shardkit apply`). */
export const planCommand: CommandDefinition = (action) =>
  withPlanFlags(
    new Command("plan").description(
      "propose splits and moves that bring every shard within an imbalance, moving the fewest bytes",
    ),
  )
    .option("--out <file>", "write the plan to this file, for shardkit apply")
    .addHelpText("after", EXAMPLES)
    .action(
      action(async (ctx, flags: Flags) => {
        const options = planOptionsOf(flags);
        checkPlanOptions(await ctx.admin.snapshot(), options);
        let last = Date.now();
        if (!ctx.json)
          ctx.note(
            `measuring every range${flags.sample ? ` from a ${flags.sample} sample` : ""}...`,
          );
        const stats = await measureLoads(ctx.admin, {
          ...(flags.sample !== undefined ? { sample: flags.sample } : {}),
          credentials: ctx.credentials,
          onProgress: (p) => {
            if (ctx.io.terminal === undefined || Date.now() - last < 1000) return;
            last = Date.now();
            ctx.note(`read ${p.rowsRead} rows of ${p.table} on ${p.shard}...`);
          },
        });
        const plan = makePlanFile(await ctx.admin.snapshot(), stats, options);
        let out: string | undefined;
        if (flags.out !== undefined) {
          out = resolve(ctx.io.cwd, flags.out);
          writeFileSync(out, `${JSON.stringify(plan, null, 2)}\n`);
        }
        return {
          kind: "report",
          text: planText(plan, flags.out),
          data: { ...plan, ...(out ? { out } : {}) },
        };
      }),
    );
