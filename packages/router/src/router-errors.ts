import { ShardkitError } from "@shardkit/directory";

/** Codes of router errors; check `code`, never the message. */
export const ROUTER_ERROR_CODES = [
  "NO_OWNER",
  "FENCED",
  "SHARD_UNAVAILABLE",
  "CROSS_SHARD",
  "DEADLINE_EXCEEDED",
  "ROUTER_CLOSED",
] as const;
/** One of {@link ROUTER_ERROR_CODES}. */
export type RouterErrorCode = (typeof ROUTER_ERROR_CODES)[number];

/** What a router error is about: the shard, the key range, the cause. Never a password. */
export interface RouterErrorFacts {
  readonly shard?: string;
  /** The key range in CLI notation, e.g. `40-80`. */
  readonly range?: string;
  readonly ksid?: string;
  readonly cause?: unknown;
  readonly [fact: string]: unknown;
}

/** A routing failure with a stable code and the facts a person needs. */
export class RouterError extends ShardkitError {
  declare readonly code: RouterErrorCode;
  readonly shard: string | undefined;
  readonly range: string | undefined;
  constructor(code: RouterErrorCode, message: string, facts: RouterErrorFacts = {}) {
    const { cause, ...details } = facts;
    super(code, message, { details, cause });
    this.name = "RouterError";
    this.shard = facts.shard;
    this.range = facts.range;
  }
}

/** One shard's failure within a scatter. */
export interface ShardFailure {
  readonly shard: string;
  readonly error: Error;
}

/** A scatter where some shards failed: names each shard and why. */
export class ScatterError extends RouterError {
  readonly failures: readonly ShardFailure[];
  constructor(failures: readonly ShardFailure[]) {
    super(
      "SHARD_UNAVAILABLE",
      `scatter failed on ${failures.length} shard(s): ${failures.map((f) => `${f.shard} (${f.error.message})`).join("; ")}; retry, or pass allowPartial to take the rows of the other shards`,
      { shards: failures.map((f) => f.shard) },
    );
    this.name = "ScatterError";
    this.failures = failures;
  }
}
