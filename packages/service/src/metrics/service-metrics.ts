import type { DirectoryClient } from "@shardkit/directory";
import { Counter, Gauge, Registry } from "prom-client";

/** The service's Prometheus metrics, in a registry of its own (served at `/metrics`). */
export class ServiceMetrics {
  readonly registry = new Registry();
  /** Counts kept as plain numbers per request, handed to the counters when scraped. */
  readonly #requestTallies = new Map<string, Tally<"route" | "method" | "status">>();
  readonly #lookupTallies = new Map<string, Tally<"kind">>();
  readonly #authFailures: Counter;
  readonly #watchers: Gauge;

  constructor(client: DirectoryClient) {
    const registers = [this.registry];
    const requestTallies = this.#requestTallies;
    const lookupTallies = this.#lookupTallies;
    new Counter({
      name: "shardkit_service_requests_total",
      help: "HTTP requests answered, by route (the path pattern), method and status code.",
      labelNames: ["route", "method", "status"],
      registers,
      collect() {
        flush(this, requestTallies);
      },
    });
    new Counter({
      name: "shardkit_service_lookups_total",
      help: "Keys routed (rate() gives lookups/s), by kind: single (GET) or batch (POST).",
      labelNames: ["kind"],
      registers,
      collect() {
        flush(this, lookupTallies);
      },
    });
    this.#authFailures = new Counter({
      name: "shardkit_service_auth_failures_total",
      help: "Requests refused with 401: a missing or wrong bearer token.",
      registers,
    });
    this.#watchers = new Gauge({
      name: "shardkit_service_watchers",
      help: "Watch requests waiting for a directory change now.",
      registers,
    });
    new Gauge({
      name: "shardkit_service_directory_version",
      help: "The directory version the service holds.",
      registers,
      collect() {
        this.set(client.version);
      },
    });
    new Gauge({
      name: "shardkit_service_directory_age_seconds",
      help: "Seconds since the directory database last answered: how stale the served map may be.",
      registers,
      collect() {
        this.set(client.status().staleMs / 1000);
      },
    });
    new Gauge({
      name: "shardkit_service_directory_reachable",
      help: "1 when the last check of the directory database succeeded, 0 when it failed.",
      registers,
      collect() {
        this.set(client.status().unreachable ? 0 : 1);
      },
    });
  }

  /** Counts one answered request. */
  request(route: string, method: string, status: number): void {
    const key = `${route} ${method} ${status}`;
    const tally = this.#requestTallies.get(key);
    if (tally) tally.count++;
    else {
      this.#requestTallies.set(key, {
        labels: { route, method, status: String(status) },
        count: 1,
        reported: 0,
      });
    }
  }

  /** Counts routed keys. */
  lookups(kind: "single" | "batch", n: number): void {
    const tally = this.#lookupTallies.get(kind);
    if (tally) tally.count += n;
    else this.#lookupTallies.set(kind, { labels: { kind }, count: n, reported: 0 });
  }

  /** Counts a request refused for its token. */
  authFailure(): void {
    this.#authFailures.inc();
  }

  /** One more (+1) or one fewer (-1) waiting watcher. */
  watcher(delta: 1 | -1): void {
    this.#watchers.inc(delta);
  }
}

interface Tally<L extends string> {
  readonly labels: Record<L, string>;
  count: number;
  reported: number;
}

function flush<L extends string>(counter: Counter<L>, tallies: Map<string, Tally<L>>): void {
  for (const t of tallies.values()) {
    if (t.count === t.reported) continue;
    counter.inc(t.labels as Partial<Record<L, string>>, t.count - t.reported);
    t.reported = t.count;
  }
}
