import {
  type CredentialResolver,
  credentialResolver,
  DirectoryMap,
  type DirectoryStore,
  formatEndpoint,
  formatKeyRange,
  KEY_FUNCTION_NAMES,
  type KeyFunctionName,
  MysqlDirectoryStore,
  parseKeyArgument,
  parseKeyRange,
  parseKsid,
  parseMysqlUrl,
  shardPasswordVariable,
} from "@shardkit/directory";
import { Command, CommanderError, Option } from "commander";
import { errorLine, exitCodeFor, UsageError } from "./cli-errors.js";
import { type CliIo, processIo } from "./cli-io.js";
import { loadConfig } from "./config.js";
import { Output } from "./output.js";

interface GlobalOptions {
  readonly directory?: string;
  readonly config?: string;
  readonly json?: boolean;
}

/** What every command gets: the directory store, the output and the resolved credentials. */
interface CommandContext {
  readonly store: DirectoryStore;
  readonly out: Output;
  readonly credentials: CredentialResolver;
  readonly io: CliIo;
}

/** ksids are printed as 8 lowercase hex digits everywhere (tables and JSON). */
function ksidHex(ksid: number): string {
  return ksid.toString(16).padStart(8, "0");
}

/**
 * Runs the `shardkit` command line with `argv` (without node and the script) and returns the
 * exit status: 0 on success, 2 on a usage error, 1 on any other failure.
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.help" ||
        error.code === "commander.version"
      ) {
        return 0;
      }
      const command = findCommandName(program, argv);
      io.stderr(
        `shardkit: ${errorLine(error.message.replace(/^error: /, ""))}; see shardkit ${command}--help\n`,
      );
      return 2;
    }
    io.stderr(`shardkit: ${errorLine(error)}\n`);
    return exitCodeFor(error);
  }
}

function findCommandName(program: Command, argv: readonly string[]): string {
  const names: string[] = [];
  let cmd: Command | undefined = program;
  for (const arg of argv) {
    const sub: Command | undefined = cmd?.commands.find(
      (c) => c.name() === arg || c.aliases().includes(arg),
    );
    if (!sub) continue;
    names.push(sub.name());
    cmd = sub;
  }
  return names.length ? `${names.join(" ")} ` : "";
}

function buildProgram(io: CliIo): Command {
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
    .version("0.1.0", "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      // Errors are printed once, as one line, by main().
      outputError: () => undefined,
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      "after",
      `
Shard passwords are never stored in the directory. They come from, in order:
  SHARDKIT_SHARD_PASSWORD_<NAME>, the config's credentials.shards.<name>,
  SHARDKIT_SHARD_PASSWORD, the config's credentials.default.

Key ranges are written in hex, Vitess style: -40 is [0, 0x40000000), 40-80, 80- runs
to the end, - is everything. Keys that look like options go after --:
  shardkit route -- -7

Examples:
  shardkit --directory mysql://root@127.0.0.1:3306/shardkit init
  shardkit shard add s1 mysql://root@127.0.0.1:3307/app
  shardkit layout even 4
  shardkit route 42 alice`,
    );

  const run =
    (fn: (ctx: CommandContext, ...args: never[]) => Promise<void>) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      const ctx = openContext(cmd.optsWithGlobals<GlobalOptions>(), io);
      try {
        await fn(ctx, ...(args.slice(0, -1) as never[]));
      } finally {
        await ctx.store.close();
      }
    };

  program
    .command("init")
    .description("create the directory database (when missing) and its schema; safe to run again")
    .action(
      run(async ({ store, out }) => {
        const result = await store.init();
        const where = (store as MysqlDirectoryStore).location;
        out.done(
          `initialised the directory at ${where} (schema version ${result.schemaVersion}${result.created ? ", database created" : ""})`,
          {
            directory: where,
            schemaVersion: result.schemaVersion,
            databaseCreated: result.created,
          },
        );
      }),
    );

  const shard = program.command("shard").description("register, list and remove shards");
  shard
    .command("add")
    .description("register a shard: a MySQL database that will own key ranges (created if missing)")
    .argument("<name>", "shard name: a letter, then letters, digits, _ or -")
    .argument(
      "<url>",
      "mysql://user[:password]@host:port/database; a password here is used now and never stored",
    )
    .action(
      run(async ({ store, out, credentials }, name: string, url: string) => {
        const endpoint = parseMysqlUrl(url);
        if (!endpoint.database) {
          throw new UsageError(
            `the shard URL ${formatEndpoint(endpoint)} names no database; add one, e.g. ${formatEndpoint({ ...endpoint, database: "app" })}`,
          );
        }
        const password = endpoint.password || credentials(name);
        const result = await store.addShard({ name, ...endpoint, password });
        if (endpoint.password && credentials(name) !== endpoint.password) {
          out.note(
            `the password in the URL was used to reach ${name} now and is not stored; set ${shardPasswordVariable(name)} or credentials.shards.${name} in the config for later commands`,
          );
        }
        out.done(
          `added shard ${name} (${formatEndpoint(result.shard)}); directory version ${result.version}`,
          {
            shard: shardJson(result.shard),
            version: result.version,
          },
        );
      }),
    );
  shard
    .command("list")
    .description("list registered shards and how many ranges each owns")
    .action(
      run(async ({ store, out }) => {
        const s = await store.snapshot();
        out.rows(
          s.shards.map((x) => ({
            ...shardJson(x),
            ranges: s.ranges.filter((r) => r.shard === x.name).length,
            pinnedKeys: s.pins.filter((p) => p.shard === x.name).length,
          })),
          ["name", "host", "port", "user", "database", "state", "ranges", "pinnedKeys"],
          "no shards registered; add one with shardkit shard add <name> <url>",
        );
      }),
    );
  shard
    .command("remove")
    .description(
      "unregister a shard that owns no ranges and no pinned keys (its data is left alone)",
    )
    .argument("<name>", "shard name")
    .action(
      run(async ({ store, out }, name: string) => {
        const result = await store.removeShard(name);
        out.done(`removed shard ${name}; directory version ${result.version}`, {
          shard: name,
          version: result.version,
        });
      }),
    );

  const table = program.command("table").description("declare and list sharded tables");
  table
    .command("add")
    .description("declare a sharded table and the column that holds its shard key")
    .argument("<table>", "table name")
    .requiredOption("--key <column>", "the shard-key column")
    .addOption(
      new Option("--key-function <name>", "how a key becomes a keyspace id")
        .choices([...KEY_FUNCTION_NAMES])
        .default("hash"),
    )
    .action(
      run(
        async (
          { store, out },
          name: string,
          opts: { key: string; keyFunction: KeyFunctionName },
        ) => {
          const result = await store.addTable({
            name,
            keyColumn: opts.key,
            keyFunction: opts.keyFunction,
          });
          out.done(
            `table ${name} is sharded by ${opts.key} (${opts.keyFunction}); directory version ${result.version}`,
            {
              table: { name, keyColumn: opts.key, keyFunction: opts.keyFunction },
              version: result.version,
            },
          );
        },
      ),
    );
  table
    .command("list")
    .description("list sharded tables")
    .action(
      run(async ({ store, out }) => {
        const s = await store.snapshot();
        out.rows(
          s.tables.map((t) => ({
            name: t.name,
            keyColumn: t.keyColumn,
            keyFunction: t.keyFunction,
          })),
          ["name", "keyColumn", "keyFunction"],
          "no sharded tables; declare one with shardkit table add <table> --key <column>",
        );
      }),
    );

  program
    .command("layout")
    .description("lay out the initial key ranges")
    .command("even")
    .description(
      "split the keyspace into <n> equal ranges, assigned round-robin to the shards (once only)",
    )
    .argument("<n>", "number of ranges (any whole number >= 1)")
    .option(
      "--shards <names>",
      "comma-separated shards to use, in this order (default: all serving shards by name)",
    )
    .action(
      run(async ({ store, out }, n: string, opts: { shards?: string }) => {
        if (!/^\d+$/.test(n))
          throw new UsageError(`invalid number of ranges "${n}": give a whole number >= 1`);
        const shards = opts.shards
          ?.split(",")
          .map((x) => x.trim())
          .filter(Boolean);
        const result = await store.layoutEven(Number(n), shards);
        out.done(`laid out ${n} ranges; directory version ${result.version}`, {
          ranges: Number(n),
          version: result.version,
        });
      }),
    );

  program
    .command("ranges")
    .description("list key ranges, their owners and states")
    .action(
      run(async ({ store, out }) => {
        const s = await store.snapshot();
        out.rows(
          s.ranges.map((r) => ({
            range: formatKeyRange(r.range),
            start: ksidHex(r.range.start),
            end: r.range.end === 2 ** 32 ? "100000000" : ksidHex(r.range.end),
            shard: r.shard,
            state: r.state,
          })),
          ["range", "start", "end", "shard", "state"],
          "no ranges yet; lay them out with shardkit layout even <n>",
        );
      }),
    );

  program
    .command("pins")
    .description("list pinned keys")
    .action(
      run(async ({ store, out }) => {
        const s = await store.snapshot();
        out.rows(
          s.pins.map((p) => ({ key: p.keyText, ksid: ksidHex(p.ksid), shard: p.shard })),
          ["key", "ksid", "shard"],
          "no pinned keys",
        );
      }),
    );

  program
    .command("split")
    .description("split a range in two on the same shard (metadata only, no data moves)")
    .argument("<range>", "the range to split, exactly as listed by shardkit ranges (e.g. 40-80)")
    .option(
      "--at <hex>",
      "where the right half starts, in range notation (40 is 0x40000000); default: the midpoint",
    )
    .action(
      run(async ({ store, out }, text: string, opts: { at?: string }) => {
        const range = parseKeyRange(text);
        const at = opts.at === undefined ? undefined : parseKsid(opts.at);
        const result = await store.splitRange(range, at);
        const [a, b] = result.ranges.map(formatKeyRange);
        out.done(
          `split ${formatKeyRange(range)} into ${a} and ${b}; directory version ${result.version}`,
          {
            ranges: [a, b],
            version: result.version,
          },
        );
      }),
    );

  program
    .command("merge")
    .description("merge two adjacent ranges owned by the same shard")
    .argument("<range>", "one range")
    .argument("<other>", "the range next to it")
    .action(
      run(async ({ store, out }, a: string, b: string) => {
        const result = await store.mergeRanges(parseKeyRange(a), parseKeyRange(b));
        out.done(
          `merged into ${formatKeyRange(result.range)}; directory version ${result.version}`,
          {
            range: formatKeyRange(result.range),
            version: result.version,
          },
        );
      }),
    );

  program
    .command("pin")
    .description("place one key on a shard, whatever range it falls in (for keys without rows yet)")
    .argument("<key>", "the key (numbers are integers, anything else a string)")
    .argument("<shard>", "shard name")
    .action(
      run(async ({ store, out }, key: string, shardName: string) => {
        const result = await store.pinKey(parseKeyArgument(key), shardName);
        out.done(`pinned ${key} to ${shardName}; directory version ${result.version}`, {
          key,
          shard: shardName,
          version: result.version,
        });
      }),
    );
  program
    .command("unpin")
    .description("remove a pin; the key goes back to its range's owner")
    .argument("<key>", "the key")
    .action(
      run(async ({ store, out }, key: string) => {
        const result = await store.unpinKey(parseKeyArgument(key));
        out.done(`unpinned ${key}; directory version ${result.version}`, {
          key,
          version: result.version,
        });
      }),
    );

  program
    .command("route")
    .description("show which shard owns each key (keys that look like options go after --)")
    .argument("<key...>", "one or more keys")
    .option("--table <table>", "use this sharded table's key function (default: hash)")
    .action(
      run(async ({ store, out }, keys: string[], opts: { table?: string }) => {
        const map = new DirectoryMap(await store.snapshot());
        const rows = keys.map((key) => {
          const loc = map.lookup(parseKeyArgument(key), opts.table);
          return {
            key,
            ksid: ksidHex(loc.ksid),
            range: formatKeyRange(map.ownerOf(loc.ksid).range),
            shard: loc.shard,
            pinned: loc.pinned,
          };
        });
        out.rows(rows, ["key", "ksid", "range", "shard", "pinned"], "");
      }),
    );

  program
    .command("doctor")
    .description("compare every shard's ownership table with the directory and repair differences")
    .option("--dry-run", "report differences without repairing them")
    .action(
      run(async ({ store, out }, opts: { dryRun?: boolean }) => {
        const report = await store.doctor({ dryRun: opts.dryRun === true });
        if (out.json) {
          out.done("", { ...report });
        } else {
          const lines = [
            `checked ${report.checkedShards.length} shards at directory version ${report.version}`,
          ];
          for (const d of report.differences) {
            lines.push(
              `  ${d.shard}: ${d.what} is ${d.kind}${d.expected ? ` (directory: ${d.expected})` : ""}${d.actual ? ` (shard: ${d.actual})` : ""}`,
            );
          }
          if (report.repairedShards.length)
            lines.push(`repaired: ${report.repairedShards.join(", ")}`);
          else if (report.differences.length === 0 && report.refusals.length === 0)
            lines.push("every shard is in step with the directory");
          for (const r of report.refusals) lines.push(`not repaired: ${r}`);
          out.done(lines.join("\n"), {});
        }
        if (report.refusals.length > 0 || (opts.dryRun && report.differences.length > 0)) {
          throw new DoctorFoundProblems(
            report.refusals.length > 0
              ? report.refusals.join("; ")
              : `${report.differences.length} difference(s) found; run shardkit doctor without --dry-run to repair`,
          );
        }
      }),
    );

  return program;
}

class DoctorFoundProblems extends Error {}

function openContext(opts: GlobalOptions, io: CliIo): CommandContext {
  const config = loadConfig(opts.config, io.cwd);
  const directory = opts.directory ?? io.env.SHARDKIT_DIRECTORY ?? config.directory;
  if (!directory) {
    throw new UsageError(
      'no directory given: pass --directory mysql://user@host:port/database, set SHARDKIT_DIRECTORY, or put "directory" in shardkit.config.json',
    );
  }
  const credentials = credentialResolver(config.credentials, io.env);
  const store = new MysqlDirectoryStore({ directory, credentials });
  return { store, out: new Output(io, opts.json === true), credentials, io };
}

function shardJson(s: {
  name: string;
  host: string;
  port: number;
  user: string;
  database: string;
  state: string;
}) {
  return {
    name: s.name,
    host: s.host,
    port: s.port,
    user: s.user,
    database: s.database,
    state: s.state,
  };
}
