import type { StatsReport } from "@shardkit/migrate";
import { formatTable } from "../output.js";
import { count } from "../progress/progress-state.js";
import { byteSize } from "./plan-text.js";

/** Each range's error bound (rows and bytes) for a sampled report. */
export interface RangeBound {
  readonly range: string;
  readonly rows: number;
  readonly bytes: number;
}

/** What `shardkit stats` prints: per shard, per range (with bounds when sampled), per table, top keys. */
export function statsText(
  report: StatsReport,
  bounds: readonly RangeBound[] | null,
  snapshotId: number | null,
): string {
  const tables = Object.keys(
    Object.assign({}, ...report.ranges.map((r) => r.tables)) as object,
  ).sort();
  const lines: string[] = [];
  lines.push(
    report.sample === null
      ? `exact: every row read at directory version ${report.directoryVersion}`
      : `estimated from a ${report.sample} sample at directory version ${report.directoryVersion}: each figure ± its bound (3 standard deviations, 99.7%)`,
  );
  lines.push(
    formatTable(
      ["SHARD", "RANGES", "ROWS", "BYTES", "PINNED ROWS"],
      report.shards.map((s) => [
        s.shard,
        String(s.ranges),
        count(s.rows),
        byteSize(s.bytes),
        count(s.pinned.rows),
      ]),
    ).trimEnd(),
  );
  lines.push("");
  lines.push(
    formatTable(
      ["RANGE", "SHARD", "ROWS", "BYTES", ...tables.map((t) => `${t.toUpperCase()} ROWS`)],
      report.ranges.map((r, i) => {
        const b = bounds?.[i];
        return [
          r.range,
          r.shard,
          b ? `${count(r.rows)} ± ${count(b.rows)}` : count(r.rows),
          b ? `${byteSize(r.bytes)} ± ${byteSize(b.bytes)}` : byteSize(r.bytes),
          ...tables.map((t) => count(r.tables[t]?.rows ?? 0)),
        ];
      }),
    ).trimEnd(),
  );
  lines.push("");
  lines.push(
    formatTable(
      ["TABLE", "ROWS", "BYTES"],
      report.tables.map((t) => [t.table, count(t.rows), byteSize(t.bytes)]),
    ).trimEnd(),
  );
  if (report.topKeys.length > 0) {
    lines.push(
      "",
      "keys with the most rows (pin or move them with shardkit move --key <key> --table <table>):",
    );
    lines.push(
      formatTable(
        ["TABLE", "KEY", "SHARD", "ROWS"],
        report.topKeys.map((k) => [k.table, k.key, k.shard, count(k.rows)]),
      ).trimEnd(),
    );
  }
  if (report.unroutableRows > 0)
    lines.push(
      `${count(report.unroutableRows)} rows have a key no key function maps (not counted above)`,
    );
  if (report.strayRows > 0)
    lines.push(
      `${count(report.strayRows)} rows sit on a shard that does not own their key (a move's copies; not counted)`,
    );
  lines.push(snapshotId === null ? "not stored (--no-store)" : `stored as snapshot ${snapshotId}`);
  return lines.join("\n");
}
