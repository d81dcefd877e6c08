import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { CredentialsConfig } from "@shardkit/directory";
import { UsageError } from "./cli-errors.js";

/** The contents of `shardkit.config.json`. */
export interface ShardkitConfig {
  /** The directory database URL (overridden by `--directory` and SHARDKIT_DIRECTORY). */
  readonly directory?: string;
  /** Shard passwords: per shard name, or a default. */
  readonly credentials?: CredentialsConfig;
}

/** The config file read when `--config` is not given and the file exists. */
export const DEFAULT_CONFIG_FILE = "shardkit.config.json";

/** Reads the config file; a missing default file is an empty config, a bad one a usage error. */
export function loadConfig(path: string | undefined, cwd: string): ShardkitConfig {
  const file = resolve(cwd, path ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(file)) {
    if (path === undefined) return {};
    throw new UsageError(`config file ${file} does not exist; check --config`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(
      `config file ${file} is not valid JSON (${(error as Error).message.split("\n")[0]}); fix it or pass another with --config`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(
      `config file ${file} must hold a JSON object like {"directory": "mysql://...", "credentials": {...}}`,
    );
  }
  const config = parsed as Record<string, unknown>;
  if (config.directory !== undefined && typeof config.directory !== "string") {
    throw new UsageError(`"directory" in ${file} must be a mysql:// URL string`);
  }
  const creds = config.credentials as Record<string, unknown> | undefined;
  if (creds !== undefined) {
    const shardsOk =
      creds.shards === undefined ||
      (typeof creds.shards === "object" &&
        creds.shards !== null &&
        Object.values(creds.shards).every((v) => typeof v === "string"));
    if (
      typeof creds !== "object" ||
      creds === null ||
      !shardsOk ||
      (creds.default !== undefined && typeof creds.default !== "string")
    ) {
      throw new UsageError(
        `"credentials" in ${file} must look like {"default": "...", "shards": {"<name>": "..."}}`,
      );
    }
  }
  return config as ShardkitConfig;
}
