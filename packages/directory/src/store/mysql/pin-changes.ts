import { DirectoryError } from "../../errors/directory-error.js";
import { ShardKeyError } from "../../errors/shardkit-error.js";
import { canonicalKeyBytes, canonicalKeyString, hashKeyFunction } from "../../key-function.js";
import type { ChangeResult } from "../directory-admin.js";
import { runChange, type StoreParts } from "./change-transaction.js";
import { requireNoMove, requireShard } from "./directory-invariants.js";
import { tablesWithKey } from "./shard-inspection.js";

const MAX_PIN_BYTES = 255;

/** Pins one key to a shard: every other shard learns to refuse it before the shard accepts it. */
export async function pinKey(
  parts: StoreParts,
  key: unknown,
  shard: string,
): Promise<ChangeResult> {
  const bytes = pinBytes(key);
  const ksid = hashKeyFunction.ksid(key);
  return runChange(parts, async ({ before, tx }) => {
    requireShard(before, shard);
    requireNoMove(before, { start: ksid, end: ksid + 1 }, `pin key ${keyText(key)}`);
    const existing = before.pins.find((p) => sameBytes(p.keyBytes, bytes));
    if (existing) {
      throw new DirectoryError(
        "ALREADY_PINNED",
        `key ${existing.keyText} is already pinned to ${existing.shard}; unpin it first`,
      );
    }
    await tx.execute(
      "INSERT INTO shardkit_pins (key_bytes, key_text, ksid, shard) VALUES (?, ?, ?, ?)",
      [Buffer.from(bytes), keyText(key), ksid, shard],
    );
    return { fence: [...before.shards.map((s) => s.name).filter((n) => n !== shard), shard] };
  });
}

/**
 * Removes a pin. Refused while the pinned shard holds rows of the key in a sharded table:
 * unpinned, the key routes to its range's owner and those rows would be unreachable.
 */
export async function unpinKey(parts: StoreParts, key: unknown): Promise<ChangeResult> {
  const bytes = pinBytes(key);
  return runChange(parts, async ({ before, tx, shards }) => {
    const existing = before.pins.find((p) => sameBytes(p.keyBytes, bytes));
    if (!existing) {
      throw new DirectoryError(
        "NOT_PINNED",
        `key ${keyText(key)} is not pinned; see shardkit route ${keyText(key)}`,
      );
    }
    const home = requireShard(before, existing.shard);
    const at = { start: existing.ksid, end: existing.ksid + 1 };
    requireNoMove(before, at, `unpin key ${existing.keyText}`);
    const holding = await shards.with(home, (conn) =>
      tablesWithKey(conn, before.tables, existing.keyBytes),
    );
    if (holding.length > 0) {
      throw new DirectoryError(
        "KEY_HAS_ROWS",
        `key ${existing.keyText} still has rows on its shard ${home.name} (in ${holding.join(", ")}), which unpinning would make unreachable; delete those rows or move them first`,
        { details: { key: existing.keyText, shard: home.name, tables: holding } },
      );
    }
    await tx.execute("DELETE FROM shardkit_pins WHERE key_bytes = ?", [Buffer.from(bytes)]);
    // The pinned shard gives the key up before the others may accept it again.
    return {
      fence: [
        existing.shard,
        ...before.shards.map((s) => s.name).filter((n) => n !== existing.shard),
      ],
    };
  });
}

function pinBytes(key: unknown): Uint8Array {
  const bytes = canonicalKeyBytes(key);
  if (bytes.length > MAX_PIN_BYTES) {
    throw new ShardKeyError(
      "BAD_SHARD_KEY",
      `key is ${bytes.length} bytes long; a pinned key can be at most ${MAX_PIN_BYTES} bytes, so pin a shorter key`,
      { details: { bytes: bytes.length } },
    );
  }
  return bytes;
}

function keyText(key: unknown): string {
  if (key instanceof Uint8Array) return `0x${Buffer.from(key).toString("hex")}`;
  return String(key).slice(0, 255);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return canonicalKeyString(a) === canonicalKeyString(b);
}
