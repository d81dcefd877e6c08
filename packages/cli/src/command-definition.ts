import type { Command } from "commander";
import type { CommandContext } from "./command-context.js";
import type { CommandResult } from "./output.js";

/** A command's work: validates its arguments, calls the library, returns what to print. */
export type CommandHandler<A extends unknown[]> = (
  ctx: CommandContext,
  ...args: A
) => Promise<CommandResult>;

/**
 * Turns a handler into a commander action: the handler gets the context and commander's
 * arguments (operands, then the options object); its result goes to the output layer.
 */
export type ActionFactory = <A extends unknown[]>(
  handler: CommandHandler<A>,
) => (...args: unknown[]) => Promise<void>;

/** One command or command group of `shardkit`: builds its commander definition. */
export type CommandDefinition = (action: ActionFactory) => Command;
