// The only file that imports the binlog client library: replace this file to change it.
import { randomInt } from "node:crypto";
import { wrapMysqlError } from "@shardkit/directory/internal";
import ZongJi, { type AnyBinlogEvent } from "@vlasky/zongji";
import type { ShardConnectOptions } from "../connection/shard-connection.js";
import { MoveError } from "../move-error.js";
import type { BinlogPosition } from "./binlog-position.js";
import type {
  BinlogItem,
  BinlogSource,
  BinlogSourceOptions,
  Row,
  RowChange,
} from "./binlog-source.js";

/** Items held in memory before the stream is paused (the applier is behind). */
const HIGH_WATER = 2000;
/** Items left when the stream is resumed. */
const LOW_WATER = 500;

const SCHEMA_CHANGE = /^\s*(ALTER|DROP|RENAME|TRUNCATE|CREATE\s+OR\s+REPLACE)\b/i;

/**
 * A replica server id for one stream: two streams with the same id make the server drop the
 * older one, so each stream takes a random id far above the ids servers usually have.
 */
export function binlogServerId(): number {
  return randomInt(0x4000_0000, 0xffff_fffe);
}

interface Pending {
  changes: RowChange[];
  gtid: string | null;
}

/** A {@link BinlogSource} over @vlasky/zongji, reading the binlog as a replica would. */
export function openZongjiBinlogSource(
  connect: ShardConnectOptions,
  shard: string,
  options: BinlogSourceOptions,
): BinlogSource {
  const zongji = new ZongJi({ ...connect });
  const queue: (BinlogItem | Error)[] = [];
  let wake: (() => void) | null = null;
  let paused = false;
  let closed = false;
  let file = options.start.file;
  let pending: Pending | null = null;
  const tables = new Set(options.tables);

  const push = (item: BinlogItem | Error) => {
    queue.push(item);
    if (!paused && queue.length >= HIGH_WATER && zongji.connection) {
      paused = true;
      zongji.connection.pause();
    }
    wake?.();
  };
  const position = (pos: number): BinlogPosition => ({
    file,
    pos,
    gtid: pending?.gtid ?? null,
  });
  const endTransaction = (pos: number) => {
    const at = position(pos);
    const changes = pending?.changes ?? [];
    pending = null;
    push(
      changes.length > 0
        ? { kind: "transaction", changes, position: at }
        : { kind: "position", position: at },
    );
  };

  zongji.on("error", (error: Error) => {
    if (closed) return;
    push(binlogError(error, shard, connect.password));
  });
  zongji.on("binlog", (event: AnyBinlogEvent) => {
    if (closed) return;
    switch (event.getEventName()) {
      case "rotate": {
        const rotate = event as Extract<AnyBinlogEvent, { getEventName(): "rotate" }>;
        file = rotate.binlogName;
        if (!pending) push({ kind: "position", position: position(rotate.position) });
        return;
      }
      case "mariadbgtid":
      case "gtid":
        pending = { changes: [], gtid: event.gtid ?? null };
        return;
      case "writerows":
      case "updaterows":
      case "deleterows": {
        pending ??= { changes: [], gtid: event.gtid ?? null };
        collectRows(event, options.database, tables, pending.changes);
        return;
      }
      case "xid":
        endTransaction(event.nextPosition);
        return;
      case "query": {
        const query = event as Extract<AnyBinlogEvent, { getEventName(): "query" }>;
        const statement = query.query.trim();
        const upper = statement.toUpperCase();
        if (upper === "BEGIN" || upper.startsWith("XA START") || upper.startsWith("XA END")) {
          pending ??= { changes: [], gtid: event.gtid ?? null };
          return;
        }
        const table = SCHEMA_CHANGE.test(statement)
          ? [...tables].find((t) => mentions(statement, t))
          : undefined;
        const ours = query.schema === options.database || statement.includes(options.database);
        if (table !== undefined && ours) {
          push({ kind: "schema", table, statement, position: position(event.nextPosition) });
        }
        if (event.nextPosition > 0) endTransaction(event.nextPosition);
        return;
      }
      case "format":
      case "mariadbgtidlist":
      case "binlogcheckpoint":
      case "previousgtids":
        if (!pending && event.nextPosition > 0) {
          push({ kind: "position", position: position(event.nextPosition) });
        }
        return;
      default:
        return;
    }
  });
  zongji.start({
    serverId: binlogServerId(),
    filename: options.start.file,
    position: options.start.pos,
    includeSchema: { [options.database]: [...tables] },
  });

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      zongji.once("stopped", () => {
        clearTimeout(timer);
        resolve();
      });
      zongji.stop();
    });
    wake?.();
  };

  return {
    close,
    async *[Symbol.asyncIterator](): AsyncIterator<BinlogItem> {
      try {
        while (!closed) {
          const item = queue.shift();
          if (item === undefined) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = null;
            continue;
          }
          if (paused && queue.length <= LOW_WATER && zongji.connection) {
            paused = false;
            zongji.connection.resume();
          }
          if (item instanceof Error) throw item;
          yield item;
        }
      } finally {
        await close();
      }
    },
  };
}

function collectRows(
  event: AnyBinlogEvent,
  database: string,
  tables: ReadonlySet<string>,
  into: RowChange[],
): void {
  const rowsEvent = event as Extract<AnyBinlogEvent, { getEventName(): "writerows" }> & {
    tableId: number;
  };
  const entry = rowsEvent.tableMap[rowsEvent.tableId];
  if (!entry || entry.parentSchema !== database || !tables.has(entry.tableName)) return;
  const table = entry.tableName;
  const name = event.getEventName();
  for (const row of rowsEvent.rows as unknown[]) {
    if (name === "writerows") into.push({ table, before: null, after: row as Row });
    else if (name === "deleterows") into.push({ table, before: row as Row, after: null });
    else {
      const update = row as { before: Row; after: Row };
      into.push({ table, before: update.before, after: update.after });
    }
  }
}

function mentions(statement: string, table: string): boolean {
  const escaped = table.replace(/[$]/g, "\\$");
  return new RegExp(`(^|[\\s.\`(,])${escaped}($|[\\s\`(,;])`, "i").test(statement);
}

/** A stream failure as a shardkit error; a position the server no longer has is BINLOG_GONE. */
function binlogError(error: Error, shard: string, password: string): Error {
  const errno = (error as { errno?: number }).errno;
  if (errno === 1236) {
    return new MoveError(
      "BINLOG_GONE",
      `shard ${shard} no longer has the binlog the move must read from (${error.message}); keep binlogs longer (binlog_expire_logs_seconds), abort the move and start it again`,
      { cause: error },
    );
  }
  return wrapMysqlError(error, `binlog of shard ${shard}`, undefined, password);
}
