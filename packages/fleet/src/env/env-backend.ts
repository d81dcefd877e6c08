import { FleetError, redact } from "../errors.js";
import type { ServerAddress } from "../fleet-server.js";

/** Parses SHARDKIT_MYSQL_URLS: comma-separated mysql:// URLs of servers that already run. */
export function parseServerUrls(value: string): ServerAddress[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((text) => {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new FleetError(
          "BAD_URL",
          `SHARDKIT_MYSQL_URLS holds "${redact(text)}", which is not a URL; write mysql://user:password@host:port`,
        );
      }
      if (url.protocol !== "mysql:") {
        throw new FleetError(
          "BAD_URL",
          `SHARDKIT_MYSQL_URLS holds "${redact(text)}"; each entry must be a mysql:// URL`,
        );
      }
      return {
        host: url.hostname,
        port: url.port ? Number(url.port) : 3306,
        user: decodeURIComponent(url.username) || "root",
        password: decodeURIComponent(url.password),
      };
    });
}
