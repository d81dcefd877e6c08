import { type ColumnOrder, compareCells } from "./column-kinds.js";

/** The directions of an ORDER BY term. */
export const ORDER_DIRECTIONS = ["asc", "desc"] as const;

/** One ORDER BY term of a scatter: a column, `table.column` or an alias of the result. */
export interface OrderTerm {
  readonly column: string;
  /** Default `asc`. */
  readonly order?: (typeof ORDER_DIRECTIONS)[number];
}

/** How a row comparator reads one ORDER BY term. */
export interface SortKey<R> {
  readonly order: ColumnOrder;
  readonly desc: boolean;
  value(row: R): unknown;
  weight(row: R): unknown;
}

/** A comparator that orders rows by `keys` as MySQL's ORDER BY does (NULL first ascending). */
export function rowComparator<R>(keys: readonly SortKey<R>[]): (a: R, b: R) => number {
  const compares = keys.map((k) => {
    const c = keyComparator(k);
    return k.desc ? (a: R, b: R) => -c(a, b) : c;
  });
  if (compares.length === 1) return compares[0] as (a: R, b: R) => number;
  return (a, b) => {
    for (const c of compares) {
      const r = c(a, b);
      if (r !== 0) return r;
    }
    return 0;
  };
}

/** One term's comparator; numbers that JS holds exactly compare without the general path. */
function keyComparator<R>(k: SortKey<R>): (a: R, b: R) => number {
  const { order, value, weight } = k;
  switch (order.kind) {
    case "integer":
    case "float":
      return (a, b) => {
        const x = value(a);
        const y = value(b);
        if (typeof x === "number" && typeof y === "number") return x < y ? -1 : x > y ? 1 : 0;
        return compareCells(order, x, undefined, y, undefined);
      };
    case "text":
    case "temporal":
      return (a, b) => compareCells(order, value(a), weight(a), value(b), weight(b));
    default:
      return (a, b) => compareCells(order, value(a), undefined, value(b), undefined);
  }
}

/** Removes the router's helper columns from a row. */
export function stripHelpers<T extends Record<string, unknown>>(row: T): T {
  for (const k of Object.keys(row)) if (k.startsWith("__shardkit_")) delete row[k];
  return row;
}

/**
 * A binary min-heap of one pending row per source; ties go to the lower source index. It holds
 * source indices, and each source's pending row in a slot of its own, so moving rows through
 * it allocates nothing.
 */
class SourceHeap<T> {
  readonly #heap: number[] = [];
  readonly #pending: T[] = [];
  readonly #compare: (a: T, b: T) => number;

  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** The source whose pending row comes first (only when size > 0). */
  get topSource(): number {
    return this.#heap[0] as number;
  }

  /** The row that comes first (only when size > 0). */
  get topRow(): T {
    return this.#pending[this.#heap[0] as number] as T;
  }

  push(row: T, src: number): void {
    this.#pending[src] = row;
    this.#heap.push(src);
    this.#up(this.#heap.length - 1);
  }

  /** Replaces the top with the next row of the same source. */
  replaceTop(row: T): void {
    this.#pending[this.#heap[0] as number] = row;
    this.#down(0);
  }

  /** Drops the top, whose source is done. */
  popTop(): void {
    const heap = this.#heap;
    const last = heap.pop() as number;
    if (heap.length === 0) return;
    heap[0] = last;
    this.#down(0);
  }

  #less(i: number, j: number): boolean {
    const a = this.#heap[i] as number;
    const b = this.#heap[j] as number;
    const c = this.#compare(this.#pending[a] as T, this.#pending[b] as T);
    return c < 0 || (c === 0 && a < b);
  }

  #swap(i: number, j: number): void {
    const heap = this.#heap;
    const t = heap[i] as number;
    heap[i] = heap[j] as number;
    heap[j] = t;
  }

  #up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) return;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const n = this.#heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#less(l, m)) m = l;
      if (r < n && this.#less(r, m)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}

/**
 * Merges sorted async streams into one sorted stream (a k-way merge over a binary heap),
 * skipping `offset` rows and stopping after `limit`. Holds one row per source at a time.
 */
export async function* mergeSorted<T>(
  sources: readonly AsyncIterator<T>[],
  compare: (a: T, b: T) => number,
  offset = 0,
  limit = Number.POSITIVE_INFINITY,
): AsyncGenerator<T> {
  const heap = new SourceHeap(compare);
  const firsts = await Promise.all(sources.map((s) => s.next()));
  firsts.forEach((res, src) => {
    if (!res.done) heap.push(res.value, src);
  });
  let skipped = 0;
  let emitted = 0;
  while (heap.size > 0 && emitted < limit) {
    const src = heap.topSource;
    if (skipped < offset) skipped++;
    else {
      yield heap.topRow;
      emitted++;
    }
    const next = await (sources[src] as AsyncIterator<T>).next();
    if (next.done) heap.popTop();
    else heap.replaceTop(next.value);
  }
}

/** The same merge over rows already fetched: no awaits and no allocations per row. */
export function mergeSortedArrays<T>(
  sources: readonly (readonly T[])[],
  compare: (a: T, b: T) => number,
  offset = 0,
  limit = Number.POSITIVE_INFINITY,
): T[] {
  const heap = new SourceHeap(compare);
  const positions: number[] = [];
  for (let src = 0; src < sources.length; src++) {
    const rows = sources[src] as readonly T[];
    positions.push(1);
    if (rows.length > 0) heap.push(rows[0] as T, src);
  }
  const out: T[] = [];
  let skipped = 0;
  while (heap.size > 0 && out.length < limit) {
    const src = heap.topSource;
    if (skipped < offset) skipped++;
    else out.push(heap.topRow);
    const rows = sources[src] as readonly T[];
    const at = positions[src] as number;
    if (at < rows.length) {
      positions[src] = at + 1;
      heap.replaceTop(rows[at] as T);
    } else heap.popTop();
  }
  return out;
}
