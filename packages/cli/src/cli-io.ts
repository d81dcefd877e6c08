/** Where the CLI reads its environment and writes its output; the process by default, a buffer in tests. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /**
   * Where progress bars are drawn: stderr when stdout and stderr are both terminals. Without one
   * (a pipe, a file, a test) a long command prints its progress as JSON lines on stdout.
   */
  readonly terminal?: ProgressTerminal;
}

/** A terminal stream progress bars can draw on (the subset of a tty WriteStream they use). */
export interface ProgressTerminal extends NodeJS.WritableStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
}

let closedStreams: Set<NodeJS.WriteStream> | undefined;

/**
 * The real process. A reader that closes early (`shardkit ranges | head -1`) ends the output
 * quietly: later writes to that stream are dropped instead of crashing with EPIPE.
 */
export function processIo(): CliIo {
  if (closedStreams === undefined) {
    const closed = new Set<NodeJS.WriteStream>();
    for (const stream of [process.stdout, process.stderr]) {
      stream.on("error", (error: NodeJS.ErrnoException) => {
        // A write racing the close reports the stream destroyed rather than EPIPE.
        if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
        closed.add(stream);
      });
    }
    closedStreams = closed;
  }
  const closed = closedStreams;
  const writer = (stream: NodeJS.WriteStream) => (text: string) => {
    if (!closed.has(stream) && !stream.destroyed) stream.write(text);
  };
  return {
    stdout: writer(process.stdout),
    stderr: writer(process.stderr),
    env: process.env,
    cwd: process.cwd(),
    ...(process.stdout.isTTY && process.stderr.isTTY ? { terminal: process.stderr } : {}),
  };
}
