// The CLI reference (docs/cli-reference.md) made from the program's own --help, so it cannot
// drift: scripts/cli-reference.mjs writes it and a test fails when the file is not current.
import type { Command } from "commander";
import type { CliIo } from "./cli-io.js";
import { buildProgram } from "./program.js";

/** Help is wrapped at this width whatever the terminal, so the reference is the same everywhere. */
const HELP_WIDTH = 100;

function allCommands(
  command: Command,
  path: string[] = [],
): { path: string[]; command: Command }[] {
  return [
    { path, command },
    ...command.commands.flatMap((sub) => allCommands(sub, [...path, sub.name()])),
  ];
}

/** The help of every command, as `shardkit <command> --help` prints it, in the order --help lists them. */
export function helpPages(): { readonly command: string; readonly help: string }[] {
  let out = "";
  const io: CliIo = {
    stdout: (t) => {
      out += t;
    },
    stderr: () => undefined,
    env: {},
    cwd: "/",
  };
  const program = buildProgram(io, () => async () => undefined);
  return allCommands(program).map(({ path, command }) => {
    command.configureOutput({
      writeOut: io.stdout,
      getOutHelpWidth: () => HELP_WIDTH,
      getOutHasColors: () => false,
    });
    out = "";
    command.outputHelp();
    return { command: ["shardkit", ...path].join(" "), help: out.trimEnd() };
  });
}

/** docs/cli-reference.md: a contents list and every command's help in a code block. */
export function renderCliReference(): string {
  const pages = helpPages();
  const anchor = (command: string) => command.replaceAll(" ", "-");
  const lines = [
    "# CLI reference",
    "",
    "<!-- Generated from the program's own --help by `npm run docs:cli`; do not edit by hand. -->",
    "",
    "Every command's `--help`, as the program prints it. How the commands fit together, their",
    "output and exit statuses: [cli.md](cli.md).",
    "",
    ...pages.map((p) => `- [\`${p.command}\`](#${anchor(p.command)})`),
    "",
  ];
  for (const page of pages) {
    lines.push(`## ${page.command}`, "", "```text", page.help, "```", "");
  }
  return lines.join("\n");
}
