import { ShardkitError } from "../errors/shardkit-error.js";

/** Where to reach a MySQL server (and optionally one database on it). */
export interface MysqlEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Empty when the URL carried none. */
  readonly password: string;
  /** Empty when the URL names no database. */
  readonly database: string;
}

/** Parses `mysql://user[:password]@host[:port][/database]`; throws BAD_URL naming the (redacted) input. */
export function parseMysqlUrl(text: string): MysqlEndpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUrl(text, "it is not a URL");
  }
  if (url.protocol !== "mysql:" && url.protocol !== "mariadb:") {
    throw badUrl(text, `the scheme must be mysql:// (got ${url.protocol}//)`);
  }
  if (!url.hostname) throw badUrl(text, "it names no host");
  const port = url.port === "" ? 3306 : Number(url.port);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (database.includes("/")) throw badUrl(text, "the path must be a single database name");
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    user: decodeURIComponent(url.username) || "root",
    password: decodeURIComponent(url.password),
    database,
  };
}

/** Formats an endpoint as a URL with the password shown as `***` (never the password itself). */
export function formatEndpoint(
  endpoint: Omit<MysqlEndpoint, "password"> & { password?: string },
): string {
  const auth = endpoint.password
    ? `${encodeURIComponent(endpoint.user)}:***`
    : encodeURIComponent(endpoint.user);
  const db = endpoint.database ? `/${encodeURIComponent(endpoint.database)}` : "";
  return `mysql://${auth}@${endpoint.host}:${endpoint.port}${db}`;
}

/** Returns `text` with any password in it replaced by `***`; safe to print even when `text` is not a URL. */
export function redactUrl(text: string): string {
  return text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, "$1***@");
}

/** Replaces every occurrence of the given secrets in `text` with `***`. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = redactUrl(text);
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join("***");
  }
  return out;
}

function badUrl(text: string, why: string): ShardkitError {
  return new ShardkitError(
    "BAD_URL",
    `invalid MySQL URL "${redactUrl(text)}": ${why}; write it as mysql://user[:password]@host[:port]/database`,
  );
}
