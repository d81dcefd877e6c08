import type { DirectoryClient } from "@shardkit/directory";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The kinds of work the router counts: a keyed read, a write (`write`/`writeOne`), an `insert`, a scatter. */
export const ROUTER_QUERY_KINDS = ["read", "write", "insert", "scatter"] as const;
/** One of {@link ROUTER_QUERY_KINDS}. */
export type RouterQueryKind = (typeof ROUTER_QUERY_KINDS)[number];

/** Options of the router's metrics (`createRouter({ metrics })`). */
export interface RouterMetricsOptions {
  /** Registers the metrics here (e.g. prom-client's global `register`). Default: a registry of the router's own. */
  readonly registry?: Registry;
  /** Labels added to every metric, e.g. `{ app: "web" }`. Default: none. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A count kept as a plain number on the query path, handed to prom-client when scraped. */
interface Tally {
  readonly labels: { readonly shard: string; readonly kind: string };
  count: number;
  reported: number;
}

/**
 * The router's Prometheus metrics. Queries are counted in plain numbers (a map lookup and an
 * addition on the query path; prom-client's labelled `inc` hashes the labels on every call)
 * and handed to the counter when the registry is scraped.
 */
export class RouterMetrics {
  /** The registry holding the router's metrics; serve `registry.metrics()` on the application's `/metrics`. */
  readonly registry: Registry;
  readonly #errors: Counter<"shard" | "kind" | "code">;
  readonly #fenceRefusals: Counter<"shard">;
  readonly #retries: Counter<"shard" | "reason">;
  readonly #writeSeconds: Histogram<"kind">;
  readonly #fanOut: Histogram;
  readonly #tallies = new Map<string, Tally>();
  readonly #writeHistograms = new Map<string, { observe(v: number): void }>();

  constructor(client: DirectoryClient, options: RouterMetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    if (options.labels) this.registry.setDefaultLabels({ ...options.labels });
    const registers = [this.registry];
    const tallies = this.#tallies;
    new Counter({
      name: "shardkit_router_queries_total",
      help: "Queries the router sent (or handed out, for keyed reads), by shard and kind.",
      labelNames: ["shard", "kind"],
      registers,
      collect() {
        for (const t of tallies.values()) {
          if (t.count === t.reported) continue;
          this.inc(t.labels, t.count - t.reported);
          t.reported = t.count;
        }
      },
    });
    this.#errors = new Counter({
      name: "shardkit_router_errors_total",
      help: "Failed router calls, by shard, kind and shardkit error code.",
      labelNames: ["shard", "kind", "code"],
      registers,
    });
    this.#fenceRefusals = new Counter({
      name: "shardkit_router_fence_refusals_total",
      help: "Writes a shard's ownership fence refused (the router then refreshes and retries).",
      labelNames: ["shard"],
      registers,
    });
    this.#retries = new Counter({
      name: "shardkit_router_write_retries_total",
      help: "Write attempts run again, by the shard refused and reason (fenced or deadlock).",
      labelNames: ["shard", "reason"],
      registers,
    });
    this.#writeSeconds = new Histogram({
      name: "shardkit_router_write_duration_seconds",
      help: "Time of a write, insert included, from the call to its result (retries included).",
      labelNames: ["kind"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#fanOut = new Histogram({
      name: "shardkit_router_scatter_fanout",
      help: "Shards one scatter query ran on.",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    new Gauge({
      name: "shardkit_router_directory_version",
      help: "The directory version the router routes by.",
      registers,
      collect() {
        this.set(client.version);
      },
    });
    new Gauge({
      name: "shardkit_router_directory_age_seconds",
      help: "Seconds since the router's directory source last answered: how stale its map may be.",
      registers,
      collect() {
        this.set(client.status().staleMs / 1000);
      },
    });
  }

  /** Counts one query of `kind` on `shard`. */
  query(shard: string, kind: RouterQueryKind): void {
    const key = `${kind}\u0000${shard}`;
    const tally = this.#tallies.get(key);
    if (tally) tally.count++;
    else this.#tallies.set(key, { labels: { shard, kind }, count: 1, reported: 0 });
  }

  /** Counts one failed call of `kind` on `shard` (`"none"` when it failed before a shard was chosen). */
  error(shard: string, kind: RouterQueryKind, code: string): void {
    this.#errors.inc({ shard, kind, code });
  }

  /** Counts a write the fence of `shard` refused. */
  fenceRefusal(shard: string): void {
    this.#fenceRefusals.inc({ shard });
  }

  /** Counts a write attempt run again. */
  retry(shard: string, reason: "fenced" | "deadlock"): void {
    this.#retries.inc({ shard, reason });
  }

  /** Records how long one write of `kind` took, in seconds. */
  writeSeconds(kind: RouterQueryKind, seconds: number): void {
    let histogram = this.#writeHistograms.get(kind);
    if (!histogram) {
      histogram = this.#writeSeconds.labels({ kind });
      this.#writeHistograms.set(kind, histogram);
    }
    histogram.observe(seconds);
  }

  /** Records the number of shards one scatter ran on. */
  fanOut(shards: number): void {
    this.#fanOut.observe(shards);
  }
}
