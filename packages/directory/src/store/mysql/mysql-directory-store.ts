import {
  type CredentialResolver,
  credentialResolver,
  shardPasswordVariable,
} from "../../credentials.js";
import { DirectoryError } from "../../errors/directory-error.js";
import { ShardkitError } from "../../errors/shardkit-error.js";
import {
  diffFence,
  ensureFence,
  expectedFence,
  FENCE_TABLE,
  readFence,
  writeFence,
} from "../../fence/ownership-fence.js";
import {
  canonicalKeyBytes,
  canonicalKeyString,
  hashKeyFunction,
  isKeyFunctionName,
  KEY_FUNCTION_NAMES,
} from "../../key-function.js";
import {
  checkCoverage,
  evenSplit,
  formatKeyRange,
  type KeyRange,
  mergeRanges,
  rangeEquals,
  rangesAdjacent,
  splitRange,
} from "../../key-range.js";
import type {
  DirectorySnapshot,
  PinnedKey,
  RangeAssignment,
  RangeState,
  RouterHeartbeat,
  ShardedTable,
  ShardRecord,
  ShardState,
} from "../../model.js";
import { isValidIdentifier, isValidShardName } from "../../model.js";
import { formatEndpoint, type MysqlEndpoint, parseMysqlUrl } from "../../mysql/mysql-url.js";
import {
  connect,
  isConnectError,
  mysqlCodeOf,
  type SqlConnection,
} from "../../mysql/sql-connection.js";
import type {
  AddShardInput,
  ChangeResult,
  DirectoryStore,
  DoctorReport,
  FenceDifference,
} from "../directory-store.js";
import { DIRECTORY_MIGRATIONS, DIRECTORY_SCHEMA_VERSION, SCHEMA_VERSION_TABLE } from "./schema.js";

/** Options for {@link MysqlDirectoryStore}. */
export interface MysqlDirectoryStoreOptions {
  /** The directory database, as a URL (`mysql://user:pass@host:port/db`) or an endpoint. */
  readonly directory: string | MysqlEndpoint;
  /** Resolves shard passwords. Default: {@link credentialResolver} over the environment. */
  readonly credentials?: CredentialResolver;
  /** Milliseconds to wait when connecting to the directory or a shard. Default 5000. */
  readonly connectTimeoutMs?: number;
}

const MAX_PIN_BYTES = 255;
const MAX_RANGES = 65_536;

