// How two text values compare in their collation, from the weights MySQL computes for them
// (WEIGHT_STRING). MariaDB's weights keep trailing spaces, while a PAD SPACE collation compares
// as if the shorter string were padded with spaces ('a' = 'a ', and 'a\t' < 'a'); so a weight
// is compared as if padded with the weight of one space, and trimmed of it to form a group key.

/** What the merge knows about one collation. */
export interface CollationWeights {
  /** The collation's name, for messages. */
  readonly name: string;
  /** The weight of one space when the collation pads (PAD SPACE); undefined for NO PAD. */
  readonly pad: Buffer | undefined;
  /** False for a PAD SPACE collation with several weight levels, whose weights cannot be padded at the end. */
  readonly mergeable: boolean;
}

/** Compares two weights as the collation compares the strings they came from. */
export function compareWeights(a: Buffer, b: Buffer, pad: Buffer | undefined): number {
  const n = Math.min(a.length, b.length);
  const c = Buffer.compare(a.subarray(0, n), b.subarray(0, n));
  if (c !== 0 || a.length === b.length) return c;
  if (!pad || pad.length === 0) return a.length < b.length ? -1 : 1;
  // The longer one's rest against spaces: its first unit that differs from a space decides.
  const longer = a.length > b.length ? a : b;
  for (let i = n; i < longer.length; i++) {
    const p = pad[(i - n) % pad.length] as number;
    const x = longer[i] as number;
    if (x !== p) return (x < p ? -1 : 1) * (longer === a ? 1 : -1);
  }
  return 0;
}

/** A weight as a group key: equal keys exactly when the collation finds the strings equal. */
export function weightKey(w: Buffer, pad: Buffer | undefined): string {
  let end = w.length;
  if (pad && pad.length > 0) {
    while (end >= pad.length && w.subarray(end - pad.length, end).equals(pad)) end -= pad.length;
  }
  return w.toString("hex", 0, end);
}

/** Runs one read on a shard and returns its rows. */
export type ShardRead = (
  sql: string,
  values: readonly unknown[],
) => Promise<readonly Record<string, unknown>[]>;

/**
 * Asks a shard what a collation's weights look like: whether it pads, the weight of one
 * space, and whether its weights are one level (the weight of 'ab' is that of 'a' then 'b').
 */
export async function probeCollation(read: ShardRead, name: string): Promise<CollationWeights> {
  // A collation's name starts with its character set's (utf8mb4_uca1400_ai_ci), which MariaDB's
  // information_schema.COLLATIONS does not list under that full name.
  const cut = name.indexOf("_");
  const charset = cut > 0 ? name.slice(0, cut) : name;
  // Names from the server, checked before they are written into SQL.
  if (!/^\w+$/.test(name) || !/^[a-z0-9]+$/i.test(charset))
    return { name, pad: undefined, mergeable: false };
  const text = (s: string) => `CONVERT('${s}' USING ${charset}) COLLATE ${name}`;
  const [w] = await read(
    `SELECT WEIGHT_STRING(${text(" ")}) AS sp, WEIGHT_STRING(${text("a")}) AS a, WEIGHT_STRING(${text("b")}) AS b, WEIGHT_STRING(${text("ab")}) AS ab, ${text("a")} = ${text("a ")} AS padded`,
    [],
  );
  const bytes = (v: unknown) => (Buffer.isBuffer(v) ? v : Buffer.alloc(0));
  const oneLevel = bytes(w?.ab).equals(Buffer.concat([bytes(w?.a), bytes(w?.b)]));
  const padded = Number(w?.padded) === 1;
  return {
    name,
    pad: padded ? bytes(w?.sp) : undefined,
    mergeable: !padded || (oneLevel && bytes(w?.sp).length > 0),
  };
}
