import type { ShardedTable, ShardRecord } from "@shardkit/directory";
import { BinlogReader } from "../apply/binlog-reader.js";
import { CatchUp } from "../apply/catch-up.js";
import { CREATE_MARKER_TABLE, MARKER_TABLE, MarkerClock } from "../apply/marker-clock.js";
import { RowWriter } from "../apply/row-writer.js";
import type { BinlogSource, BinlogSourceOptions } from "../binlog/binlog-source.js";
import { openZongjiBinlogSource } from "../binlog/zongji-binlog-source.js";
import {
  openShardConnection,
  type ShardConnection,
  type ShardConnectOptions,
  type ShardLoginResolver,
} from "../connection/shard-connection.js";
import { type CopyProgress, copyTable } from "../copy/table-copier.js";
import {
  ensureProgressTables,
  inTransaction,
  loadProgress,
  savePosition,
  type TargetProgress,
} from "../copy/target-progress.js";
import { detectFlavour } from "../flavour/detect-flavour.js";
import type { ServerFlavour } from "../flavour/server-flavour.js";
import { MoveError } from "../move-error.js";
import type { RowSelector } from "../rows/row-selector.js";
import { readTableSchemas, type TableSchema } from "../rows/table-schema.js";

/** Opens a binlog source (the zongji one by default; tests and other clients may pass another). */
export type BinlogOpener = (
  connect: ShardConnectOptions,
  shard: string,
  options: BinlogSourceOptions,
) => BinlogSource;

/** What a session of a move works on. */
export interface MoveSessionOptions {
  readonly moveId: string;
  readonly source: ShardRecord;
  readonly target: ShardRecord;
  readonly login: ShardLoginResolver;
  readonly tables: readonly ShardedTable[];
  readonly selector: RowSelector;
  /** Source rows read by a table's first copy chunk. Default 1000. */
  readonly chunkSize?: number;
  /** Copy chunks then aim at this many ms each (0: all `chunkSize`). Default 0. */
  readonly chunkTimeMs?: number;
  /** Row changes per applier transaction. Default 1000. */
  readonly batchRows?: number;
  readonly openBinlog?: BinlogOpener;
}

/**
 * One run of a move against its two shards: the connections, the source's table definitions,
 * the progress kept on the target, the binlog stream and the applier. Every phase of the
 * workflow works through a session; `close()` ends it (the progress stays on the target).
 */
export class MoveSession {
  readonly options: MoveSessionOptions;
  readonly source: ShardConnection;
  readonly target: ShardConnection;
  /** A second source session for markers and reads of committed rows (never inside a snapshot). */
  readonly sourceWriter: ShardConnection;
  readonly flavour: ServerFlavour;
  readonly schemas: ReadonlyMap<string, TableSchema>;
  readonly progress: TargetProgress;
  readonly markers: MarkerClock;
  readonly writer: RowWriter;
  #helper: ShardConnection | null = null;
  #reader: BinlogReader | null = null;
  #catchUp: CatchUp | null = null;

  private constructor(
    options: MoveSessionOptions,
    connections: {
      source: ShardConnection;
      target: ShardConnection;
      sourceWriter: ShardConnection;
    },
    flavour: ServerFlavour,
    schemas: ReadonlyMap<string, TableSchema>,
    progress: TargetProgress,
  ) {
    this.options = options;
    this.source = connections.source;
    this.target = connections.target;
    this.sourceWriter = connections.sourceWriter;
    this.flavour = flavour;
    this.schemas = schemas;
    this.progress = progress;
    this.markers = new MarkerClock(this.sourceWriter, options.moveId);
    this.writer = new RowWriter(
      this.target,
      this.sourceWriter,
      flavour,
      options.selector,
      options.target.name,
    );
  }

