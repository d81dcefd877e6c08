import { Command, type ParseOptionsResult } from "commander";

// A key range that starts with a dash: "-40", "-c0", "-40-80" (malformed, for the range parser to name).
const DASHED_RANGE = /^-[0-9A-Fa-f][0-9A-Fa-f-]*$/;

/**
 * A command whose operands are key ranges: `-40` or `-c0` is a range, not an unknown option, so
 * `shardkit split -c0 --at 40` works. An option's value is left to the option.
 */
export class RangeOperandsCommand extends Command {
  override parseOptions(argv: string[]): ParseOptionsResult {
    const ranges = new Map<string, string>();
    const takesValue = (flag: string | undefined) =>
      flag !== undefined &&
      this.options.some((o) => (o.long === flag || o.short === flag) && (o.required || o.optional));
    const masked = argv.map((arg, i) => {
      if (!DASHED_RANGE.test(arg) || takesValue(argv[i - 1])) return arg;
      // Commander classifies anything starting with "-" as an option; a stand-in does not.
      const standIn = `\u0000range-operand-${i}`;
      ranges.set(standIn, arg);
      return standIn;
    });
    const parsed = super.parseOptions(masked);
    const restore = (arg: string) => ranges.get(arg) ?? arg;
    return { operands: parsed.operands.map(restore), unknown: parsed.unknown.map(restore) };
  }
}
