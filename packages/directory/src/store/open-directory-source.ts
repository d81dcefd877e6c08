import type { CredentialResolver } from "../credentials.js";
import { ShardkitError } from "../errors/shardkit-error.js";
import { redactUrl } from "../mysql/mysql-url.js";
import type { DirectorySource } from "./directory-source.js";
import { HttpDirectorySource } from "./http/http-directory-source.js";
import { MysqlDirectoryStore } from "./mysql/mysql-directory-store.js";

/** Options of {@link openDirectorySource}. */
export interface OpenDirectorySourceOptions {
  /** Shard passwords, for sources that reach shards. Default: from the environment. */
  readonly credentials?: CredentialResolver;
  /** Milliseconds to wait when connecting. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** The directory service's bearer token, for `http(s)://` URLs. Default: SHARDKIT_SERVICE_TOKEN. */
  readonly token?: string;
}

/**
 * Opens the directory named by `url` for reading: `mysql://` or `mariadb://` is the directory
 * database itself; `http://` or `https://` is the directory service (`shardkit directory
 * serve`), read with `options.token`. Connects lazily, on the first call.
 *
 * @example
 * const source = await openDirectorySource("mysql://root@127.0.0.1:3306/shardkit");
 */
export async function openDirectorySource(
  url: string,
  options: OpenDirectorySourceOptions = {},
): Promise<DirectorySource> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "mysql" || scheme === "mariadb") {
    const { token: _token, ...mysqlOptions } = options;
    return new MysqlDirectoryStore({ directory: url, ...mysqlOptions });
  }
  if (scheme === "http" || scheme === "https") {
    return new HttpDirectorySource({
      url,
      ...(options.token === undefined ? {} : { token: options.token }),
      ...(options.connectTimeoutMs === undefined ? {} : { timeoutMs: options.connectTimeoutMs }),
    });
  }
  throw new ShardkitError(
    "BAD_URL",
    `cannot read a directory from "${redactUrl(url)}": give its database URL, e.g. mysql://root@127.0.0.1:3306/shardkit, or the directory service's, e.g. http://127.0.0.1:7420`,
    { details: { scheme: scheme ?? "" } },
  );
}
