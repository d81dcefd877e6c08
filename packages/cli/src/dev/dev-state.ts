// Where `shardkit dev` keeps what it started, so that later commands (dev status, dev down, in
// other processes) find the servers again: a JSON file beside the config file it writes.
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ShardkitError } from "@shardkit/directory";
import type { DetachedServer } from "@shardkit/fleet";
import { DEFAULT_CONFIG_FILE } from "../config.js";

/** What `dev up` records: the servers (pids, ports, folders), the shards and the directory. */
export interface DevState {
  readonly version: 1;
  /** When `dev up` started the fleet (ISO 8601). */
  readonly startedAt: string;
  /** The folder holding every server's folder; removed by `dev down`. */
  readonly dir: string;
  /** The config file `dev up` wrote (absolute). */
  readonly configFile: string;
  /** The directory database's URL. */
  readonly directory: string;
  readonly servers: readonly DetachedServer[];
  /** Each registered shard and its URL, in server order. */
  readonly shards: readonly { readonly name: string; readonly url: string }[];
}

/** The key that marks a config file as written by `dev up` (so `dev down` may remove it). */
export const DEV_CONFIG_MARK = "$dev";

/** Where the config file and the state file of a dev fleet are, from `--config` and the working directory. */
export interface DevPaths {
  readonly configFile: string;
  readonly stateFile: string;
}

/** The config file (`--config`, else ./shardkit.config.json) and the state file beside it, `.shardkit/dev.json`. */
export function devPaths(config: string | undefined, cwd: string): DevPaths {
  const configFile = resolve(cwd, config ?? DEFAULT_CONFIG_FILE);
  return { configFile, stateFile: join(dirname(configFile), ".shardkit", "dev.json") };
}

/** The recorded dev fleet, or undefined when none is recorded. */
export function readDevState(paths: DevPaths): DevState | undefined {
  if (!existsSync(paths.stateFile)) return undefined;
  try {
    const state = JSON.parse(readFileSync(paths.stateFile, "utf8")) as DevState;
    if (state.version !== 1 || !Array.isArray(state.servers)) throw new Error("unknown format");
    return state;
  } catch (error) {
    throw new ShardkitError(
      "DEV_FLEET_STALE",
      `the dev fleet's state file ${paths.stateFile} cannot be read (${(error as Error).message}); stop its servers by hand and remove the file`,
    );
  }
}

/** Records the dev fleet (creating `.shardkit/`). */
export function writeDevState(paths: DevPaths, state: DevState): void {
  mkdirSync(dirname(paths.stateFile), { recursive: true });
  writeFileSync(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/** Removes the state file, and `.shardkit/` when that leaves it empty. */
export function removeDevState(paths: DevPaths): void {
  rmSync(paths.stateFile, { force: true });
  try {
    rmdirSync(dirname(paths.stateFile)); // only an empty folder
  } catch {
    // other files of the user's live there
  }
}

/** Whether the config file exists and was not written by `dev up` (so it must not be replaced or removed). */
export function configIsForeign(configFile: string): boolean {
  if (!existsSync(configFile)) return false;
  try {
    const parsed = JSON.parse(readFileSync(configFile, "utf8")) as Record<string, unknown>;
    return !(DEV_CONFIG_MARK in parsed);
  } catch {
    return true;
  }
}

/** Writes the config file that points every later command at the dev fleet's directory. */
export function writeDevConfig(configFile: string, directory: string): void {
  const config = {
    [DEV_CONFIG_MARK]: "written by shardkit dev up; removed by shardkit dev down",
    directory,
  };
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
}

/** Removes the config file if `dev up` wrote it; a file the user has taken over is left alone. */
export function removeDevConfig(configFile: string): boolean {
  if (!existsSync(configFile) || configIsForeign(configFile)) return false;
  rmSync(configFile, { force: true });
  return true;
}
