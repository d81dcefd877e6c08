import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { helpPages, renderCliReference } from "./cli-reference.js";

describe("the CLI reference", () => {
  it("docs/cli-reference.md is the program's current --help (else run npm run docs:cli)", () => {
    const file = join(import.meta.dirname, "../../../docs/cli-reference.md");
    expect(readFileSync(file, "utf8")).toBe(renderCliReference());
  });

  it("holds every command and subcommand with its options and examples", () => {
    const pages = helpPages();
    const names = pages.map((p) => p.command);
    expect(names).toContain("shardkit");
    expect(names).toContain("shardkit move resume");
    expect(names).toContain("shardkit dev up");
    const move = pages.find((p) => p.command === "shardkit move")?.help ?? "";
    expect(move).toMatch(/Usage: shardkit move/);
    expect(move).toMatch(/--to <shard>/);
    expect(move).toMatch(/Examples:/);
  });
});
