import { MoveError } from "../move-error.js";

/**
 * A point in a source's binary log, always between two transactions: the file and the byte
 * offset after the last event of a transaction, and the same point as a GTID position when
 * known (informational: the engine resumes and compares by file and offset).
 */
export interface BinlogPosition {
  readonly file: string;
  readonly pos: number;
  readonly gtid: string | null;
}

const SEQUENCE = /\.(\d+)$/;

/** The number of a binlog file name (`mysqld-bin.000012` is 12). */
function fileNumber(file: string): number {
  const match = SEQUENCE.exec(file);
  if (!match) {
    throw new MoveError(
      "INTERNAL",
      `cannot order binlog file ${JSON.stringify(file)}: its name does not end in a sequence number; report this`,
    );
  }
  return Number(match[1]);
}

/** Orders two positions of one server's binlog: negative when `a` comes first, 0 when equal. */
export function comparePositions(a: BinlogPosition, b: BinlogPosition): number {
  const files = a.file === b.file ? 0 : fileNumber(a.file) - fileNumber(b.file);
  return files !== 0 ? files : a.pos - b.pos;
}

/** `file:pos`, for messages and events. */
export function formatPosition(position: BinlogPosition): string {
  return `${position.file}:${position.pos}`;
}
