// What the scatter derives from a caller's query builder (its shape, each shard's compiled SQL),
// remembered so the next run of the same query skips the work: an entry is reused only while
// the builder records exactly the same clauses (compared by value, as plain data) and compiles
// with the same knex client, for the same shard's knex and key. A builder holding anything but
// plain data (a raw, a subquery, a callback, a Date) is worked out every time.
import type { Knex } from "knex";
import { builderClauses, builderClient } from "../knex/knex-internals.js";

/** Entries kept per knex instance (one per shard's reader); the oldest goes first. */
const REMEMBERED = 500;
/** Builders recording more values than this (a long whereIn) are not remembered. */
const MAX_VALUES = 1000;

/** A plain object as remembered: its keys in order and their values. */
class PlainRecord {
  constructor(
    readonly keys: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

/** Marks a value that is not plain data. */
const NOT_PLAIN: unique symbol = Symbol("not plain");

interface Entry<T> {
  readonly client: unknown;
  readonly clauses: unknown;
  readonly value: T;
}

/** Values derived from builders, per knex instance and key, reused while the clauses are unchanged. */
export class ClauseCache {
  readonly #byKnex = new WeakMap<Knex, Map<string, Entry<unknown>>>();

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
    const client = builderClient(qb);
    const clauses = builderClauses(qb);
    const hit = entries?.get(key);
    if (
      hit &&
      hit.client === client &&
      samePlain(hit.clauses, clauses) &&
      (!valid || valid(hit.value as T))
    )
      return hit.value as T;
    const value = derive();
    const budget = { left: MAX_VALUES };
    const copy = copyPlain(clauses, budget);
    if (copy === NOT_PLAIN) {
      entries?.delete(key);
      return value;
    }
    if (!entries) {
      entries = new Map();
      this.#byKnex.set(knex, entries);
    }
    entries.delete(key);
    entries.set(key, { client, clauses: copy, value });
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
