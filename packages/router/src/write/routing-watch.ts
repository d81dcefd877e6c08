// What writes refused by the fence wait on during a cutover: the directory is re-read for all of
// them together, one refresh at a time and at most one every REFRESH_GAP_MS, and every waiting
// write wakes as soon as routing moves to a new directory version, whoever's refresh found it.

/** The least time between the starts of two refreshes for refused writes, in ms. */
export const REFRESH_GAP_MS = 2;

/** Paces directory refreshes for refused writes and wakes them when routing moves. */
export class RoutingWatch {
  readonly #refresh: () => Promise<unknown>;
  #inFlight: Promise<void> | undefined;
  #lastStart = 0;
  readonly #waiters = new Set<() => void>();

  /** `refresh` re-reads the directory and resolves once routing uses what it found. */
  constructor(refresh: () => Promise<unknown>) {
    this.#refresh = refresh;
  }

  /**
   * Refreshes the directory, sharing the refresh in flight, and starting a new one no sooner
   * than REFRESH_GAP_MS after the last began; never rejects (a failed refresh changes nothing).
   */
  refreshSoon(): Promise<void> {
    this.#inFlight ??= this.#run().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Resolves once routing moves to another directory version ({@link moved}), or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#waiters.add(done);
    });
  }

  /** Routing moved to another directory version: wakes every waiting write. */
  moved(): void {
    for (const done of [...this.#waiters]) done();
  }

  async #run(): Promise<void> {
    // A timer may fire a little early by the monotonic clock: wait until the gap has passed.
    for (let early = this.#gapLeft(); early > 0; early = this.#gapLeft())
      await new Promise((r) => setTimeout(r, Math.ceil(early)));
    // The gap runs from after the refresh has begun, so it holds between the starts as the
    // refresh itself sees them, whatever pause comes between reading the clock and the call.
    const refreshing = this.#refresh();
    this.#lastStart = performance.now();
    await refreshing.catch(() => undefined);
  }

  #gapLeft(): number {
    return this.#lastStart + REFRESH_GAP_MS - performance.now();
  }
}
