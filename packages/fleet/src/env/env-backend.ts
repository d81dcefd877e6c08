import type { ServerBackend } from "../backend.js";
import { FleetError } from "../errors.js";
import type { ServerAddress } from "../fleet-server.js";

/** The variable holding comma-separated mysql:// URLs of servers that already run. */
export const MYSQL_URLS_VARIABLE = "SHARDKIT_MYSQL_URLS";

/** A URL as it may be shown: the password masked. */
function shown(url: URL): string {
  const auth = url.username ? `${url.username}${url.password ? ":***" : ""}@` : "";
  // No path: in a URL without a host, such as mysql:u:pw@h, the credentials end up in it.
  return `${url.protocol}//${auth}${url.host}`;
}

/**
 * Parses SHARDKIT_MYSQL_URLS: comma-separated `mysql://user[:password]@host[:port]` URLs.
 * A database path or query string is ignored; the user defaults to root and the port to 3306.
 */
export function parseServerUrls(value: string): ServerAddress[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((text, i) => {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        // Not echoed: where the password is in text that is not a URL cannot be told.
        throw new FleetError(
          "BAD_URL",
          `entry ${i + 1} of ${MYSQL_URLS_VARIABLE} is not a URL: write mysql://user:password@host:port`,
        );
      }
      if (url.protocol !== "mysql:" || !url.hostname) {
        throw new FleetError(
          "BAD_URL",
          `entry ${i + 1} of ${MYSQL_URLS_VARIABLE} is ${shown(url)}: write mysql://user:password@host:port`,
        );
      }
      return {
        // URL keeps the brackets of an IPv6 host; the driver wants the bare address.
        host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: url.port ? Number(url.port) : 3306,
        user: decodeURIComponent(url.username) || "root",
        password: decodeURIComponent(url.password),
      };
    });
}

/**
 * Servers named in SHARDKIT_MYSQL_URLS, used as they are. With fewer URLs than servers asked
 * for, the URLs are reused round-robin; every FleetServer still gets its own database.
 */
export const envBackend: ServerBackend = {
  kind: "env",
  async probe(context) {
    const value = context.env[MYSQL_URLS_VARIABLE]?.trim() ?? "";
    const addresses = parseServerUrls(value);
    const first = addresses[0];
    if (!first) return { available: false, reason: `${MYSQL_URLS_VARIABLE} is not set` };
    return {
      available: true,
      start: async (count) => ({
        addresses: Array.from(
          { length: count },
          (_, i) => addresses[i % addresses.length] ?? first,
        ),
        shared: true,
        release: async () => undefined,
      }),
    };
  },
};
