// The options `shardkit plan` and `shardkit forecast --plan` share, as commander reads them.
import { PLAN_METRICS, type PlanMetric, type PlanOptions } from "@shardkit/migrate";
import { type Command, Option } from "commander";
import { UsageError } from "../cli-errors.js";

/** The planner's options as commander parses them. */
export interface PlanFlags {
  readonly add?: readonly string[];
  readonly drain?: readonly string[];
  readonly maxImbalance?: number;
  readonly weight?: readonly string[];
  readonly by?: PlanMetric;
  readonly sample?: number;
}

const list = (value: string, previous: readonly string[] = []) => [
  ...previous,
  ...value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== ""),
];

/** A number option; anything else is a one-line BAD_ARGUMENT naming the flag. */
export function numberOf(
  flag: string,
  check: (n: number) => boolean,
  what: string,
): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || !check(n)) {
      throw new UsageError("BAD_ARGUMENT", `invalid ${flag} "${text}": give ${what}`);
    }
    return n;
  };
}

/** Adds the planner's options to `command`. */
export function withPlanFlags<C extends Command>(command: C): C {
  command
    .addOption(
      new Option(
        "--add <shards>",
        "shards to scale out to (comma-separated; registered, owning nothing yet)",
      ).argParser(list),
    )
    .addOption(
      new Option(
        "--drain <shards>",
        "shards to empty before retiring them (comma-separated)",
      ).argParser(list),
    )
    .addOption(
      new Option(
        "--max-imbalance <percent>",
        "every shard ends within this many percent of its fair share (default 10)",
      ).argParser(
        numberOf(
          "--max-imbalance",
          (n) => n >= 0 && n < 100,
          "a percentage from 0 to below 100, e.g. 10",
        ),
      ),
    )
    .addOption(
      new Option(
        "--weight <shard=w>",
        "a shard's relative size (repeatable; default 1 each)",
      ).argParser(list),
    )
    .addOption(
      new Option("--by <metric>", "balance rows or bytes (default bytes)").choices([
        ...PLAN_METRICS,
      ]),
    )
    .addOption(
      new Option(
        "--sample <fraction>",
        "measure from this fraction of the rows (default: every row)",
      ).argParser(
        numberOf("--sample", (n) => n > 0 && n <= 1, "a fraction above 0 and at most 1, e.g. 0.1"),
      ),
    );
  return command;
}

/** The planner's options from the flags; a malformed `--weight` is a one-line BAD_ARGUMENT. */
export function planOptionsOf(flags: PlanFlags): PlanOptions {
  const weights: Record<string, number> = {};
  for (const w of flags.weight ?? []) {
    const m = /^([^=]+)=([0-9.]+)$/.exec(w);
    const value = m ? Number(m[2]) : Number.NaN;
    if (!m || !Number.isFinite(value) || value <= 0) {
      throw new UsageError(
        "BAD_ARGUMENT",
        `invalid --weight "${w}": write shard=weight with a weight above 0, e.g. s3=2`,
      );
    }
    weights[m[1] as string] = value;
  }
  return {
    ...(flags.add ? { add: flags.add } : {}),
    ...(flags.drain ? { drain: flags.drain } : {}),
    ...(flags.maxImbalance !== undefined ? { maxImbalance: flags.maxImbalance } : {}),
    ...(flags.by ? { by: flags.by } : {}),
    weights,
  };
}
