import { isErrorCode } from "../../errors/error-codes.js";
import { ShardkitError } from "../../errors/shardkit-error.js";
import type { DirectorySnapshot, RouterHeartbeat } from "../../model.js";
import type { DirectorySource, IdBlock } from "../directory-source.js";
import { decodeHeartbeat, decodeSnapshot, type WireHeartbeat } from "./directory-wire.js";

/** Options of {@link HttpDirectorySource}. */
export interface HttpDirectorySourceOptions {
  /** The service's base URL, e.g. `http://127.0.0.1:7420`. Required. */
  readonly url: string;
  /** The service's bearer token. Default: SHARDKIT_SERVICE_TOKEN from the environment; none when unset. */
  readonly token?: string;
  /** Milliseconds a request (other than a watch) may take. Default 5000. */
  readonly timeoutMs?: number;
  /** Seconds a watch waits for a change before the service answers unchanged. Default 30. */
  readonly watchTimeoutSeconds?: number;
}

/**
 * The directory read through the directory service (`shardkit directory serve`) instead of its
 * database, so application processes need no directory credentials. Implements `watch`, so the
 * caching client learns of a new version as soon as the service does.
 */
export class HttpDirectorySource implements DirectorySource {
  readonly location: string;
  readonly #base: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #watchTimeoutSeconds: number;
  readonly #closed = new AbortController();

  constructor(options: HttpDirectorySourceOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (error) {
      throw new ShardkitError(
        "BAD_URL",
        `cannot read "${options.url}" as the directory service's URL; give e.g. http://127.0.0.1:7420`,
        { cause: error },
      );
    }
    url.username = "";
    url.password = "";
    url.search = "";
    url.hash = "";
    this.#base = url.toString().replace(/\/+$/, "");
    this.location = this.#base;
    const token = options.token ?? process.env.SHARDKIT_SERVICE_TOKEN;
    this.#token = token === "" ? undefined : token;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#watchTimeoutSeconds = options.watchTimeoutSeconds ?? 30;
  }

  async snapshot(): Promise<DirectorySnapshot> {
    return decodeSnapshot(await this.#request("GET", "/v1/snapshot"), this.location);
  }

  async version(): Promise<number> {
    return ((await this.#request("GET", "/v1/version")) as { version: number }).version;
  }

  /** Waits until the service holds a version other than `since` (or its timeout) and returns the version it holds. */
  async watch(since: number, signal?: AbortSignal): Promise<number> {
    const path = `/v1/watch?since=${since}&timeout=${this.#watchTimeoutSeconds}`;
    const body = await this.#request("GET", path, undefined, {
      timeoutMs: (this.#watchTimeoutSeconds + 10) * 1000,
      ...(signal ? { signal } : {}),
    });
    return (body as { version: number }).version;
  }

  async recordHeartbeat(heartbeat: Omit<RouterHeartbeat, "lastSeen">): Promise<void> {
    await this.#request("POST", "/v1/heartbeats", heartbeat);
  }

  async listHeartbeats(): Promise<readonly RouterHeartbeat[]> {
    const body = (await this.#request("GET", "/v1/heartbeats")) as {
      heartbeats: WireHeartbeat[];
    };
    return body.heartbeats.map(decodeHeartbeat);
  }

  async reserveIds(sequence: string, count: number): Promise<IdBlock> {
    return (await this.#request("POST", "/v1/ids", { sequence, count })) as IdBlock;
  }

  async close(): Promise<void> {
    this.#closed.abort();
  }

  async #request(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    options: { readonly timeoutMs?: number; readonly signal?: AbortSignal } = {},
  ): Promise<unknown> {
    const signals = [
      this.#closed.signal,
      AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs),
    ];
    if (options.signal) signals.push(options.signal);
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method,
        headers,
        signal: AbortSignal.any(signals),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new ShardkitError(
        "DIRECTORY_UNAVAILABLE",
        `the directory service at ${this.location} did not answer ${method} ${path.split("?")[0]} (${(error as Error).message}); check that shardkit directory serve runs there`,
        { cause: error, details: { location: this.location } },
      );
    }
    const text = await response.text().catch(() => "");
    let parsed: unknown;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok && parsed !== undefined) return parsed;
    throw this.#failure(response.status, parsed);
  }

  #failure(status: number, body: unknown): ShardkitError {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const details = { location: this.location, status };
    if (status === 401) {
      return new ShardkitError(
        "UNAUTHORIZED",
        `the directory service at ${this.location} refused the token (401); pass the service's token as { token } or set SHARDKIT_SERVICE_TOKEN`,
        { details },
      );
    }
    if (error && isErrorCode(error.code) && typeof error.message === "string") {
      return new ShardkitError(error.code, error.message, { details });
    }
    return new ShardkitError(
      "DIRECTORY_UNAVAILABLE",
      `the directory service at ${this.location} answered HTTP ${status} without a shardkit error; check that the URL names shardkit directory serve`,
      { details },
    );
  }
}
