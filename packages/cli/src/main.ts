import { type Command, CommanderError } from "commander";
import { errorLine, exitStatusFor, UsageError } from "./cli-errors.js";
import { type CliIo, processIo } from "./cli-io.js";
import { type CommandContext, type GlobalOptions, openContext } from "./command-context.js";
import type { ActionFactory } from "./command-definition.js";
import { type CommandResult, renderError, renderResult } from "./output.js";
import { buildProgram } from "./program.js";

const QUIET_EXITS = new Set(["commander.helpDisplayed", "commander.help", "commander.version"]);

/**
 * Runs the `shardkit` command line with `argv` (without node and the script) and returns the
 * exit status: 0 on success, else the error category's status (2 usage, 3 not found,
 * 4 conflict, 5 unavailable, 6 query, 1 internal).
 *
 * @example process.exitCode = await main(["--json", "ranges"]);
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let result: CommandResult | undefined;
  let streamed = false;
  const action: ActionFactory =
    (handler) =>
    async (...args) => {
      const command = args.at(-1) as Command;
      const ctx = openContext(command.optsWithGlobals<GlobalOptions>(), io);
      try {
        // Commander passes the operands, the options object, then the command itself.
        const run = handler as (c: CommandContext, ...rest: unknown[]) => Promise<CommandResult>;
        result = await run(ctx, ...args.slice(0, -1));
      } finally {
        streamed = ctx.streamed;
        await ctx.close();
      }
    };
  const program = buildProgram(io, action);
  const json = wantsJson(argv);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (QUIET_EXITS.has(error.code)) return 0;
      return fail(io, json, usageOf(error, program, argv));
    }
    return fail(io, json, error, streamed);
  }
  if (result === undefined) return 0;
  if (result.failure && json) return fail(io, json, result.failure, streamed);
  // A command that streamed JSON lines ends with its result as one more line.
  const oneLine = streamed || (result.kind === "report" && result.line === true);
  io.stdout(renderResult(result, json || oneLine, oneLine));
  return result.failure ? fail(io, false, result.failure) : 0;
}

function fail(io: CliIo, json: boolean, error: unknown, oneLine = false): number {
  const printed = renderError(error, json, oneLine);
  if (printed.stdout) io.stdout(printed.stdout);
  io.stderr(printed.stderr);
  return exitStatusFor(error);
}

/** `--json` anywhere before `--` (commander may not have parsed it when the line is wrong). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--json");
}

/** Commander's complaint as a usage error that names the help to read. */
function usageOf(error: CommanderError, program: Command, argv: readonly string[]): UsageError {
  const names: string[] = [];
  let command: Command | undefined = program;
  for (const arg of argv) {
    const sub: Command | undefined = command?.commands.find(
      (c) => c.name() === arg || c.aliases().includes(arg),
    );
    if (!sub) continue;
    names.push(sub.name());
    command = sub;
  }
  const help = names.length ? `shardkit ${names.join(" ")} --help` : "shardkit --help";
  return new UsageError(
    "USAGE",
    `${errorLine(error.message.replace(/^error: /, ""))}; see ${help}`,
    {
      cause: error,
    },
  );
}
