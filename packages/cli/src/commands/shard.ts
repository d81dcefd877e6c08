import { formatEndpoint, parseMysqlUrl, shardPasswordVariable } from "@shardkit/directory";
import { copyReferenceTablesTo } from "@shardkit/migrate";
import { Command } from "commander";
import { UsageError } from "../cli-errors.js";
import type { CommandDefinition } from "../command-definition.js";
import { shardFields } from "../directory-fields.js";

/** `shardkit shard add|list|remove`: the shards the directory knows. */
export const shardCommand: CommandDefinition = (action) => {
  const shard = new Command("shard").description("register, list and remove shards");
  shard
    .command("add")
    .description("register a shard: a MySQL database that will own key ranges (created if missing)")
    .argument("<name>", "shard name: a letter, then letters, digits, _ or -")
    .argument(
      "<url>",
      "mysql://user[:password]@host:port/database; a password here is used now and never stored",
    )
    .action(
      action(async ({ admin, credentials, note }, name: string, url: string) => {
        const endpoint = parseMysqlUrl(url);
        if (!endpoint.database) {
          throw new UsageError(
            "BAD_ARGUMENT",
            `the shard URL ${formatEndpoint(endpoint)} names no database; add one, e.g. ${formatEndpoint({ ...endpoint, database: "app" })}`,
          );
        }
        const password = endpoint.password || credentials(name);
        const result = await admin.addShard({ name, ...endpoint, password });
        if (endpoint.password && credentials(name) !== endpoint.password) {
          note(
            `the password in the URL was used to reach ${name} now and is not stored; set ${shardPasswordVariable(name)} or credentials.shards.${name} in the config for later commands`,
          );
        }
        // The new shard gets every reference table before it can serve a range.
        const copied = await copyReferenceTablesTo(admin, name, {
          credentials: (n) => (n === name ? password : credentials(n)),
        });
        const tables = copied.copies.map(
          (c) => `${c.table} (${c.ok ? `${c.rowsCopied} rows` : "failed"})`,
        );
        return {
          kind: "report",
          text: `added shard ${name} (${formatEndpoint(result.shard)}); directory version ${result.version}${tables.length ? `; reference tables copied: ${tables.join(", ")}` : ""}`,
          data: {
            shard: shardFields(result.shard),
            version: result.version,
            referenceCopies: copied.copies,
          },
          ...(copied.failure ? { failure: copied.failure } : {}),
        };
      }),
    );
  shard
    .command("list")
    .description("list registered shards and how many ranges each owns")
    .action(
      action(async ({ admin }) => {
        const s = await admin.snapshot();
        return {
          kind: "table",
          rows: s.shards.map((x) => ({
            ...shardFields(x),
            ranges: s.ranges.filter((r) => r.shard === x.name).length,
            pinnedKeys: s.pins.filter((p) => p.shard === x.name).length,
          })),
          columns: ["name", "host", "port", "user", "database", "state", "ranges", "pinnedKeys"],
          empty: "no shards registered; add one with shardkit shard add <name> <url>",
        };
      }),
    );
  shard
    .command("remove")
    .description(
      "unregister a shard that owns no ranges and no pinned keys (its data is left alone)",
    )
    .argument("<name>", "shard name")
    .action(
      action(async ({ admin }, name: string) => {
        const result = await admin.removeShard(name);
        return {
          kind: "report",
          text: `removed shard ${name}; directory version ${result.version}`,
          data: { shard: name, version: result.version },
        };
      }),
    );
  return shard;
};
