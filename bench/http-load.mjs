// A lean HTTP/1.1 load generator for the service benchmark: keep-alive connections on plain
// sockets, one request in flight on each, requests written as prepared bytes and answers read
// by their Content-Length. The load generator shares the machine's cores with the server it
// measures; undici's request API spent about as much CPU on a request as the service spent
// answering it, so the figure was as much the client's as the service's.
import net from "node:net";

/**
 * @typedef {{ method: "GET" | "POST", path: string, headers?: Record<string, string>, body?: string }} LoadRequest
 * @typedef {{ requests: number, seconds: number, perSecond: number, p50Ms: number, p99Ms: number }} LoadFigures
 */

/**
 * The bytes of one request to `host`.
 * @param {string} host
 * @param {LoadRequest} r
 */
export function requestBytes(host, r) {
  const body = r.body === undefined ? undefined : Buffer.from(r.body);
  const lines = [`${r.method} ${r.path} HTTP/1.1`, `host: ${host}`];
  for (const [name, value] of Object.entries(r.headers ?? {})) lines.push(`${name}: ${value}`);
  if (body) lines.push(`content-length: ${body.length}`);
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`);
  return body ? Buffer.concat([head, body]) : head;
}

/**
 * One keep-alive connection that sends a request and resolves with the answer's status once
 * its whole body has arrived (answers must carry a Content-Length).
 */
class Connection {
  /** @param {net.Socket} socket */
  constructor(socket) {
    this.socket = socket;
    /** @type {Buffer} */
    this.buffered = Buffer.alloc(0);
    /** @type {((status: number) => void) | undefined} */
    this.resolve = undefined;
    /** @type {((error: Error) => void) | undefined} */
    this.reject = undefined;
    socket.setNoDelay(true);
    socket.on("data", (chunk) => this.#onData(chunk));
    socket.on("error", (error) => this.reject?.(error));
    socket.on("close", () => this.reject?.(new Error("the server closed the connection")));
  }

  /** @param {Buffer} bytes @returns {Promise<number>} */
  send(bytes) {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.socket.write(bytes);
    });
  }

  /** @param {Buffer} chunk */
  #onData(chunk) {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const end = this.buffered.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = this.buffered.toString("latin1", 0, end);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) {
      this.reject?.(new Error(`an answer without Content-Length: ${head.slice(0, 200)}`));
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (this.buffered.length < total) return;
    const status = Number(head.slice(9, 12));
    this.buffered = this.buffered.subarray(total);
    const resolve = this.resolve;
    this.resolve = undefined;
    this.reject = undefined;
    resolve?.(status);
  }

  close() {
    this.socket.destroy();
  }
}

/**
 * Opens `connections` keep-alive connections to `url`, sends `warmup` requests on one of them,
 * then `count` requests with every connection busy until none is left, and returns requests/s
 * with latency percentiles in ms. Any answer but 200 fails the run.
 * @param {string} url
 * @param {number} connections
 * @param {number} count
 * @param {(i: number) => Buffer} bytesOf the request bytes of request `i` (see {@link requestBytes})
 * @param {number} warmup
 * @returns {Promise<LoadFigures>}
 */
export async function httpLoad(url, connections, count, bytesOf, warmup) {
  const { hostname, port } = new URL(url);
  const open = () =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: hostname, port: Number(port) }, () =>
        resolve(new Connection(socket)),
      );
      socket.once("error", reject);
    });
  /** @type {Connection[]} */
  const pool = [];
  try {
    for (let i = 0; i < connections; i++) pool.push(/** @type {Connection} */ (await open()));
    const check = (/** @type {number} */ status) => {
      if (status !== 200) throw new Error(`HTTP ${status} from ${url}`);
    };
    for (let i = 0; i < warmup; i++)
      check(await /** @type {Connection} */ (pool[0]).send(bytesOf(i)));
    /** @type {number[]} */
    const latencies = new Array(count);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      pool.map(async (conn) => {
        while (next < count) {
          const i = next++;
          const s = performance.now();
          check(await conn.send(bytesOf(i)));
          latencies[i] = performance.now() - s;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (/** @type {number} */ q) =>
      /** @type {number} */ (latencies[Math.floor(q * (count - 1))]);
    return {
      requests: count,
      seconds,
      perSecond: count / seconds,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
    };
  } finally {
    for (const conn of pool) conn.close();
  }
}
