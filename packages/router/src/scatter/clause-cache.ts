// What the scatter derives from a caller's query builder (its shape, each shard's compiled SQL),
// remembered so the next run of the same query skips the work: an entry is reused only while
// the builder records exactly the same clauses (compared by value, as plain data) and compiles
// with the same knex client, for the same shard's knex and key. A builder holding anything but
// plain data (a raw, a subquery, a callback, a Date) is worked out every time, and so is one
// whose values change from run to run (a cursor, a tenant id), without comparing or copying
// most of the time.
import type { Knex } from "knex";
import { builderClauses, builderClient } from "../knex/knex-internals.js";

/** Entries kept per knex instance (one per shard's reader); the oldest goes first. */
const REMEMBERED = 500;
/** Builders recording more values than this (a long whereIn) are not remembered. */
const MAX_VALUES = 1000;
/**
 * After this many runs in a row that could not reuse a key's entry, the next PAUSED_RUNS runs
 * of the key are worked out without comparing or copying.
 */
const MISSES_BEFORE_PAUSE = 4;
const PAUSED_RUNS = 64;

/** A plain object as remembered: its keys in order and their values. */
class PlainRecord {
  constructor(
    readonly keys: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

/** Marks a value that is not plain data. */
const NOT_PLAIN: unique symbol = Symbol("not plain");

/** One key's remembered value, or a pause when its builders keep changing. */
class Entry {
  /** Runs in a row that could not reuse the value. */
  misses = 0;
  /** Runs still to go without comparing. */
  paused = 0;

  constructor(
    public client: unknown,
    /** A copy of the clauses, or NOT_PLAIN when they could not be copied. */
    public clauses: unknown,
    public value: unknown,
  ) {}
}

/** Values derived from builders, per knex instance and key, reused while the clauses are unchanged. */
export class ClauseCache {
  readonly #byKnex = new WeakMap<Knex, Map<string, Entry>>();

  /**
   * The value `derive` gave for a builder with the same clauses as `qb` under `key` (when
   * `valid` accepts it), or `derive()` now, remembered when `qb` holds plain data only.
   * `derive` must depend only on `knex`, `key`, the clauses of `qb` and what `valid` checks.
   */
  get<T>(
    knex: Knex,
    key: string,
    qb: Knex.QueryBuilder,
    derive: () => T,
    valid?: (value: T) => boolean,
  ): T {
    let entries = this.#byKnex.get(knex);
    const entry = entries?.get(key);
    if (entry && entry.paused > 0) {
      entry.paused--;
      return derive();
    }
    const client = builderClient(qb);
    const clauses = builderClauses(qb);
    if (
      entry &&
      entry.client === client &&
      samePlain(entry.clauses, clauses) &&
      (!valid || valid(entry.value as T))
    ) {
      entry.misses = 0;
      return entry.value as T;
    }
    const value = derive();
    const copy = copyPlain(clauses, { left: MAX_VALUES });
    if (entry) {
      entry.client = client;
      entry.clauses = copy;
      entry.value = value;
      // Builders that keep changing, or are not plain data, will likely do so next time too.
      if (++entry.misses >= MISSES_BEFORE_PAUSE || copy === NOT_PLAIN) entry.paused = PAUSED_RUNS;
      return value;
    }
    if (!entries) {
      entries = new Map();
      this.#byKnex.set(knex, entries);
    }
    const fresh = new Entry(client, copy, value);
    if (copy === NOT_PLAIN) fresh.paused = PAUSED_RUNS;
    entries.set(key, fresh);
    if (entries.size > REMEMBERED) entries.delete(entries.keys().next().value as string);
    return value;
  }
}

/** True for an object knex records as data: an array or an object with no class. */
function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A copy of `v` when it is plain data (primitives, arrays, plain objects) within `budget`. */
export function copyPlain(v: unknown, budget: { left: number }): unknown {
  if (--budget.left < 0) return NOT_PLAIN;
  if (typeof v === "function") return NOT_PLAIN;
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype) return NOT_PLAIN;
    const out: unknown[] = [];
    for (const x of v) {
      const c = copyPlain(x, budget);
      if (c === NOT_PLAIN) return NOT_PLAIN;
      out.push(c);
    }
    return out;
  }
  if (!isPlainObject(v)) return NOT_PLAIN;
  const keys: string[] = [];
  const values: unknown[] = [];
  for (const k of Object.keys(v)) {
    const c = copyPlain((v as Record<string, unknown>)[k], budget);
    if (c === NOT_PLAIN) return NOT_PLAIN;
    keys.push(k);
    values.push(c);
  }
  return new PlainRecord(keys, values);
}

/** True when `v` is plain data equal to the copy `copy`: same values, same keys in the same order. */
export function samePlain(copy: unknown, v: unknown): boolean {
  if (copy instanceof PlainRecord) {
    if (typeof v !== "object" || v === null || Array.isArray(v) || !isPlainObject(v)) return false;
    const { keys, values } = copy;
    let i = 0;
    for (const k in v) {
      if (k !== keys[i] || !samePlain(values[i], (v as Record<string, unknown>)[k])) return false;
      i++;
    }
    return i === keys.length;
  }
  if (Array.isArray(copy)) {
    if (!Array.isArray(v) || v.length !== copy.length) return false;
    if (Object.getPrototypeOf(v) !== Array.prototype) return false;
    for (let i = 0; i < copy.length; i++) if (!samePlain(copy[i], v[i])) return false;
    return true;
  }
  return Object.is(copy, v);
}
