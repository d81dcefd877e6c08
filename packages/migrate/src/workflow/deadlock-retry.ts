import type { DirectoryAdmin } from "@shardkit/directory";
import { mysqlCodeOf } from "@shardkit/directory/internal";

/** Directory changes the engine makes; each is all or nothing, so one that lost a deadlock can run again. */
const CHANGES = new Set<string | symbol>([
  "createMove",
  "pinKey",
  "updateMove",
  "freezeRange",
  "unfreezeRange",
  "switchRange",
  // A plan's splits (shardkit apply) rewrite fence rows as well.
  "splitRange",
]);
const ATTEMPTS = 5;

/** True when `error` (or an error it wraps) is InnoDB choosing this transaction as a deadlock's victim. */
export function isDeadlock(error: unknown): boolean {
  for (
    let e: unknown = error, depth = 0;
    e && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if (mysqlCodeOf(e) === "ER_LOCK_DEADLOCK" || (e as { errno?: number }).errno === 1213)
      return true;
  }
  return false;
}

/**
 * The admin with its move changes retried when they lose a deadlock: a change rewrites fence
 * rows that application writes read with shared locks, and InnoDB may roll either side back.
 */
export function retryingAdmin(admin: DirectoryAdmin): DirectoryAdmin {
  return new Proxy(admin, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      if (!CHANGES.has(property)) return value.bind(target);
      return async (...args: unknown[]) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await value.apply(target, args);
          } catch (error) {
            if (!isDeadlock(error) || attempt >= ATTEMPTS) throw error;
            await new Promise((resolve) => setTimeout(resolve, 5 * attempt));
          }
        }
      };
    },
  });
}
