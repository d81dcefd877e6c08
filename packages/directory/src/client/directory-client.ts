import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { CredentialResolver } from "../credentials.js";
import type { DirectorySource } from "../store/directory-source.js";
import { openDirectorySource } from "../store/open-directory-source.js";
import { DirectoryMap, type KeyLocation } from "./directory-map.js";

/** Options for {@link DirectoryClient.open}. */
export interface DirectoryClientOptions {
  /** The directory: a source you manage, or a URL the client opens (and closes) itself. */
  readonly directory: DirectorySource | string;
  /** Shard passwords, used when `directory` is a URL. Default: from the environment. */
  readonly credentials?: CredentialResolver;
  /** The directory service's bearer token, when `directory` is an `http(s)://` URL. Default: SHARDKIT_SERVICE_TOKEN. */
  readonly token?: string;
  /**
   * How often to check the directory version, in ms; 0 switches polling off (and watching).
   * Default 1000. A source that can watch (the directory service) is also watched, so a
   * change arrives as soon as the source knows of it.
   */
  readonly pollIntervalMs?: number;
  /** Heartbeat id recorded in the directory; false records none. Default `<host>:<pid>:<random>`. */
  readonly heartbeatId?: string | false;
  /** Called with each failed poll (the client keeps serving its last map). Default: ignore. */
  readonly onError?: (error: unknown) => void;
  /** Called after a new version was loaded. */
  readonly onChange?: (map: DirectoryMap, previous: DirectoryMap) => void;
}

/** How fresh the client's map is. */
export interface DirectoryClientStatus {
  readonly version: number;
  /** When the current map was loaded. */
  readonly loadedAt: Date;
  /** When the directory last answered. */
  readonly lastContactAt: Date;
  /** Milliseconds since the directory last answered: how stale the map may be. */
  readonly staleMs: number;
  /** True when the last poll or refresh failed. */
  readonly unreachable: boolean;
  readonly lastError?: string;
}

/**
 * A caching directory client: loads the whole map once, answers lookups from memory and
 * follows the version by polling. When the directory is unreachable it keeps serving the
 * last map and reports how stale it is.
 *
 * @example
 * const dir = await DirectoryClient.open({ directory: "mysql://root@127.0.0.1:3306/shardkit" });
 * dir.lookup(42); // { ksid, range, shard, pinned }
 */
export class DirectoryClient {
  /** Where the client reads the directory from. */
  readonly source: DirectorySource;
  readonly heartbeatId: string | false;
  #map: DirectoryMap;
  #loadedAt: Date;
  #lastContactAt: Date;
  #lastError: unknown;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<boolean> | undefined;
  #watching: Promise<void> | undefined;
  readonly #stop = new AbortController();
  readonly #ownsSource: boolean;
  /** A refresh to run once the poll under way ends; shared by the callers that asked meanwhile. */
  #queued: Promise<boolean> | undefined;
  readonly #listeners = new Set<(map: DirectoryMap, previous: DirectoryMap) => void>();
  readonly #options: DirectoryClientOptions;

