/** One ORDER BY term of a scatter. */
export interface OrderTerm {
  readonly column: string;
  /** Default `asc`. */
  readonly order?: "asc" | "desc";
}

/** Alias of the collation weight the router selects for each ORDER BY column. */
export function weightAlias(i: number): string {
  return `__shardkit_w${i}`;
}

function isNumericText(v: string): boolean {
  return /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v);
}

/** Compares two column values as MySQL orders them: NULL first, numbers numerically, bytes bytewise. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return Buffer.compare(a, b);
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === "bigint" || typeof b === "bigint") {
    const x = BigInt(a as bigint);
    const y = BigInt(b as bigint);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === "number" && typeof b === "number") return a - b;
  // DECIMAL and BIGINT columns arrive as strings from mysql2.
  if (typeof a === "string" && typeof b === "string" && isNumericText(a) && isNumericText(b)) {
    return Number(a) - Number(b);
  }
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * A row comparator for ORDER BY: each term compares the collation weights MySQL returned
 * (`WEIGHT_STRING`, for text columns) when both rows have one, else the values.
 */
export function rowComparator(
  terms: readonly OrderTerm[],
): (a: Record<string, unknown>, b: Record<string, unknown>) => number {
  return (a, b) => {
    for (let i = 0; i < terms.length; i++) {
      const term = terms[i] as OrderTerm;
      const w = weightAlias(i);
      const wa = a[w];
      const wb = b[w];
      const c =
        Buffer.isBuffer(wa) && Buffer.isBuffer(wb)
          ? Buffer.compare(wa, wb)
          : compareValues(a[term.column], b[term.column]);
      if (c !== 0) return term.order === "desc" ? -c : c;
    }
    return 0;
  };
}

/** Removes the router's helper columns from a row. */
export function stripHelpers<T extends Record<string, unknown>>(row: T): T {
  for (const k of Object.keys(row)) if (k.startsWith("__shardkit_")) delete row[k];
  return row;
}

/** A binary min-heap of one pending row per source; ties go to the lower source index. */
class SourceHeap<T> {
  readonly #items: { row: T; src: number }[] = [];
  readonly #compare: (a: T, b: T) => number;

  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  get size(): number {
    return this.#items.length;
  }

  get top(): { row: T; src: number } | undefined {
    return this.#items[0];
  }

  push(row: T, src: number): void {
    this.#items.push({ row, src });
    this.#up(this.#items.length - 1);
  }

  /** Replaces the top with the next row of the same source, or drops it when that source is done. */
  advance(next: { done?: boolean; value?: T }): void {
    const items = this.#items;
    const top = items[0] as { row: T; src: number };
    if (next.done) {
      const last = items.pop() as { row: T; src: number };
      if (items.length === 0) return;
      items[0] = last;
    } else {
      items[0] = { row: next.value as T, src: top.src };
    }
    this.#down(0);
  }

  #less(i: number, j: number): boolean {
    const a = this.#items[i] as { row: T; src: number };
    const b = this.#items[j] as { row: T; src: number };
    const c = this.#compare(a.row, b.row);
    return c < 0 || (c === 0 && a.src < b.src);
  }

  #swap(i: number, j: number): void {
    const items = this.#items;
    const t = items[i] as { row: T; src: number };
    items[i] = items[j] as { row: T; src: number };
    items[j] = t;
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
    const n = this.#items.length;
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
    const top = heap.top as { row: T; src: number };
    if (skipped < offset) skipped++;
    else {
      yield top.row;
      emitted++;
    }
    heap.advance(await (sources[top.src] as AsyncIterator<T>).next());
  }
}

/** The same merge over rows already fetched: no awaits per row, for pages held in memory. */
export function mergeSortedArrays<T>(
  sources: readonly (readonly T[])[],
  compare: (a: T, b: T) => number,
  offset = 0,
  limit = Number.POSITIVE_INFINITY,
): T[] {
  const heap = new SourceHeap(compare);
  const positions = sources.map(() => 1);
  sources.forEach((rows, src) => {
    if (rows.length > 0) heap.push(rows[0] as T, src);
  });
  const out: T[] = [];
  let skipped = 0;
  while (heap.size > 0 && out.length < limit) {
    const top = heap.top as { row: T; src: number };
    if (skipped < offset) skipped++;
    else out.push(top.row);
    const rows = sources[top.src] as readonly T[];
    const at = positions[top.src] as number;
    positions[top.src] = at + 1;
    heap.advance(at < rows.length ? { value: rows[at] as T } : { done: true });
  }
  return out;
}
