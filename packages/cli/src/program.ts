import { Command } from "commander";
import type { CliIo } from "./cli-io.js";
import type { ActionFactory } from "./command-definition.js";
import { COMMANDS } from "./commands/index.js";

/** The version `shardkit --version` prints. */
export const CLI_VERSION = "0.1.0";

const HELP_AFTER = `
Shard passwords are never stored in the directory. They come from, in order:
  SHARDKIT_SHARD_PASSWORD_<NAME>, the config's credentials.shards.<name>,
  SHARDKIT_SHARD_PASSWORD, the config's credentials.default.
Write a password in a URL percent-encoded (@ as %40, % as %25), or give it through the
environment or the config instead.

Key ranges are written in hex, Vitess style: -40 is [0, 0x40000000), 40-80, 80- runs
to the end, - is everything. Keys that look like options go after --:
  shardkit route -- -7

Exit status: 0 success, 1 internal error, 2 usage, 3 not found, 4 conflict,
5 unavailable (retry later), 6 query refused by MySQL. With --json a failure prints
{"error": {"code": ..., "message": ...}} on stdout; the message is also on stderr.

Examples:
  shardkit --directory mysql://root@127.0.0.1:3306/shardkit init
  shardkit shard add s1 mysql://root@127.0.0.1:3307/app
  shardkit layout even 4
  shardkit route 42 alice`;

/** Builds the `shardkit` program: global options, help, and every command wired through `action`. */
export function buildProgram(io: CliIo, action: ActionFactory): Command {
  const program = new Command("shardkit")
    .description(
      "Horizontal sharding for MySQL: a directory of key ranges and the shards that own them.\n" +
        "Every command works on the directory database given by --directory, SHARDKIT_DIRECTORY or the config file.",
    )
    .option(
      "--directory <url>",
      "directory database URL, e.g. mysql://root@127.0.0.1:3306/shardkit (default: $SHARDKIT_DIRECTORY, then the config file)",
    )
    .option(
      "--config <file>",
      "config file with the directory URL and shard credentials (default: ./shardkit.config.json when present)",
    )
    .option("--json", "print one JSON document on stdout and nothing else")
    .version(CLI_VERSION, "-V, --version")
    .showSuggestionAfterError(true)
    .addHelpText("after", HELP_AFTER);
  for (const define of COMMANDS) program.addCommand(define(action));
  configure(program, io);
  return program;
}

/** Every command throws instead of exiting, and writes through `io`; errors are printed by main. */
function configure(command: Command, io: CliIo): void {
  command.exitOverride().configureOutput({
    writeOut: io.stdout,
    writeErr: io.stderr,
    outputError: () => undefined,
  });
  for (const sub of command.commands) configure(sub, io);
}
