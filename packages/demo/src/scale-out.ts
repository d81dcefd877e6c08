// The demo's scale-out step, the one place that says how shards are added: through the shardkit
// program itself, as an operator would run it. Today: for each new shard, split the widest range
// of the fullest shard in two and move its upper half there (`shardkit split`, `shardkit move`).
import { spawn } from "node:child_process";

/** Runs `shardkit <args> --json` and hands each JSON line of its stdout to `onLine` as it comes. */
export type ShardkitRunner = (
  args: readonly string[],
  onLine?: (line: Record<string, unknown>) => void,
) => Promise<{ readonly lines: readonly Record<string, unknown>[] }>;

/**
 * A runner of the `shardkit` program at `bin` on the directory `directory`. A non-zero exit
 * rejects with the program's error line.
 */
export function shardkitRunner(bin: string, directory: string): ShardkitRunner {
  return (args, onLine) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, "--directory", directory, ...args, "--json"], {
        stdio: ["ignore", "pipe", "pipe"],
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
        if (lines.length === 0 && whole.trim()) {
          try {
            lines.push(JSON.parse(whole) as Record<string, unknown>);
          } catch {
            // not JSON
          }
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

interface RangeLine {
  readonly range: string;
  readonly start: string;
  readonly end: string;
  readonly shard: string;
}

function width(r: RangeLine): number {
  return Number.parseInt(r.end, 16) - Number.parseInt(r.start, 16);
}

/**
 * Brings the registered shards `add` into service: one move per new shard, each taking the upper
 * half of the widest range of the shard that owns the most keyspace. `onProgress` hears each
 * command and each move's events.
 */
export async function scaleOut(
  run: ShardkitRunner,
  add: readonly string[],
  onProgress: (message: string) => void = () => undefined,
): Promise<ScaleOutResult> {
  const started = performance.now();
  const commands: string[] = [];
  const moves: MoveRecord[] = [];
  const say = async (args: string[], onLine?: (line: Record<string, unknown>) => void) => {
    commands.push(`shardkit ${args.join(" ")} --json`);
    onProgress(`$ shardkit ${args.join(" ")} --json`);
    return run(args, onLine);
  };
  for (const target of add) {
    const ranges = (await run(["ranges"])).lines[0] as unknown as RangeLine[];
    const load = new Map<string, number>();
    for (const r of ranges) load.set(r.shard, (load.get(r.shard) ?? 0) + width(r));
    const fullest = [...load.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    const widest = ranges.filter((r) => r.shard === fullest).sort((a, b) => width(b) - width(a))[0];
    if (!widest) throw new Error("the directory has no ranges to split: lay them out first");
    const split = await say(["split", widest.range]);
    const upper = (split.lines[0] as { ranges?: string[] } | undefined)?.ranges?.[1];
    if (!upper) throw new Error(`shardkit split ${widest.range} did not name the new ranges`);
    const t0 = performance.now();
    let cutoverAt: number | null = null;
    let moveId = "";
    const done = await say(["move", upper, "--to", target], (line) => {
      if (line.event === "started") moveId = String(line.moveId);
      if (line.event === "cutover" && line.ok === true) {
        cutoverAt = performance.now();
        onProgress(`  cutover of ${upper}: writes paused ${line.pauseMs} ms`);
      }
      if (line.event === "phase") onProgress(`  ${moveId} ${line.phase}`);
    });
    const summary = (done.lines.at(-1) as { summary?: Record<string, unknown> } | undefined)
      ?.summary;
    moves.push({
      moveId: String(summary?.moveId ?? moveId),
      range: upper,
      from: widest.shard,
      to: target,
      pauseMs: typeof summary?.pauseMs === "number" ? summary.pauseMs : null,
      cutoverAt,
      rowsCopied: Number(summary?.rowsCopied ?? 0),
      seconds: (performance.now() - t0) / 1000,
    });
  }
  return { commands, moves, seconds: (performance.now() - started) / 1000 };
}
