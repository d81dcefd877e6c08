/** Passwords for shards, from the config file; never stored in the directory. */
export interface CredentialsConfig {
  /** Password per shard name. */
  readonly shards?: Readonly<Record<string, string>>;
  /** Password for shards not listed in `shards`. */
  readonly default?: string;
}

/** Resolves the password used to log in to a shard. */
export type CredentialResolver = (shardName: string) => string;

/** The environment variable that holds one shard's password: `SHARDKIT_SHARD_PASSWORD_<NAME>`. */
export function shardPasswordVariable(shardName: string): string {
  return `SHARDKIT_SHARD_PASSWORD_${shardName.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * Builds a resolver: `SHARDKIT_SHARD_PASSWORD_<NAME>`, then the config's per-shard entry,
 * then `SHARDKIT_SHARD_PASSWORD`, then the config's default, else the empty password.
 */
export function credentialResolver(
  config: CredentialsConfig = {},
  env: NodeJS.ProcessEnv = process.env,
): CredentialResolver {
  return (shardName) =>
    env[shardPasswordVariable(shardName)] ??
    config.shards?.[shardName] ??
    env.SHARDKIT_SHARD_PASSWORD ??
    config.default ??
    "";
}