/** The directory stored in a MySQL database; every change is one transaction that bumps the version. */
export class MysqlDirectoryStore implements DirectoryStore {
  readonly endpoint: MysqlEndpoint;
  readonly #credentials: CredentialResolver;
  readonly #connectTimeoutMs: number;
  #conn: SqlConnection | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: MysqlDirectoryStoreOptions) {
    this.endpoint =
      typeof options.directory === "string" ? parseMysqlUrl(options.directory) : options.directory;
    if (!this.endpoint.database) {
      throw new ShardkitError(
        "BAD_URL",
        `the directory URL ${formatEndpoint(this.endpoint)} names no database; add one, e.g. mysql://root@127.0.0.1:3306/shardkit`,
      );
    }
    this.#credentials = options.credentials ?? credentialResolver();
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  }

  /** The directory's location with the password masked. */
  get location(): string {
    return formatEndpoint(this.endpoint);
  }

  async init(): Promise<{ schemaVersion: number; created: boolean }> {
    return this.#serial(async () => {
      const server = await this.#open({ withoutDatabase: true });
      let created = false;
      try {
        const exists = await server.query("SHOW DATABASES LIKE ?", [this.endpoint.database]);
        if (exists.length === 0) {
          await server.execute(`CREATE DATABASE IF NOT EXISTS ${quoteId(this.endpoint.database)}`);
          created = true;
        }
      } finally {
        await server.close();
      }
      const conn = await this.#connection();
      // One initialiser at a time: concurrent `init`s wait rather than race the DDL.
      await conn.query("SELECT GET_LOCK(?, 30)", [`shardkit_init_${this.endpoint.database}`]);
      try {
        await conn.execute(SCHEMA_VERSION_TABLE);
        const [row] = await conn.query<{ v: number | null }>(
          "SELECT MAX(version) AS v FROM shardkit_schema_version",
        );
        const current = Number(row?.v ?? 0);
        if (current > DIRECTORY_SCHEMA_VERSION) throw this.#tooNew(current);
        for (let v = current + 1; v <= DIRECTORY_SCHEMA_VERSION; v++) {
          for (const sql of DIRECTORY_MIGRATIONS[v - 1] ?? []) await conn.execute(sql);
          await conn.execute("INSERT INTO shardkit_schema_version (version) VALUES (?)", [v]);
        }
      } finally {
        await conn.query("SELECT RELEASE_LOCK(?)", [`shardkit_init_${this.endpoint.database}`]);
      }
      return { schemaVersion: DIRECTORY_SCHEMA_VERSION, created };
    });
  }

  async version(): Promise<number> {
    return this.#serial(async () => {
      const conn = await this.#ready();
      const [row] = await conn.query<{ version: number }>(
        "SELECT version FROM shardkit_directory WHERE id = 1",
      );
      return Number(row?.version ?? 0);
    });
  }

  async snapshot(): Promise<DirectorySnapshot> {
    return this.#serial(async () => {
      const conn = await this.#ready();
      // One consistent read view for all five tables.
      await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
      try {
        return await loadSnapshot(conn);
      } finally {
        await conn.query("COMMIT");
      }
    });
  }

  async addShard(input: AddShardInput): Promise<ChangeResult & { shard: ShardRecord }> {
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
    const result = await this.#change(async (tx, before) => {
      const same = before.shards.find((s) => s.name === input.name);
      if (same) {
        throw new DirectoryError(
          "SHARD_EXISTS",
          `shard ${input.name} is already registered (${formatEndpoint(same)}); pick another name or remove it first`,
        );
      }
      const twin = before.shards.find(
        (s) => s.host === input.host && s.port === input.port && s.database === input.database,
      );
      if (twin) {
        throw new DirectoryError(
          "SHARD_EXISTS",
          `${formatEndpoint(shard)} is already registered as shard ${twin.name}; one database can be one shard only`,
        );
      }
      const endpoint = { ...shard, password: input.password ?? this.#credentials(input.name) };
      await this.#prepareShard(endpoint);
      await tx.execute(
        "INSERT INTO shardkit_shards (name, host, port, user, database_name, state) VALUES (?, ?, ?, ?, ?, ?)",
        [shard.name, shard.host, shard.port, shard.user, shard.database, shard.state],
      );
      return { fence: [shard.name], passwords: { [shard.name]: endpoint.password } };
    });
    return { ...result, shard };
  }

  async removeShard(name: string): Promise<ChangeResult> {
    return this.#change(async (tx, before) => {
      requireShard(before, name);
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

  async addTable(table: ShardedTable): Promise<ChangeResult> {
    if (!isValidIdentifier(table.name)) throw badName("table", table.name);
    if (!isValidIdentifier(table.keyColumn)) throw badName("column", table.keyColumn);
    if (!isKeyFunctionName(table.keyFunction)) {
      throw new DirectoryError(
        "BAD_NAME",
        `unknown key function "${String(table.keyFunction)}"; use one of: ${KEY_FUNCTION_NAMES.join(", ")}`,
      );
    }
    return this.#change(async (tx, before) => {
      if (before.tables.some((t) => t.name === table.name)) {
        throw new DirectoryError(
          "TABLE_EXISTS",
          `table ${table.name} is already sharded; see shardkit table list`,
        );
      }
      await tx.execute(
        "INSERT INTO shardkit_tables (name, key_column, key_function) VALUES (?, ?, ?)",
        [table.name, table.keyColumn, table.keyFunction],
      );
      return { fence: [] };
    });
  }

  async layoutEven(n: number, shards?: readonly string[]): Promise<ChangeResult> {
    if (!Number.isInteger(n) || n < 1 || n > MAX_RANGES) {
      throw new ShardkitError(
        "BAD_ARGUMENT",
        `invalid number of ranges "${n}": give a whole number from 1 to ${MAX_RANGES}`,
      );
    }
    return this.#change(async (tx, before) => {
      if (before.ranges.length > 0) {
        throw new DirectoryError(
          "LAYOUT_EXISTS",
          `the directory already has ${before.ranges.length} ranges; a layout is made once (use split, merge or a move to change it)`,
        );
      }
      const names = shards ?? before.shards.filter((s) => s.state === "serving").map((s) => s.name);
      for (const name of names) requireShard(before, name);
      if (names.length === 0) {
        throw new DirectoryError(
          "NO_SHARDS",
          "no shards are registered; add some first with shardkit shard add <name> <url>",
        );
      }
      const ranges = evenSplit(n);
      await tx.execute(
        "INSERT INTO shardkit_ranges (range_start, range_end, shard, state) VALUES ?",
        [ranges.map((r, i) => [r.start, r.end, names[i % names.length], "serving"])],
      );
      return { fence: [...new Set(names)] };
    });
  }

  async splitRange(
    range: KeyRange,
    at?: number,
  ): Promise<ChangeResult & { ranges: [KeyRange, KeyRange] }> {
    let parts: [KeyRange, KeyRange] | undefined;
    const result = await this.#change(async (tx, before) => {
      const owner = requireRange(before, range);
      requireServing(owner);
      parts = splitRange(range, at);
      await tx.execute("UPDATE shardkit_ranges SET range_end = ? WHERE range_start = ?", [
        parts[0].end,
        range.start,
      ]);
      await tx.execute(
        "INSERT INTO shardkit_ranges (range_start, range_end, shard, state) VALUES (?, ?, ?, 'serving')",
        [parts[1].start, parts[1].end, owner.shard],
      );
      return { fence: [owner.shard] };
    });
    return { ...result, ranges: parts as [KeyRange, KeyRange] };
  }

  async mergeRanges(a: KeyRange, b: KeyRange): Promise<ChangeResult & { range: KeyRange }> {
    let merged: KeyRange | undefined;
    const result = await this.#change(async (tx, before) => {
      const left = requireRange(before, a.start <= b.start ? a : b);
      const right = requireRange(before, a.start <= b.start ? b : a);
      if (!rangesAdjacent(left.range, right.range)) {
        throw new DirectoryError(
          "NOT_ADJACENT",
          `ranges ${formatKeyRange(left.range)} and ${formatKeyRange(right.range)} are not adjacent; only neighbouring ranges can be merged`,
        );
      }
      if (left.shard !== right.shard) {
        throw new DirectoryError(
          "DIFFERENT_SHARDS",
          `range ${formatKeyRange(left.range)} is on ${left.shard} and ${formatKeyRange(right.range)} on ${right.shard}; move one so both are on the same shard, then merge`,
        );
      }
      requireServing(left);
      requireServing(right);
      merged = mergeRanges(left.range, right.range);
      await tx.execute("DELETE FROM shardkit_ranges WHERE range_start = ?", [right.range.start]);
      await tx.execute("UPDATE shardkit_ranges SET range_end = ? WHERE range_start = ?", [
        merged.end,
        left.range.start,
      ]);
      return { fence: [left.shard] };
    });
    return { ...result, range: merged as KeyRange };
  }

  async pinKey(key: unknown, shard: string): Promise<ChangeResult> {
    const bytes = pinBytes(key);
    const ksid = hashKeyFunction.ksid(key);
    return this.#change(async (tx, before) => {
      requireShard(before, shard);
      const existing = before.pins.find((p) => sameBytes(p.keyBytes, bytes));
      if (existing) {
        throw new DirectoryError(
          "ALREADY_PINNED",
          `key ${existing.keyText} is already pinned to ${existing.shard}; unpin it first`,
        );
      }
      await tx.execute(
        "INSERT INTO shardkit_pins (key_bytes, key_text, ksid, shard) VALUES (?, ?, ?, ?)",
        [Buffer.from(bytes), keyText(key), ksid, shard],
      );
      // Every other shard learns to refuse the key before the pinned shard accepts it.
      return { fence: [...before.shards.map((s) => s.name).filter((n) => n !== shard), shard] };
    });
  }

  async unpinKey(key: unknown): Promise<ChangeResult> {
    const bytes = pinBytes(key);
    return this.#change(async (tx, before) => {
      const existing = before.pins.find((p) => sameBytes(p.keyBytes, bytes));
      if (!existing) {
        throw new DirectoryError(
          "NOT_PINNED",
          `key ${keyText(key)} is not pinned; see shardkit route ${keyText(key)}`,
        );
      }
      await tx.execute("DELETE FROM shardkit_pins WHERE key_bytes = ?", [Buffer.from(bytes)]);
      // The pinned shard gives the key up before the others may accept it again.
      return {
        fence: [
          existing.shard,
          ...before.shards.map((s) => s.name).filter((n) => n !== existing.shard),
        ],
      };
    });
  }

  async assignRange(range: KeyRange, from: string, to: string): Promise<ChangeResult> {
    return this.#change(async (tx, before) => {
      const owner = requireRange(before, range);
      requireShard(before, to);
      if (owner.shard !== from) {
        throw new DirectoryError(
          "RANGE_BUSY",
          `range ${formatKeyRange(range)} is owned by ${owner.shard}, not ${from}; refresh and try again`,
        );
      }
      if (from === to) return { fence: [] };
      await tx.execute(
        "UPDATE shardkit_ranges SET shard = ?, state = 'serving' WHERE range_start = ?",
        [to, range.start],
      );
      // Revoke before grant: the old owner refuses the range before the new one accepts it.
      return { fence: [from, to] };
    });
  }

  async reserveIds(sequence: string, count: number): Promise<{ start: number; end: number }> {
    if (!isValidIdentifier(sequence)) throw badName("sequence", sequence);
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new ShardkitError(
        "BAD_ARGUMENT",
        `cannot reserve ${count} ids: give a whole number >= 1`,
      );
    }
    return this.#serial(async () => {
      const conn = await this.#ready();
      // One statement: LAST_INSERT_ID(expr) makes the new high-water mark the OK packet's insertId.
      const [ok] = await conn.query<{ insertId: number }>(
        `INSERT INTO shardkit_sequences (name, next_id) VALUES (?, LAST_INSERT_ID(1 + ?))
         ON DUPLICATE KEY UPDATE next_id = LAST_INSERT_ID(next_id + ?)`,
        [sequence, count, count],
      );
      const end = Number(ok?.insertId);
      if (!Number.isSafeInteger(end)) {
        throw new ShardkitError(
          "SEQUENCE_EXHAUSTED",
          `sequence ${sequence} has passed 2^53; its ids no longer fit a JavaScript number`,
        );
      }
      return { start: end - count, end };
    });
  }

  async doctor(options: { dryRun?: boolean } = {}): Promise<DoctorReport> {
    return this.#serial(async () => {
      const conn = await this.#ready();
      await conn.query("START TRANSACTION");
      try {
        // Hold the version lock so no change runs while fences are compared and repaired.
        const version = await lockVersion(conn);
        const snapshot = await loadSnapshot(conn, version);
        const differences: FenceDifference[] = [];
        const repaired: string[] = [];
        const refusals: string[] = [];
        for (const shard of snapshot.shards) {
          let sc: SqlConnection;
          try {
            sc = await this.#openShard(shard);
          } catch (error) {
            refusals.push(
              `shard ${shard.name} is unreachable (${(error as Error).message}); bring it back (or fix its credentials) and run shardkit doctor again`,
            );
            continue;
          }
          try {
            await ensureFence(sc);
            const want = expectedFence(snapshot, shard.name);
            const diff = diffFence(shard.name, want, await readFence(sc));
            if (diff.length === 0) continue;
            differences.push(...diff);
            const busy = snapshot.ranges.filter(
              (r) => r.shard === shard.name && r.state !== "serving",
            );
            if (busy.length > 0) {
              refusals.push(
                `shard ${shard.name} differs from the directory while range ${busy.map((r) => formatKeyRange(r.range)).join(", ")} is ${busy[0]?.state}; finish or abort that move first`,
              );
              continue;
            }
            if (!options.dryRun) {
              await writeFence(sc, want, snapshot.version);
              repaired.push(shard.name);
            }
          } finally {
            await sc.close();
          }
        }
        return {
          version: snapshot.version,
          checkedShards: snapshot.shards.map((s) => s.name),
          differences,
          repairedShards: repaired,
          refusals,
        };
      } finally {
        await conn.query("COMMIT");
      }
    });
  }

  async recordHeartbeat(hb: Omit<RouterHeartbeat, "lastSeen">): Promise<void> {
    await this.#serial(async () => {
      const conn = await this.#ready();
      await conn.execute(
        `INSERT INTO shardkit_heartbeats (id, host, pid, version, last_seen) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP(3))
         ON DUPLICATE KEY UPDATE host = VALUES(host), pid = VALUES(pid), version = VALUES(version), last_seen = VALUES(last_seen)`,
        [hb.id, hb.host, hb.pid, hb.version],
      );
    });
  }

  async listHeartbeats(): Promise<RouterHeartbeat[]> {
    return this.#serial(async () => {
      const conn = await this.#ready();
      const rows = await conn.query<{
        id: string;
        host: string;
        pid: number;
        version: number;
        last_seen: Date;
      }>(
        "SELECT id, host, pid, version, last_seen FROM shardkit_heartbeats ORDER BY last_seen DESC",
      );
      return rows.map((r) => ({
        id: r.id,
        host: r.host,
        pid: Number(r.pid),
        version: Number(r.version),
        lastSeen: r.last_seen,
      }));
    });
  }

  async close(): Promise<void> {
    await this.#queue.catch(() => undefined);
    const conn = this.#conn;
    this.#conn = undefined;
    await conn?.close();
  }

  /** Runs one change: lock the version row, apply, check invariants, bring fences in step, commit. */
  async #change(
    apply: (
      tx: SqlConnection,
      before: DirectorySnapshot,
    ) => Promise<{ fence: readonly string[]; passwords?: Record<string, string> }>,
  ): Promise<ChangeResult> {
    return this.#serial(async () => {
      const conn = await this.#ready();
      await conn.query("START TRANSACTION");
      const written: { shard: ShardRecord; rows: ReturnType<typeof expectedFence> }[] = [];
      let before: DirectorySnapshot | undefined;
      try {
        const version = await lockVersion(conn);
        before = await loadSnapshot(conn, version);
        const { fence, passwords } = await apply(conn, before);
        await conn.execute(
          "UPDATE shardkit_directory SET version = version + 1, updated_at = CURRENT_TIMESTAMP(3) WHERE id = 1",
        );
        const after = await loadSnapshot(conn, version + 1);
        checkInvariants(after);
        // Fences first, in the order the operation gave (revokes before grants), then the
        // directory commit: a crash in between leaves fences that doctor resets to the directory.
        for (const name of fence) {
          const shard = after.shards.find((s) => s.name === name);
          if (!shard) continue;
          const sc = await this.#openShard(shard, passwords?.[name]);
          try {
            const prior = await readFence(sc);
            await writeFence(sc, expectedFence(after, name), after.version);
            written.push({ shard, rows: prior });
          } finally {
            await sc.close();
          }
        }
        await conn.query("COMMIT");
        return { version: after.version };
      } catch (error) {
        await conn.query("ROLLBACK").catch(() => undefined);
        // Put back what this change wrote to fences, newest first.
        for (const { shard, rows } of written.reverse()) {
          const sc = await this.#openShard(shard).catch(() => undefined);
          if (!sc) continue;
          await writeFence(sc, rows, before?.version ?? 0).catch(() => undefined);
          await sc.close();
        }
        throw error;
      }
    });
  }

  async #prepareShard(endpoint: MysqlEndpoint & { name: string }): Promise<void> {
    let server: SqlConnection;
    try {
      server = await connect(endpoint, {
        withoutDatabase: true,
        connectTimeoutMs: this.#connectTimeoutMs,
      });
    } catch (error) {
      throw unreachable(endpoint.name, error);
    }
    try {
      await server.execute(`CREATE DATABASE IF NOT EXISTS ${quoteId(endpoint.database)}`);
      await server.execute(`USE ${quoteId(endpoint.database)}`);
      await ensureFence(server);
      const held = await server.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${FENCE_TABLE}`);
      if (Number(held[0]?.n ?? 0) > 0) {
        throw new DirectoryError(
          "SHARD_EXISTS",
          `${formatEndpoint(endpoint)} already holds ownership rows (it is a shard of some directory); register an empty database instead`,
        );
      }
    } finally {
      await server.close();
    }
  }

  async #openShard(shard: ShardRecord, password?: string): Promise<SqlConnection> {
    try {
      return await connect(
        { ...shard, password: password ?? this.#credentials(shard.name) },
        { connectTimeoutMs: this.#connectTimeoutMs },
      );
    } catch (error) {
      throw unreachable(shard.name, error);
    }
  }

  async #open(options: { withoutDatabase?: boolean } = {}): Promise<SqlConnection> {
    try {
      return await connect(this.endpoint, { ...options, connectTimeoutMs: this.#connectTimeoutMs });
    } catch (error) {
      if (mysqlCodeOf(error) === "ER_BAD_DB_ERROR") throw this.#notInitialized();
      throw new DirectoryError(
        "DIRECTORY_UNAVAILABLE",
        `cannot reach the directory: ${(error as Error).message}; check --directory (or SHARDKIT_DIRECTORY) and that the server runs`,
        { cause: error },
      );
    }
  }

  async #connection(): Promise<SqlConnection> {
    this.#conn ??= await this.#open();
    return this.#conn;
  }

  /** The connection, after checking the schema exists and is one this code understands. */
  async #ready(): Promise<SqlConnection> {
    if (this.#conn) return this.#conn;
    const conn = await this.#connection();
    try {
      const [row] = await conn.query<{ v: number | null }>(
        "SELECT MAX(version) AS v FROM shardkit_schema_version",
      );
      const v = Number(row?.v ?? 0);
      if (v > DIRECTORY_SCHEMA_VERSION) throw this.#tooNew(v);
      if (v < DIRECTORY_SCHEMA_VERSION) throw this.#notInitialized();
    } catch (error) {
      this.#conn = undefined;
      await conn.close();
      if (mysqlCodeOf(error) === "ER_NO_SUCH_TABLE") throw this.#notInitialized();
      throw error;
    }
    return conn;
  }

  /** Runs directory work one call at a time on the one connection; drops it when the server went away. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(async (error: unknown) => {
      if (isConnectError(error) && this.#conn) {
        const c = this.#conn;
        this.#conn = undefined;
        await c.close();
      }
    });
    return run.catch((error: unknown) => {
      if (isConnectError(error)) {
        throw new DirectoryError(
          "DIRECTORY_UNAVAILABLE",
          `lost the directory at ${this.location}: ${(error as Error).message}; check that the server runs`,
          { cause: error },
        );
      }
      throw error;
    });
  }

  #notInitialized(): DirectoryError {
    return new DirectoryError(
      "NOT_INITIALIZED",
      `no shardkit directory at ${this.location} (or its schema is older than this shardkit); run shardkit init`,
    );
  }

  #tooNew(v: number): DirectoryError {
    return new DirectoryError(
      "SCHEMA_TOO_NEW",
      `the directory at ${this.location} has schema version ${v}, newer than this shardkit understands (${DIRECTORY_SCHEMA_VERSION}); upgrade shardkit`,
    );
  }
}

async function lockVersion(conn: SqlConnection): Promise<number> {
  const [row] = await conn.query<{ version: number }>(
    "SELECT version FROM shardkit_directory WHERE id = 1 FOR UPDATE",
  );
  if (!row)
    throw new DirectoryError(
      "NOT_INITIALIZED",
      "the directory has no version row; run shardkit init",
    );
  return Number(row.version);
}

/** Reads all directory tables on `conn` (inside the caller's transaction). */
async function loadSnapshot(
  conn: SqlConnection,
  knownVersion?: number,
): Promise<DirectorySnapshot> {
  const version =
    knownVersion ??
    Number(
      (
        await conn.query<{ version: number }>("SELECT version FROM shardkit_directory WHERE id = 1")
      )[0]?.version ?? 0,
    );
  const shards = await conn.query<{
    name: string;
    host: string;
    port: number;
    user: string;
    database_name: string;
    state: ShardState;
  }>("SELECT name, host, port, user, database_name, state FROM shardkit_shards ORDER BY name");
  const tables = await conn.query<{ name: string; key_column: string; key_function: string }>(
    "SELECT name, key_column, key_function FROM shardkit_tables ORDER BY name",
  );
  const ranges = await conn.query<{
    range_start: number;
    range_end: number;
    shard: string;
    state: RangeState;
  }>("SELECT range_start, range_end, shard, state FROM shardkit_ranges ORDER BY range_start");
  const pins = await conn.query<{
    key_bytes: Buffer;
    key_text: string;
    ksid: number;
    shard: string;
  }>("SELECT key_bytes, key_text, ksid, shard FROM shardkit_pins ORDER BY key_bytes");
  return {
    version,
    shards: shards.map((s) => ({
      name: s.name,
      host: s.host,
      port: Number(s.port),
      user: s.user,
      database: s.database_name,
      state: s.state,
    })),
    tables: tables.map((t) => ({
      name: t.name,
      keyColumn: t.key_column,
      keyFunction: isKeyFunctionName(t.key_function) ? t.key_function : "hash",
    })),
    ranges: ranges.map(
      (r): RangeAssignment => ({
        range: { start: Number(r.range_start), end: Number(r.range_end) },
        shard: r.shard,
        state: r.state,
      }),
    ),
    pins: pins.map(
      (p): PinnedKey => ({
        keyBytes: new Uint8Array(p.key_bytes),
        keyText: p.key_text,
        ksid: Number(p.ksid),
        shard: p.shard,
      }),
    ),
  };
}

/** The directory's invariants, checked inside every change before it commits. */
function checkInvariants(s: DirectorySnapshot): void {
  if (s.ranges.length > 0) {
    const coverage = checkCoverage(s.ranges.map((r) => r.range));
    if (!coverage.ok) {
      throw new DirectoryError(
        "COVERAGE_BROKEN",
        `refused: the change would break coverage (${coverage.message})`,
      );
    }
  }
  const names = new Set(s.shards.map((x) => x.name));
  for (const r of s.ranges) {
    if (!names.has(r.shard)) {
      throw new DirectoryError(
        "UNKNOWN_SHARD",
        `refused: range ${formatKeyRange(r.range)} would be owned by unknown shard ${r.shard}`,
      );
    }
  }
  for (const p of s.pins) {
    if (!names.has(p.shard)) {
      throw new DirectoryError(
        "UNKNOWN_SHARD",
        `refused: key ${p.keyText} would be pinned to unknown shard ${p.shard}`,
      );
    }
  }
}

function requireShard(s: DirectorySnapshot, name: string): ShardRecord {
  const shard = s.shards.find((x) => x.name === name);
  if (!shard) {
    const known = s.shards.map((x) => x.name).join(", ") || "none";
    throw new DirectoryError(
      "UNKNOWN_SHARD",
      `unknown shard "${name}" (registered: ${known}); see shardkit shard list`,
    );
  }
  return shard;
}

function requireRange(s: DirectorySnapshot, range: KeyRange): RangeAssignment {
  if (s.ranges.length === 0) {
    throw new DirectoryError(
      "NO_LAYOUT",
      "the directory has no ranges yet; lay them out with shardkit layout even <n>",
    );
  }
  const found = s.ranges.find((r) => rangeEquals(r.range, range));
  if (!found) {
    throw new DirectoryError(
      "UNKNOWN_RANGE",
      `no range ${formatKeyRange(range)} in the directory; name an existing range exactly (see shardkit ranges)`,
    );
  }
  return found;
}

function requireServing(a: RangeAssignment): void {
  if (a.state !== "serving") {
    throw new DirectoryError(
      "RANGE_BUSY",
      `range ${formatKeyRange(a.range)} is ${a.state} (a move is in progress); wait for it to finish or abort it`,
    );
  }
}

function pinBytes(key: unknown): Uint8Array {
  const bytes = canonicalKeyBytes(key);
  if (bytes.length > MAX_PIN_BYTES) {
    throw new ShardkitError(
      "BAD_SHARD_KEY",
      `key is ${bytes.length} bytes long; a pinned key can be at most ${MAX_PIN_BYTES} bytes`,
    );
  }
  return bytes;
}

function keyText(key: unknown): string {
  if (key instanceof Uint8Array) return `0x${Buffer.from(key).toString("hex")}`;
  return String(key).slice(0, 255);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return canonicalKeyString(a) === canonicalKeyString(b);
}

function quoteId(name: string): string {
  return `\`${name.replace(/`/g, "``")}\``;
}

function badName(kind: string, name: string): DirectoryError {
  return new DirectoryError(
    "BAD_NAME",
    kind === "shard"
      ? `invalid shard name "${name}": start with a letter, then up to 63 letters, digits, _ or -`
      : `invalid ${kind} name "${name}": use a plain identifier (letters, digits, _ and $, not starting with a digit)`,
  );
}

function unreachable(shard: string, error: unknown): DirectoryError {
  return new DirectoryError(
    "SHARD_UNAVAILABLE",
    `cannot reach shard ${shard}: ${(error as Error).message}; check the server runs and its password (${shardPasswordVariable(shard)} or the config's credentials)`,
    { details: { shard }, cause: error },
  );
}
