import type { BinlogItem, BinlogSource } from "../binlog/binlog-source.js";

/**
 * Reads a binlog source one item at a time with a wait limit, and lets the applier look at the
 * next item before taking it (to stop exactly at a position).
 */
export class BinlogReader {
  readonly #iterator: AsyncIterator<BinlogItem>;
  readonly #source: BinlogSource;
  #pending: Promise<IteratorResult<BinlogItem>> | null = null;
  #next: BinlogItem | null = null;
  #ended = false;

  constructor(source: BinlogSource) {
    this.#source = source;
    this.#iterator = source[Symbol.asyncIterator]();
  }

  /** The next item without taking it, waiting at most `waitMs`; null when none came in time. */
  async peek(waitMs: number): Promise<BinlogItem | null> {
    if (this.#next) return this.#next;
    if (this.#ended) return null;
    this.#pending ??= this.#iterator.next();
    const pending = this.#pending;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), waitMs);
    });
    try {
      const result = await Promise.race([pending, timeout]);
      if (result === "timeout") return null;
      this.#pending = null;
      if (result.done) {
        this.#ended = true;
        return null;
      }
      this.#next = result.value;
      return this.#next;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Takes the item {@link peek} returned. */
  take(): void {
    this.#next = null;
  }

  /** Stops the stream. */
  async close(): Promise<void> {
    await this.#source.close();
    // The iterator's own cleanup runs when its pending read settles.
    this.#pending?.catch(() => undefined);
  }
}
