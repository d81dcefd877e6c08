import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { CredentialsConfig } from "@shardkit/directory";
import { UsageError } from "./cli-errors.js";

/** The contents of `shardkit.config.json`. */
export interface ShardkitConfig {
  /** The directory database URL (overridden by `--directory` and SHARDKIT_DIRECTORY). */
  readonly directory?: string;
  /** Shard passwords: per shard name, or a default. */
  readonly credentials?: CredentialsConfig;
  /** The directory service (`shardkit directory serve`); SHARDKIT_SERVICE_TOKEN overrides the token. */
  readonly service?: { readonly token?: string };
}

/** The config file read when `--config` is not given and the file exists. */
export const DEFAULT_CONFIG_FILE = "shardkit.config.json";

const CONFIG_KEYS = ["directory", "credentials", "service"];
const CREDENTIAL_KEYS = ["default", "shards"];
const CREDENTIALS_FORM = '{"default": "...", "shards": {"<name>": "..."}}';

/**
 * Reads the config file (`path`, else ./shardkit.config.json when it exists); a missing default
 * file is an empty config. Every problem is a one-line BAD_CONFIG usage error saying what to fix.
 */
export function loadConfig(path: string | undefined, cwd: string): ShardkitConfig {
  const file = resolve(cwd, path ?? DEFAULT_CONFIG_FILE);
  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat === undefined) {
    if (path === undefined) return {};
    throw bad(`config file ${file} does not exist; check --config`);
  }
  if (!stat.isFile()) throw bad(`config file ${file} is not a file; check --config`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw bad(
      `cannot read config file ${file} (${(error as NodeJS.ErrnoException).code ?? "error"}); check its permissions or pass another with --config`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw bad(
      `config file ${file} is not valid JSON (${(error as Error).message.split("\n")[0]}); fix it or pass another with --config`,
    );
  }
  if (!isObject(parsed)) {
    throw bad(
      `config file ${file} must hold a JSON object like {"directory": "mysql://...", "credentials": ${CREDENTIALS_FORM}}`,
    );
  }
  for (const key of Object.keys(parsed)) {
    // "$schema" and other "$" keys are for editors.
    if (!CONFIG_KEYS.includes(key) && !key.startsWith("$")) {
      throw bad(`unknown key "${key}" in ${file}; the keys are ${CONFIG_KEYS.join(", ")}`);
    }
  }
  if (parsed.directory !== undefined && typeof parsed.directory !== "string") {
    throw bad(`"directory" in ${file} must be a mysql:// URL string`);
  }
  if (parsed.credentials !== undefined) checkCredentials(parsed.credentials, file);
  if (parsed.service !== undefined) checkService(parsed.service, file);
  return parsed as ShardkitConfig;
}

function checkCredentials(creds: unknown, file: string): void {
  const wrong = () => bad(`"credentials" in ${file} must look like ${CREDENTIALS_FORM}`);
  if (!isObject(creds)) throw wrong();
  const unknown = Object.keys(creds).find((k) => !CREDENTIAL_KEYS.includes(k));
  if (unknown !== undefined) {
    throw bad(
      `unknown key "credentials.${unknown}" in ${file}; credentials look like ${CREDENTIALS_FORM}`,
    );
  }
  if (creds.default !== undefined && typeof creds.default !== "string") throw wrong();
  if (creds.shards !== undefined) {
    const shards = creds.shards;
    if (!isObject(shards)) throw wrong();
    const name = Object.keys(shards).find((k) => typeof shards[k] !== "string");
    if (name !== undefined) {
      throw bad(`"credentials.shards.${name}" in ${file} must be a password string`);
    }
  }
}

function checkService(service: unknown, file: string): void {
  const form = '{"token": "..."}';
  if (!isObject(service)) throw bad(`"service" in ${file} must look like ${form}`);
  const unknown = Object.keys(service).find((k) => k !== "token");
  if (unknown !== undefined) {
    throw bad(`unknown key "service.${unknown}" in ${file}; service looks like ${form}`);
  }
  if (service.token !== undefined && (typeof service.token !== "string" || service.token === "")) {
    throw bad(`"service.token" in ${file} must be a non-empty token string`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function bad(message: string): UsageError {
  return new UsageError("BAD_CONFIG", message);
}
