import { DirectoryError, type DoctorReport } from "@shardkit/directory";
import { checkReferenceCopies, diffSchemas, type ReferenceProblem } from "@shardkit/migrate";
import { Command } from "commander";
import type { CommandDefinition } from "../command-definition.js";
import { schemaDiffFailure, schemaDiffLines, schemaDiffTables } from "./schema-diff-report.js";

/**
 * `shardkit doctor [--dry-run]`: every shard's ownership table against the directory, and every
 * table's definition across shards (`shardkit schema diff`).
 */
export const doctorCommand: CommandDefinition = (action) =>
  new Command("doctor")
    .description("compare every shard's ownership table with the directory and repair differences")
    .option("--dry-run", "report differences without repairing them")
    .option(
      "--max-reference-lag-ms <ms>",
      "a reference copy lagging more than this is reported (default 5000)",
    )
    .action(
      action(async (ctx, opts: { dryRun?: boolean; maxReferenceLagMs?: string }) => {
        const dryRun = opts.dryRun === true;
        const maxLagMs = Number(opts.maxReferenceLagMs ?? 5000);
        if (!Number.isInteger(maxLagMs) || maxLagMs < 0) {
          throw new DirectoryError(
            "BAD_ARGUMENT",
            `--max-reference-lag-ms must be a whole number of ms, not ${opts.maxReferenceLagMs}`,
          );
        }
        const report = await ctx.admin.doctor({ dryRun });
        const snapshot = await ctx.admin.snapshot();
        const schema = await diffSchemas(
          snapshot.shards,
          await schemaDiffTables(ctx, snapshot),
          ctx.credentials,
        );
        const references = await checkReferenceCopies(snapshot, {
          credentials: ctx.credentials,
          maxLagMs,
        });
        const referenceLines = (snapshot.referenceTables ?? []).length
          ? references.length
            ? references.map((p) => `  reference ${p.kind}: ${p.message}`)
            : ["every reference copy is present, read-only, in step and equal to its source"]
          : [];
        return {
          kind: "report",
          text: [...reportLines(report), ...schemaDiffLines(schema), ...referenceLines].join("\n"),
          data: { ...report, schema, references },
          failure:
            problemsOf(report, dryRun) ?? schemaDiffFailure(schema) ?? referenceFailure(references),
        };
      }),
    );

/** REFERENCE_COPY_MISSING for a missing, lagging, writable or different copy; the first named. */
function referenceFailure(problems: readonly ReferenceProblem[]): DirectoryError | undefined {
  const first = problems[0];
  if (!first) return undefined;
  return new DirectoryError(
    first.kind === "unreachable" ? "SHARD_UNAVAILABLE" : "REFERENCE_COPY_MISSING",
    `${problems.length} reference copy problem(s), first: ${first.message}`,
    { details: { references: problems } },
  );
}

function reportLines(report: DoctorReport): string[] {
  const lines = [
    `checked ${report.checkedShards.length} shards at directory version ${report.version}`,
  ];
  for (const d of report.differences) {
    lines.push(
      `  ${d.shard}: ${d.what} is ${d.kind}${d.expected ? ` (directory: ${d.expected})` : ""}${d.actual ? ` (shard: ${d.actual})` : ""}`,
    );
  }
  if (report.repairedShards.length) lines.push(`repaired: ${report.repairedShards.join(", ")}`);
  else if (report.differences.length === 0 && report.refusals.length === 0)
    lines.push("every shard is in step with the directory");
  for (const r of report.refusals) lines.push(`not repaired: ${r}`);
  return lines;
}

/**
 * Doctor fails when it left a problem unrepaired: SHARD_UNAVAILABLE (retry later) when every
 * refusal is a shard it could not reach, FENCE_OUT_OF_STEP (a conflict) otherwise.
 */
function problemsOf(report: DoctorReport, dryRun: boolean): DirectoryError | undefined {
  const onlyOutages =
    report.unreachableShards.length > 0 &&
    report.unreachableShards.length === report.refusals.length &&
    (!dryRun || report.differences.length === 0);
  if (onlyOutages) {
    return new DirectoryError("SHARD_UNAVAILABLE", report.refusals.join("; "), {
      details: { ...report },
    });
  }
  if (report.refusals.length > 0) {
    return new DirectoryError("FENCE_OUT_OF_STEP", report.refusals.join("; "), {
      details: { ...report },
    });
  }
  if (dryRun && report.differences.length > 0) {
    return new DirectoryError(
      "FENCE_OUT_OF_STEP",
      `${report.differences.length} difference(s) found; run shardkit doctor without --dry-run to repair`,
      { details: { ...report } },
    );
  }
  return undefined;
}
