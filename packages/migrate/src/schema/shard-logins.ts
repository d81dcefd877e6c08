import {
  type CredentialResolver,
  credentialResolver,
  shardPasswordVariable,
} from "@shardkit/directory";
import type { ShardLoginResolver } from "../connection/shard-connection.js";

/** Each shard's registered user, with its password from `credentials` (default: the environment). */
export function registeredLogins(credentials?: CredentialResolver): ShardLoginResolver {
  const password = credentials ?? credentialResolver();
  return (shard) => ({
    user: shard.user,
    password: password(shard.name),
    passwordFrom: `${shardPasswordVariable(shard.name)}, the config's credentials or SHARDKIT_SHARD_PASSWORD`,
  });
}
