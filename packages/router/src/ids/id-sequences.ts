import { type DirectoryClient, ShardkitError } from "@shardkit/directory";
import { describeValue } from "../router-arguments.js";

interface SequenceState {
  next: number;
  end: number;
  pending?: Promise<void>;
}

/**
 * Ids unique across every shard and process: blocks reserved in the directory with one
 * statement, handed out from memory, so most calls cost no query. Ids only increase within
 * one instance.
 */
export class IdSequences {
  readonly #directory: DirectoryClient;
  readonly #blockSize: number;
  readonly #sequences = new Map<string, SequenceState>();

  constructor(directory: DirectoryClient, blockSize: number) {
    this.#directory = directory;
    this.#blockSize = blockSize;
  }

  /** The next id of `sequence`. */
  async next(sequence: string): Promise<number> {
    if (typeof sequence !== "string" || sequence === "") {
      throw new ShardkitError(
        "BAD_ARGUMENT",
        `nextId() needs a sequence name (a string such as "orders"), got ${sequence === "" ? "an empty string" : describeValue(sequence)}`,
      );
    }
    let state = this.#sequences.get(sequence);
    if (!state) {
      state = { next: 0, end: 0 };
      this.#sequences.set(sequence, state);
    }
    while (state.next >= state.end) {
      if (!state.pending) {
        const s = state;
        s.pending = this.#directory.source
          .reserveIds(sequence, this.#blockSize)
          .then((block) => {
            s.next = block.start;
            s.end = block.end;
          })
          .finally(() => {
            s.pending = undefined;
          });
      }
      await state.pending;
    }
    return state.next++;
  }
}
