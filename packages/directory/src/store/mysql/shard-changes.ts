import { DirectoryError } from "../../errors/directory-error.js";
import { formatKeyRange } from "../../key-range.js";
import {
  type DirectorySnapshot,
  isValidIdentifier,
  isValidShardName,
  type ShardRecord,
} from "../../model.js";
import { formatEndpoint, type MysqlEndpoint } from "../../mysql/mysql-url.js";
import type { AddShardInput, ChangeResult } from "../directory-admin.js";
import { runChange, type StoreParts } from "./change-transaction.js";
import { badName, requireShard } from "./directory-invariants.js";

/** Registers a shard: checks names against the directory, then creates its database and fence. */
export async function addShard(
  parts: StoreParts,
  input: AddShardInput,
): Promise<ChangeResult & { shard: ShardRecord }> {
  if (!isValidShardName(input.name)) throw badName("shard", input.name);
  if (!isValidIdentifier(input.database)) {
    throw new DirectoryError(
      "BAD_NAME",
      `invalid database name "${input.database}" for shard ${input.name}: use letters, digits and _ (e.g. mysql://user@host:3306/app_shard1)`,
    );
  }
  const shard: ShardRecord = {
    name: input.name,
    host: input.host,
    port: input.port,
    user: input.user,
    database: input.database,
    state: "serving",
  };
  const result = await runChange(parts, async ({ before, shards, tx }) => {
    // Every clash is found before the shard's database is created.
    refuseClashes(before, shard, parts.directory.endpoint);
    const endpoint = { ...shard, password: input.password ?? shards.password(input.name) };
    await shards.prepare(endpoint);
    await tx.execute(
      "INSERT INTO shardkit_shards (name, host, port, user, database_name, state) VALUES (?, ?, ?, ?, ?, ?)",
      [shard.name, shard.host, shard.port, shard.user, shard.database, shard.state],
    );
    return { fence: [shard.name], passwords: { [shard.name]: endpoint.password } };
  });
  return { ...result, shard };
}

/** Unregisters a shard that owns no range and no pinned key. */
export async function removeShard(parts: StoreParts, name: string): Promise<ChangeResult> {
  return runChange(parts, async ({ before, tx }) => {
    requireShard(before, name);
    const move = before.moves.find((m) => m.source === name || m.target === name);
    if (move) {
      throw new DirectoryError(
        "SHARD_BUSY",
        `shard ${name} is the ${move.source === name ? "source" : "target"} of move ${move.id} (${move.state}); wait for it to finish or abort it (shardkit move abort ${move.id}), then remove the shard`,
        { details: { shard: name, move: move.id } },
      );
    }
    const owned = before.ranges.filter((r) => r.shard === name);
    const pinned = before.pins.filter((p) => p.shard === name);
    if (owned.length > 0 || pinned.length > 0) {
      const what = [
        ...owned.map((r) => formatKeyRange(r.range)),
        ...pinned.map((p) => `pinned key ${p.keyText}`),
      ];
      throw new DirectoryError(
        "SHARD_OWNS_RANGES",
        `shard ${name} still owns ${what.slice(0, 5).join(", ")}${what.length > 5 ? ", ..." : ""}; move them to another shard first`,
        { details: { shard: name, owns: what } },
      );
    }
    await tx.execute("DELETE FROM shardkit_shards WHERE name = ?", [name]);
    // Its fence no longer matters to this directory; pin_away rows there are left as they are.
    return { fence: [] };
  });
}

/**
 * Names MySQL treats as equal clash: the directory's tables compare shard and database names
 * ignoring case, and two databases `APP` and `app` on one server are a trap even where the
 * server keeps them apart.
 */
function refuseClashes(before: DirectorySnapshot, shard: ShardRecord, directory: MysqlEndpoint) {
  const name = shard.name.toLowerCase();
  const database = shard.database.toLowerCase();
  if (sameServer(shard, directory) && database === directory.database.toLowerCase()) {
    throw new DirectoryError(
      "NAME_CLASH",
      `${formatEndpoint(shard)} is the directory's own database; the directory database cannot be a shard, so give the shard a database of its own`,
      { details: { shard: shard.name, database: shard.database } },
    );
  }
  const named = before.shards.find((s) => s.name.toLowerCase() === name);
  if (named?.name === shard.name) {
    throw new DirectoryError(
      "SHARD_EXISTS",
      `shard ${shard.name} is already registered (${formatEndpoint(named)}); pick another name or remove it first`,
      { details: { shard: shard.name } },
    );
  }
  if (named) {
    throw new DirectoryError(
      "NAME_CLASH",
      `shard name ${shard.name} clashes with registered shard ${named.name} (shard names are compared ignoring case); pick another name`,
      { details: { shard: shard.name, registered: named.name } },
    );
  }
  const twin = before.shards.find(
    (s) => sameServer(s, shard) && s.database.toLowerCase() === database,
  );
  if (twin?.database === shard.database) {
    throw new DirectoryError(
      "SHARD_EXISTS",
      `${formatEndpoint(shard)} is already registered as shard ${twin.name}; one database can be one shard only`,
      { details: { shard: shard.name, registered: twin.name } },
    );
  }
  if (twin) {
    throw new DirectoryError(
      "NAME_CLASH",
      `database ${shard.database} clashes with database ${twin.database} of shard ${twin.name} on the same server (names equal ignoring case); use a database name of its own`,
      { details: { shard: shard.name, registered: twin.name, database: twin.database } },
    );
  }
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** Whether two endpoints are the same server: host names ignoring case, loopback names as one. */
function sameServer(
  a: { readonly host: string; readonly port: number },
  b: { readonly host: string; readonly port: number },
): boolean {
  const host = (h: string) => (LOOPBACK.has(h.toLowerCase()) ? "localhost" : h.toLowerCase());
  return a.port === b.port && host(a.host) === host(b.host);
}
