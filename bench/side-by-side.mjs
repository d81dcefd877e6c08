// Timing two operations side by side, the way every ratio in the benchmarks is measured.

/**
 * Runs A and B `n` times each, interleaved one operation at a time (A B, then B A, ...), so
 * both see the same server state (buffer pool, log flushes, other load), and returns the
 * median time per operation of each, in ms.
 * @param {(i: number) => Promise<unknown>} a
 * @param {(i: number) => Promise<unknown>} b
 * @param {number} n
 * @returns {Promise<{ a: number, b: number }>}
 */
export async function sideBySide(a, b, n) {
  /** @type {number[]} */
  const ta = [];
  /** @type {number[]} */
  const tb = [];
  /** @param {(i: number) => Promise<unknown>} fn @param {number} i @param {number[]} into */
  const timed = async (fn, i, into) => {
    const t0 = process.hrtime.bigint();
    const own = /** @type {{ timedNs?: number } | undefined} */ (await fn(i));
    // An operation that returns { timedNs } timed its own part, leaving out its set-up.
    const ns = own?.timedNs ?? Number(process.hrtime.bigint() - t0);
    into.push(ns / 1e6);
  };
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      await timed(a, i, ta);
      await timed(b, i, tb);
    } else {
      await timed(b, i, tb);
      await timed(a, i, ta);
    }
  }
  const median = (/** @type {number[]} */ xs) =>
    /** @type {number} */ ([...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]);
  return { a: median(ta), b: median(tb) };
}

/**
 * One side-by-side pair's figures: routed and baseline median in ms, their ratio, the target.
 * @param {{ a: number, b: number }} pair routed (a) and baseline (b), from `sideBySide`
 * @param {number} [target]
 */
export function figures(pair, target) {
  return {
    routedMs: pair.a,
    plainMs: pair.b,
    ratio: pair.a / pair.b,
    ...(target === undefined ? {} : { target }),
  };
}
