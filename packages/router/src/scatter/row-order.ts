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
  const heap: { row: T; src: number }[] = [];
  const less = (i: number, j: number) => {
    const c = compare((heap[i] as { row: T }).row, (heap[j] as { row: T }).row);
    return (
      c < 0 || (c === 0 && (heap[i] as { src: number }).src < (heap[j] as { src: number }).src)
    );
  };
  const swap = (i: number, j: number) => {
    const t = heap[i] as { row: T; src: number };
    heap[i] = heap[j] as { row: T; src: number };
    heap[j] = t;
  };
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(i, p)) break;
      swap(i, p);
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(l, m)) m = l;
      if (r < heap.length && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  const firsts = await Promise.all(sources.map((s) => s.next()));
  firsts.forEach((res, src) => {
    if (!res.done) {
      heap.push({ row: res.value, src });
      up(heap.length - 1);
    }
  });
  let skipped = 0;
  let emitted = 0;
  while (heap.length > 0 && emitted < limit) {
    const top = heap[0] as { row: T; src: number };
    if (skipped < offset) skipped++;
    else {
      yield top.row;
      emitted++;
    }
    const next = await (sources[top.src] as AsyncIterator<T>).next();
    if (next.done) {
      const last = heap.pop() as { row: T; src: number };
      if (heap.length > 0) {
        heap[0] = last;
        down(0);
      }
    } else {
      heap[0] = { row: next.value, src: top.src };
      down(0);
    }
  }
}