  private constructor(
    source: DirectorySource,
    ownsSource: boolean,
    map: DirectoryMap,
    options: DirectoryClientOptions,
  ) {
    this.source = source;
    this.#ownsSource = ownsSource;
    this.#map = map;
    this.#loadedAt = new Date();
    this.#lastContactAt = this.#loadedAt;
    this.#options = options;
    this.heartbeatId =
      options.heartbeatId === undefined
        ? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`
        : options.heartbeatId;
  }

  /** Connects, loads the map and starts polling; fails if the directory cannot be read now. */
  static async open(options: DirectoryClientOptions): Promise<DirectoryClient> {
    const owns = typeof options.directory === "string";
    const source =
      typeof options.directory === "string"
        ? await openDirectorySource(options.directory, {
            ...(options.credentials ? { credentials: options.credentials } : {}),
            ...(options.token === undefined ? {} : { token: options.token }),
          })
        : options.directory;
    let map: DirectoryMap;
    try {
      map = new DirectoryMap(await source.snapshot());
    } catch (error) {
      if (owns) await source.close();
      throw error;
    }
    const client = new DirectoryClient(source, owns, map, options);
    await client.#heartbeat().catch((e: unknown) => client.#failed(e));
    const every = options.pollIntervalMs ?? 1000;
    if (every > 0) {
      client.#timer = setInterval(() => void client.refresh().catch(() => undefined), every);
      client.#timer.unref();
      if (source.watch) client.#watching = client.#watch(every);
    }
    return client;
  }

  /** The map currently held. */
  get map(): DirectoryMap {
    return this.#map;
  }

  /** The directory version currently held. */
  get version(): number {
    return this.#map.version;
  }

  /** Where `key` lives, from memory. `table` selects that table's key function. */
  lookup(key: unknown, table?: string): KeyLocation {
    return this.#map.lookup(key, table);
  }

  /** Calls `listener` after each new version is loaded; returns a function that unsubscribes. */
  subscribe(listener: (map: DirectoryMap, previous: DirectoryMap) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Checks the version now and reloads the map if it moved; resolves to true when it did. Throws when unreachable. */
  refresh(): Promise<boolean> {
    const underWay = this.#polling;
    if (!underWay) return this.#startPoll();
    // The poll under way may have read the version before this call: the callers that came
    // meanwhile share the one poll that starts after it (and hear of a change either made).
    this.#queued ??= underWay
      .then(
        (changed) => changed,
        () => false,
      )
      .then(async (changed) => {
        this.#queued = undefined;
        return (await (this.#polling ?? this.#startPoll())) || changed;
      });
    return this.#queued;
  }

  #startPoll(): Promise<boolean> {
    const poll = this.#poll().finally(() => {
      this.#polling = undefined;
    });
    this.#polling = poll;
    return poll;
  }

  /** How fresh the map is. */
  status(): DirectoryClientStatus {
    const now = Date.now();
    return {
      version: this.#map.version,
      loadedAt: this.#loadedAt,
      lastContactAt: this.#lastContactAt,
      staleMs: now - this.#lastContactAt.getTime(),
      unreachable: this.#lastError !== undefined,
      ...(this.#lastError === undefined ? {} : { lastError: (this.#lastError as Error).message }),
    };
  }

  /** Stops polling and closes the source if the client opened it. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stop.abort();
    await this.#watching;
    await this.#polling?.catch(() => undefined);
    await this.#queued?.catch(() => undefined);
    if (this.#ownsSource) await this.source.close();
  }

  async #poll(): Promise<boolean> {
    try {
      const version = await this.source.version();
      let changed = false;
      if (version !== this.#map.version) {
        const previous = this.#map;
        this.#map = new DirectoryMap(await this.source.snapshot());
        this.#loadedAt = new Date();
        changed = true;
        this.#options.onChange?.(this.#map, previous);
        for (const listener of this.#listeners) listener(this.#map, previous);
      }
      this.#lastContactAt = new Date();
      this.#lastError = undefined;
      await this.#heartbeat();
      return changed;
    } catch (error) {
      this.#failed(error);
      throw error;
    }
  }

  /** Long-polls a source that can watch; after a failure waits `every` ms (polling goes on meanwhile). */
  async #watch(every: number): Promise<void> {
    const signal = this.#stop.signal;
    const watch = this.source.watch?.bind(this.source);
    if (!watch) return;
    while (!signal.aborted) {
      try {
        const version = await watch(this.#map.version, signal);
        if (version !== this.#map.version && !signal.aborted) await this.refresh();
      } catch {
        if (signal.aborted) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, every);
          signal.addEventListener(
            "abort",
            () => {
              clearTimeout(timer);
              resolve();
            },
            { once: true },
          );
        });
      }
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.heartbeatId === false) return;
    await this.source.recordHeartbeat({
      id: this.heartbeatId,
      host: hostname(),
      pid: process.pid,
      version: this.#map.version,
    });
  }

  #failed(error: unknown): void {
    this.#lastError = error;
    this.#options.onError?.(error);
  }
}
