import { Command } from "commander";
import { UsageError } from "../cli-errors.js";
import type { CommandDefinition } from "../command-definition.js";
import { devDown, devStatus, devUp } from "../dev/dev-fleet.js";
import type { DevState } from "../dev/dev-state.js";
import { devPaths } from "../dev/dev-state.js";
import { formatTable } from "../output.js";

const EXAMPLES = `
A dev fleet is a few local MySQL/MariaDB servers (mariadbd or mysqld found on this machine)
that keep running after the command exits. dev up creates a directory on the first server,
registers each server's "app" database as a shard (s1, s2, ...) and writes shardkit.config.json
in the current folder, which every later shardkit command in this folder reads. Its state
(pids, ports, data folders) is kept in .shardkit/dev.json. Run the dev commands in the folder
whose shardkit.config.json they manage.

Examples:
  shardkit dev up --shards 4
  shardkit table add users --key user_id --no-check && shardkit layout even 8
  shardkit dev status
  shardkit dev down                 # stops the servers and removes all their data`;

function shardCount(text: string | undefined): number {
  if (text === undefined) return 2;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 16) {
    throw new UsageError(
      "BAD_ARGUMENT",
      `--shards ${text} is not a whole number from 1 to 16; e.g. shardkit dev up --shards 4`,
    );
  }
  return n;
}

function fleetFields(state: DevState): Record<string, unknown> {
  return {
    directory: state.directory,
    configFile: state.configFile,
    dir: state.dir,
    startedAt: state.startedAt,
    shards: state.servers.map((s, i) => ({
      name: s.name,
      url: state.shards[i]?.url,
      port: s.port,
      pid: s.pid,
    })),
  };
}

function shardLines(state: DevState): string {
  return formatTable(
    ["SHARD", "PORT", "PID", "URL"],
    state.servers.map((s, i) => [
      s.name,
      String(s.port),
      String(s.pid),
      state.shards[i]?.url ?? "",
    ]),
  );
}

/** `shardkit dev up|status|down`: a local fleet of servers for development that outlives the command. */
export const devCommand: CommandDefinition = (action) => {
  const dev = new Command("dev")
    .description("start, inspect and stop a local fleet of MySQL servers for development")
    .addHelpText("after", EXAMPLES);
  dev
    .command("up")
    .description(
      "start local servers, create a directory, register them as shards and write the config file",
    )
    .option("--shards <n>", "how many servers, each one shard (default: 2)")
    .addHelpText(
      "after",
      "\nRun again, it reports the fleet running and starts nothing.\n\nExamples:\n  shardkit dev up\n  shardkit dev up --shards 4 --json",
    )
    .action(
      action(async ({ credentials, io, note }, opts: { shards?: string }) => {
        const count = shardCount(opts.shards);
        const paths = devPaths(undefined, io.cwd);
        const { alreadyRunning, state } = await devUp(paths, {
          shards: count,
          credentials,
          onProgress: note,
        });
        if (io.env.SHARDKIT_DIRECTORY) {
          note(
            "SHARDKIT_DIRECTORY is set and takes precedence over the config file: unset it to use the dev fleet",
          );
        }
        const head = alreadyRunning
          ? `a dev fleet is already running (started ${state.startedAt}); nothing was started`
          : `started ${state.servers.length} servers and registered them as shards; wrote ${state.configFile}`;
        return {
          kind: "report",
          text: `${head}\ndirectory: ${state.directory}\n${shardLines(state)}next: shardkit table add <table> --key <column>, shardkit layout even <n>; stop with shardkit dev down`,
          data: { alreadyRunning, ...fleetFields(state) },
        };
      }),
    );
  dev
    .command("status")
    .description("show the dev fleet's servers and whether each one runs")
    .addHelpText("after", "\nExamples:\n  shardkit dev status\n  shardkit dev status --json")
    .action(
      action(async ({ io }) => {
        const { servers } = devStatus(devPaths(undefined, io.cwd));
        return {
          kind: "table",
          rows: servers.map((s) => ({ ...s, state: s.running ? "running" : "stopped" })),
          columns: ["shard", "port", "pid", "state", "url"],
          empty: "",
        };
      }),
    );
  dev
    .command("down")
    .description(
      "stop the dev fleet's servers and remove their data, the state and the config file",
    )
    .action(
      action(async ({ io }) => {
        const paths = devPaths(undefined, io.cwd);
        const result = await devDown(paths);
        if (!result) {
          return {
            kind: "report",
            text: `no dev fleet is recorded in ${paths.stateFile}; nothing to stop`,
            data: { stopped: false },
          };
        }
        return {
          kind: "report",
          text: `stopped ${result.state.servers.length} servers and removed their data${result.configRemoved ? ` and ${result.state.configFile}` : ""}`,
          data: {
            stopped: true,
            servers: result.state.servers.length,
            configRemoved: result.configRemoved,
          },
        };
      }),
    );
  return dev;
};