  /**
   * Connects to both shards, reads the tables' definitions from the source (refusing tables
   * without a primary key or key column) and prepares the progress and marker tables.
   */
  static async open(options: MoveSessionOptions): Promise<MoveSession> {
    const opened: ShardConnection[] = [];
    try {
      const open = async (shard: ShardRecord) => {
        const conn = await openShardConnection(shard, options.login(shard));
        opened.push(conn);
        return conn;
      };
      const source = await open(options.source);
      const sourceWriter = await open(options.source);
      const target = await open(options.target);
      const flavour = await detectFlavour(source);
      const { schemas, problems } = await readTableSchemas(
        source,
        options.source.name,
        options.tables,
      );
      const problem = problems[0];
      if (problem)
        throw new MoveError(problem.code, problem.message, { details: { table: problem.table } });
      await ensureProgressTables(target);
      await sourceWriter.execute(CREATE_MARKER_TABLE);
      const progress = await loadProgress(target, options.moveId);
      const session = new MoveSession(
        options,
        { source, target, sourceWriter },
        flavour,
        schemas,
        progress,
      );
      await session.markers.resume();
      return session;
    } catch (error) {
      await Promise.all(opened.map((c) => c.close()));
      throw error;
    }
  }

  /** The applier, once {@link startStream} ran. */
  get catchUp(): CatchUp {
    if (!this.#catchUp)
      throw new MoveError("INTERNAL", "the binlog stream is not started; report this");
    return this.#catchUp;
  }

  /**
   * Starts streaming the source's binlog from the position the target recorded, or from now
   * when none is recorded yet (then recorded first, before anything is copied).
   */
  async startStream(): Promise<void> {
    if (this.#catchUp) return;
    if (!this.progress.position) {
      const now = await this.flavour.currentPosition(this.sourceWriter, this.options.source.name);
      await inTransaction(this.target, () =>
        savePosition(this.target, this.options.moveId, now, this.progress.eventsApplied),
      );
      this.progress.position = now;
    }
    const open = this.options.openBinlog ?? openZongjiBinlogSource;
    const source = open(this.source.options, this.options.source.name, {
      start: this.progress.position,
      database: this.options.source.database,
      tables: [...this.schemas.keys(), MARKER_TABLE],
    });
    this.#reader = new BinlogReader(source);
    this.#catchUp = new CatchUp({
      moveId: this.options.moveId,
      target: this.target,
      writer: this.writer,
      selector: this.options.selector,
      schemas: this.schemas,
      progress: this.progress,
      reader: this.#reader,
      markers: this.markers,
      ...(this.options.batchRows ? { batchRows: this.options.batchRows } : {}),
    });
  }

  /** Copies every table not copied yet, in name order. */
  async copy(
    onProgress?: (p: CopyProgress) => void,
    signal?: AbortSignal,
    throttle?: () => Promise<void>,
  ): Promise<void> {
    await this.startStream();
    for (const table of [...this.schemas.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      await copyTable(
        {
          moveId: this.options.moveId,
          shard: this.options.source.name,
          source: this.source,
          sourceHelper: () => this.sourceHelper(),
          target: this.target,
          flavour: this.flavour,
          selector: this.options.selector,
          writer: this.writer,
          catchUp: this.catchUp,
          progress: this.progress,
          chunkSize: this.options.chunkSize ?? 1000,
          chunkTimeMs: this.options.chunkTimeMs ?? 0,
          ...(signal ? { signal } : {}),
          ...(throttle ? { throttle } : {}),
          ...(onProgress ? { onProgress } : {}),
        },
        table,
      );
    }
  }

  /**
   * Writes a marker on the source and applies until the target has it: every change committed
   * on the source before this call is then on the target. Returns the measured lag in ms.
   */
  async catchUpNow(timeoutMs: number, signal?: AbortSignal): Promise<number> {
    await this.startStream();
    const seq = await this.markers.write();
    const deadline = performance.now() + timeoutMs;
    while (!this.markers.isApplied(seq)) {
      signal?.throwIfAborted();
      if (performance.now() > deadline) {
        throw new MoveError(
          "DEADLINE_EXCEEDED",
          `the target did not catch up with the source within ${timeoutMs} ms; retry (resume continues where it stopped)`,
        );
      }
      await this.catchUp.step(20);
    }
    return this.markers.lagMs();
  }

  /** A third source session, opened on first use (MySQL locks a table there while a snapshot starts). */
  async sourceHelper(): Promise<ShardConnection> {
    this.#helper ??= await openShardConnection(
      this.options.source,
      this.options.login(this.options.source),
    );
    return this.#helper;
  }

  /** Stops the stream and closes every connection; the progress stays on the target. */
  async close(): Promise<void> {
    await this.#reader?.close().catch(() => undefined);
    await Promise.all(
      [this.source, this.sourceWriter, this.target, this.#helper].map((c) => c?.close()),
    );
  }
}
