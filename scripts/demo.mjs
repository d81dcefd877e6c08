// npm run demo: two shards scaled out to four while an application writes and reads through
// the router, then every acknowledged write checked on every shard, and a report written.
// Options: --rows <n> (default 200000), --shards <n> (default 2), --to <n> (default 4),
// --ops <per second> (default 400), --report <file.html> (default demo-report.html).
// Exits 1 when a check fails, 2 on a bad option; every server it starts is stopped.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { runDemo } from "@shardkit/demo";

const USAGE =
  "usage: npm run demo -- [--rows n] [--shards n] [--to n] [--ops n] [--report file.html]";

/**
 * A whole number option of at least `min`, or the default.
 * @param {string | undefined} text
 * @param {string} name
 * @param {number} fallback
 * @param {number} min
 */
function whole(text, name, fallback, min) {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min) {
    console.error(`demo: --${name} ${text} is not a whole number of at least ${min}; ${USAGE}`);
    process.exit(2);
  }
  return n;
}

/** @type {ReturnType<typeof parseArgs>["values"]} */
let values;
try {
  ({ values } = parseArgs({
    options: {
      rows: { type: "string" },
      shards: { type: "string" },
      to: { type: "string" },
      ops: { type: "string" },
      report: { type: "string" },
    },
  }));
} catch (error) {
  console.error(`demo: ${error instanceof Error ? error.message : error}; ${USAGE}`);
  process.exit(2);
}
const shards = whole(/** @type {string | undefined} */ (values.shards), "shards", 2, 1);
const require = createRequire(import.meta.url);
// The installed shardkit program, as `npx shardkit` runs it: bin/ beside the package's dist/.
const shardkitBin = join(dirname(require.resolve("@shardkit/cli")), "../bin/shardkit.js");
const started = performance.now();
try {
  const result = await runDemo({
    shardkitBin,
    rows: whole(/** @type {string | undefined} */ (values.rows), "rows", 200_000, 100),
    shards,
    targetShards: whole(/** @type {string | undefined} */ (values.to), "to", 4, shards + 1),
    opsPerSecond: whole(/** @type {string | undefined} */ (values.ops), "ops", 400, 1),
    reportFile: /** @type {string | undefined} */ (values.report) ?? "demo-report.html",
  });
  process.stdout.write(result.summary);
  console.log(`finished in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  process.exitCode = result.ok ? 0 : 1;
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
}
