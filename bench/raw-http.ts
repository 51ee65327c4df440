// A lean HTTP/1.1 keep-alive connection for the load generator: one pre-encoded
// request (with its body, for a PUT), a minimal response parser (Content-Length or chunked; no body for HEAD).
// node:http's client costs ~3× more CPU per request, enough to cap the numbers
// we want to measure on a 2-core machine.
import { connect, type Socket } from "node:net";

const CRLF2 = Buffer.from("\r\n\r\n");

export function encodeRequest(url: URL, method: string, headers: Record<string, string>, body?: Buffer): Buffer {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, "connection: keep-alive"];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body) lines.push(`content-length: ${body.length}`);
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  return body ? Buffer.concat([head, body]) : head;
}

/** Returns the number of bytes of buf that form one complete chunked body, or -1 if incomplete. */
function chunkedLength(buf: Buffer, from: number): number {
  let pos = from;
  for (let guard = 0; guard < 100_000; guard++) {
    const eol = buf.indexOf("\r\n", pos, "latin1");
    if (eol < 0) return -1;
    const size = parseInt(buf.toString("latin1", pos, eol).split(";")[0]!, 16);
    if (Number.isNaN(size)) throw new Error("bad chunk size");
    if (size === 0) {
      const end = buf.indexOf(CRLF2, eol); // no trailers expected: "0\r\n\r\n"
      return end < 0 ? -1 : end + 4 - from;
    }
    pos = eol + 2 + size + 2;
    if (pos > buf.length) return -1;
  }
  throw new Error("too many chunks");
}

export class RawConnection {
  private socket: Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: ((status: number) => void) | undefined;
  private failing: ((err: Error) => void) | undefined;

  constructor(
    private readonly url: URL,
    private readonly request: Buffer,
    private readonly head: boolean,
  ) {}

  /** Send the request once and resolve with the response status when the whole response is in. */
  send(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failing = reject;
      this.ensureSocket().write(this.request);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private ensureSocket(): Socket {
    if (this.socket) return this.socket;
    const socket = connect({ host: this.url.hostname, port: Number(this.url.port) });
    socket.setNoDelay(true);
    socket.setTimeout(30_000, () => socket.destroy(new Error("no response for 30s")));
    socket.on("data", (d: Buffer) => this.onData(d));
    const drop = (err?: Error): void => {
      if (this.socket !== socket) return; // closed on purpose, or already replaced
      this.socket = undefined;
      this.buf = Buffer.alloc(0);
      this.fail(err ?? new Error("connection closed"));
    };
    socket.on("error", drop);
    socket.on("close", () => drop());
    this.socket = socket;
    return socket;
  }

  private fail(err: Error): void {
    const f = this.failing;
    this.waiting = this.failing = undefined;
    f?.(err);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    const headEnd = this.buf.indexOf(CRLF2);
    if (headEnd < 0) return;
    const head = this.buf.toString("latin1", 0, headEnd);
    const status = Number(head.slice(9, 12));
    let bodyLen = 0;
    if (!this.head && status !== 204 && status !== 304) {
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (cl) bodyLen = Number(cl[1]);
      else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        try {
          bodyLen = chunkedLength(this.buf, headEnd + 4);
        } catch (err) {
          this.close();
          this.fail(err as Error);
          return;
        }
        if (bodyLen < 0) return;
      } else {
        this.close();
        this.fail(new Error("response without length: keep-alive impossible"));
        return;
      }
    }
    const total = headEnd + 4 + bodyLen;
    if (this.buf.length < total) return;
    // One request in flight per connection, so anything past the response is a protocol error.
    this.buf = this.buf.length > total ? this.buf.subarray(total) : Buffer.alloc(0);
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
    const w = this.waiting;
    this.waiting = this.failing = undefined;
    w?.(status);
  }
}
