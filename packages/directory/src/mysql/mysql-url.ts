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

/** The form every URL error message shows. */
const URL_FORM =
  "write it as mysql://user[:password]@host[:port]/database, with special characters in the password percent-encoded (%40 for @)";

/**
 * Parses `mysql://user[:password]@host[:port][/database]`; throws BAD_URL naming the input with
 * its password masked. The user runs to the first `:`, the password from there to the LAST `@`,
 * so a raw `@ : / # ?` in a password still parses; a `%` must start a valid percent-escape.
 */
export function parseMysqlUrl(text: string): MysqlEndpoint {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (!scheme) throw badUrl(text, "it is not a URL");
  const protocol = (scheme[1] ?? "").toLowerCase();
  if (protocol !== "mysql" && protocol !== "mariadb") {
    throw badUrl(text, `the scheme must be mysql:// (got ${protocol}://)`);
  }
  const rest = text.slice(scheme[0].length);
  const at = rest.lastIndexOf("@");
  const userinfo = at < 0 ? "" : rest.slice(0, at);
  const colon = userinfo.indexOf(":");
  const rawUser = colon < 0 ? userinfo : userinfo.slice(0, colon);
  const rawPassword = colon < 0 ? "" : userinfo.slice(colon + 1);

  // Everything after the userinfo holds no secret: host, port, path, and a query we ignore.
  const hostPart = (at < 0 ? rest : rest.slice(at + 1)).replace(/[?#].*$/s, "");
  const slash = hostPart.indexOf("/");
  const authority = slash < 0 ? hostPart : hostPart.slice(0, slash);
  const path = slash < 0 ? "" : hostPart.slice(slash + 1);
  const server = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*))(?::(.*))?$/s.exec(authority);
  if (!server) throw badUrl(text, "the part after @ is not a host[:port]");
  const host = server[1] ?? server[2] ?? "";
  if (!host) throw badUrl(text, "it names no host");
  if (!server[1] && !/^[A-Za-z0-9._-]+$/.test(host)) {
    throw badUrl(text, "the host is not a host name or address");
  }
  const portText = server[3] ?? "";
  const port = portText === "" ? 3306 : Number(portText);
  if (!/^\d{0,5}$/.test(portText) || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw badUrl(text, "the port must be a number from 1 to 65535");
  }
  const user = decodePart(text, rawUser, "user name");
  const password = decodePart(text, rawPassword, "password");
  const database = decodePart(text, path, "database name");
  if (database.includes("/")) throw badUrl(text, "the path must be a single database name");
  return { host, port, user: user || "root", password, database };
}

/** Formats an endpoint as a URL with the password shown as `***` (never the password itself). */
export function formatEndpoint(
  endpoint: Omit<MysqlEndpoint, "password"> & { password?: string },
): string {
  const auth = endpoint.password
    ? `${encodeURIComponent(endpoint.user)}:***`
    : encodeURIComponent(endpoint.user);
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  const db = endpoint.database ? `/${encodeURIComponent(endpoint.database)}` : "";
  return `mysql://${auth}@${host}:${endpoint.port}${db}`;
}

// A URL starts where a scheme follows the start of the text, a space, a quote or a bracket; a
// `scheme://` inside a password (after `:` or a letter) does not start a new one.
const URL_START = /(^|[\s"'(<=,[{])[A-Za-z][A-Za-z0-9+.-]*:\/\//g;

/**
 * Returns `text` with the password of every URL in it replaced by `***`; safe to print even when
 * `text` is not a URL. A password runs from the first `:` after `//user` to the last `@` that is
 * followed by a host, so one holding `@ : / % # ?` or a space is masked whole.
 */
export function redactUrl(text: string): string {
  const starts = [...text.matchAll(URL_START)].map((m) => (m.index ?? 0) + (m[1] ?? "").length);
  if (starts.length === 0) return text;
  let out = text.slice(0, starts[0]);
  for (let i = 0; i < starts.length; i++) {
    const segment = text.slice(starts[i], starts[i + 1] ?? text.length);
    out += redactSegment(segment);
  }
  return out;
}

/** Replaces every occurrence of the given secrets in `text` with `***`. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = redactUrl(text);
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join("***");
  }
  return out;
}

/** Masks the password of the one URL that starts `segment` (which runs to the next URL or the end). */
function redactSegment(segment: string): string {
  const head = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/@\s]*:/.exec(segment);
  if (!head) return segment;
  const from = head[0].length;
  let end = -1;
  for (let at = segment.indexOf("@", from); at >= 0; at = segment.indexOf("@", at + 1)) {
    if (line(segment, from, at) && hostFollows(segment, at + 1)) end = at;
  }
  return end < 0 ? segment : `${segment.slice(0, from)}***${segment.slice(end)}`;
}

/** True when no line break lies between `from` and `to`: a URL never spans lines. */
function line(text: string, from: number, to: number): boolean {
  return !/[\r\n]/.test(text.slice(from, to));
}

/**
 * True when a host starts at `i`: a name or `[address]` not followed by `[` (which would make it
 * prose like `@host[:port]`), or an empty host before the end, `:`, `/`, `"`, `?` or `#`.
 */
function hostFollows(text: string, i: number): boolean {
  const host = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)/.exec(text.slice(i));
  if (host) return text[i + host[0].length] !== "[";
  const next = text[i];
  return next === undefined || /[:/"?#]/.test(next);
}

function decodePart(text: string, raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw badUrl(
      text,
      `its ${what} holds a % that does not start a percent-escape (write % as %25)`,
    );
  }
}

/**
 * Masks the password of one URL given whole: from the first `:` after `//user` to the last `@`.
 * Without an `@`, whatever follows a `:` up to the path is masked unless it is a port number.
 */
function redactOne(text: string): string {
  const start = text.indexOf("://") < 0 ? 0 : text.indexOf("://") + 3;
  const at = text.lastIndexOf("@");
  const colon = text.indexOf(":", start);
  if (colon < 0) return text;
  if (at > colon) return `${text.slice(0, colon + 1)}***${text.slice(at)}`;
  if (at >= 0) return text;
  const slash = text.indexOf("/", colon);
  const end = slash < 0 ? text.length : slash;
  const port = text.slice(colon + 1, end);
  return /^\d*$/.test(port) ? text : `${text.slice(0, colon + 1)}***${text.slice(end)}`;
}

function badUrl(text: string, why: string): ShardkitError {
  const shown = redactOne(text).replace(/\s+/g, " ");
  return new ShardkitError("BAD_URL", `invalid MySQL URL "${shown}": ${why}; ${URL_FORM}`);
}
