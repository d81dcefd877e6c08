// Runs Biome (our one formatter and linter) from its platform package. The registry we
// install from carries Biome's Linux builds only, so they are optional dependencies of the
// root and the wrapper package @biomejs/biome is not used.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const pkg = `@biomejs/cli-${process.platform}-${process.arch}`;
let bin;
try {
  bin = require.resolve(`${pkg}/biome`);
} catch {
  console.error(
    `biome: ${pkg} is not installed; on this platform run \`npx @biomejs/biome@2.6.8 ${process.argv.slice(2).join(" ")}\` instead`,
  );
  process.exit(1);
}
const result = spawnSync(bin, process.argv.slice(2), { stdio: "inherit" });
process.exit(result.status ?? 1);
