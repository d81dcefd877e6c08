// npm run docs:cli: writes docs/cli-reference.md from the program's own --help.
// packages/cli/src/cli-reference.test.ts fails when the file is not current.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderCliReference } from "@shardkit/cli";

const file = join(import.meta.dirname, "../docs/cli-reference.md");
writeFileSync(file, renderCliReference());
console.log(`wrote ${file}`);
