// The demo's scale-out step, the one place that says how shards are added: through the shardkit
// program itself, as an operator would run it (`shardkit plan`, then `shardkit apply`).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs `shardkit <args> --json` and hands each JSON line of its stdout to `onLine` as it comes. */
export type ShardkitRunner = (
  args: readonly string[],
  onLine?: (line: Record<string, unknown>) => void,
) => Promise<{ readonly lines: readonly Record<string, unknown>[] }>;

/**
 * A runner of the `shardkit` program at `bin` with the environment `env`, which names the
 * directory (SHARDKIT_DIRECTORY) and the shard passwords (SHARDKIT_SHARD_PASSWORD_<NAME>), so
 * no password is on a command line. A non-zero exit rejects with the program's error line.
 */
export function shardkitRunner(bin: string, env: NodeJS.ProcessEnv): ShardkitRunner {
  return (args, onLine) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args, "--json"], {
        stdio: ["ignore", "pipe", "pipe"],
        env,
      });
      const lines: Record<string, unknown>[] = [];
      let pending = "";
      let stderr = "";
      let whole = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        whole += chunk;
        pending += chunk;
        for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
          const text = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (!text.startsWith("{")) continue;
          try {
            const line = JSON.parse(text) as Record<string, unknown>;
            lines.push(line);
            onLine?.(line);
          } catch {
            // part of an indented document; read whole at the end
          }
        }
      });
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
      });
      child.once("error", reject);
      child.once("close", (code) => {
        // One indented document (a command that does not stream) is the whole of stdout.
        try {
          const one = JSON.parse(whole) as Record<string, unknown>;
          lines.splice(0, lines.length, one);
        } catch {
          // JSON lines, read above
        }
        if (code === 0) resolve({ lines });
        else
          reject(
            new Error(
              `shardkit ${args.join(" ")} exited with ${code}: ${stderr.trim().split("\n").at(-1) ?? ""}`,
            ),
          );
      });
    });
}

/** One online move of the scale-out, as the program reported it. */
export interface MoveRecord {
  readonly moveId: string;
  readonly range: string;
  readonly from: string;
  readonly to: string;
  /** The write pause of its cutover, freeze to switch, as the mover measured it. */
  readonly pauseMs: number | null;
  /** When the cutover was reported, as `performance.now()`. */
  readonly cutoverAt: number | null;
  readonly rowsCopied: number;
  readonly seconds: number;
}

/** What the scale-out did. */
export interface ScaleOutResult {
  /** The commands run, as typed. */
  readonly commands: readonly string[];
  readonly moves: readonly MoveRecord[];
  readonly seconds: number;
}

/**
 * Brings the registered shards `add` into service as an operator would: `shardkit plan --add
 * <shards> --out <file>` proposes the splits and moves, `shardkit apply <file>` runs them (online
 * moves, two at once where they touch different shards). `onProgress` hears each command and
 * each move's phases and cutovers.
 */
export async function scaleOut(
  run: ShardkitRunner,
  add: readonly string[],
  onProgress: (message: string) => void = () => undefined,
): Promise<ScaleOutResult> {
  const started = performance.now();
  const commands: string[] = [];
  const folder = mkdtempSync(join(tmpdir(), "sk-plan-"));
  const planFile = join(folder, "plan.json");
  const say = async (args: string[], onLine?: (line: Record<string, unknown>) => void) => {
    const typed = `shardkit ${args.join(" ")} --json`;
    commands.push(typed.replace(planFile, "plan.json"));
    onProgress(`$ ${typed}`);
    return run(args, onLine);
  };
  try {
    const planned = await say(["plan", "--add", add.join(","), "--out", planFile]);
    const plan = planned.lines[0] as { steps?: unknown[] } | undefined;
    onProgress(`  the plan has ${plan?.steps?.length ?? "?"} steps`);
    const moves = new Map<
      string,
      { range: string; from: string; to: string; t0: number; cutoverAt: number | null }
    >();
    const done: MoveRecord[] = [];
    await say(["apply", planFile], (line) => {
      const id = String(line.moveId ?? "");
      if (line.event === "started") {
        moves.set(id, {
          range: String(line.range),
          from: String(line.source),
          to: String(line.target),
          t0: performance.now(),
          cutoverAt: null,
        });
        onProgress(`  move ${line.range} ${line.source}→${line.target} (${id})`);
      }
      const move = moves.get(id);
      if (line.event === "phase" && move) onProgress(`  ${move.range}: ${line.phase}`);
      if (line.event === "split") onProgress(`  split ${line.range} at ${line.at}`);
      if (line.event === "cutover" && line.ok === true && move) {
        move.cutoverAt = performance.now();
        onProgress(`  cutover of ${move.range}: writes paused ${line.pauseMs} ms`);
      }
      if (line.event === "done" && move) {
        const summary = (line.summary ?? {}) as Record<string, unknown>;
        done.push({
          moveId: id,
          range: move.range,
          from: move.from,
          to: move.to,
          pauseMs: typeof summary.pauseMs === "number" ? summary.pauseMs : null,
          cutoverAt: move.cutoverAt,
          rowsCopied: Number(summary.rowsCopied ?? 0),
          seconds: (performance.now() - move.t0) / 1000,
        });
      }
    });
    return { commands, moves: done, seconds: (performance.now() - started) / 1000 };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
