// A raw-protocol consumer client for the benchmarks: parses MSG/HMSG frames (any chunking) and
// hands each to a callback with its reply subject, so a bench can ack, answer flow control and
// count without a client library's overhead in the measurement. Writes are batched per read.
import net from "node:net";
import { once } from "node:events";

export interface Frame {
  subject: string;
  sid: number;
  reply: string;
  /** Header bytes (0 for MSG). */
  hlen: number;
  /** The status code of a header-only status frame (100, 404, 408, 409), else 0. */
  status: number;
  /** The payload, only for subscriptions listed in ConsumerConn.capture. */
  data: Buffer | null;
}

export class ConsumerConn {
  sock!: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private out: string[] = [];
  private pongs = 0;
  private pongWaiters: { n: number; resolve: () => void }[] = [];
  onFrame: (f: Frame) => void = () => {};
  /** Subscription ids whose frames carry their payload. */
  readonly capture = new Set<number>();

  static async open(port: number): Promise<ConsumerConn> {
    const c = new ConsumerConn();
    c.sock = net.connect({ port, host: "127.0.0.1", noDelay: true });
    c.sock.on("error", () => {});
    c.sock.on("data", (b: Buffer) => c.onData(b));
    await once(c.sock, "connect");
    c.sock.write('CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}\r\n');
    await c.ping();
    return c;
  }

  /** Queues a protocol line (sent at the end of the current read, or by flush()). */
  send(s: string): void {
    this.out.push(s);
  }

  flush(): void {
    if (this.out.length === 0) return;
    this.sock.write(this.out.join(""));
    this.out = [];
  }

  async ping(): Promise<void> {
    const n = this.pongs + 1;
    this.send("PING\r\n");
    this.flush();
    await new Promise<void>((resolve) => this.pongWaiters.push({ n, resolve }));
  }

  private onData(chunk: Buffer): void {
    let b = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let i = 0;
    const len = b.length;
    while (i < len) {
      const eol = b.indexOf(10, i);
      if (eol < 0) break;
      const c0 = b[i]!;
      if (c0 === 77 /* M */ || c0 === 72 /* H */) {
        const line = b.toString("latin1", i, eol - 1);
        const parts = line.split(" ");
        const h = c0 === 72;
        const total = Number(parts[parts.length - 1]);
        const hlen = h ? Number(parts[parts.length - 2]) : 0;
        const nargs = parts.length - (h ? 2 : 1);
        const end = eol + 1 + total + 2;
        if (end > len) break;
        let status = 0;
        if (h && total === hlen && hlen > 12) {
          // "NATS/1.0 408 ..."
          const s = b.toString("latin1", eol + 1 + 9, eol + 1 + 12);
          status = Number(s) || 0;
        }
        const sid = Number(parts[2]);
        const data = this.capture.has(sid) ? Buffer.from(b.subarray(eol + 1 + hlen, eol + 1 + total)) : null;
        this.onFrame({ subject: parts[1]!, sid, reply: nargs === 4 ? parts[3]! : "", hlen, status, data });
        i = end;
        continue;
      }
      if (c0 === 80 /* P */) {
        if (b[i + 1] === 73 /* I */) this.send("PONG\r\n");
        else {
          this.pongs++;
          while (this.pongWaiters.length > 0 && this.pongWaiters[0]!.n <= this.pongs) this.pongWaiters.shift()!.resolve();
        }
      }
      i = eol + 1;
    }
    this.buf = i >= len ? Buffer.alloc(0) : Buffer.from(b.subarray(i));
    b = this.buf;
    this.flush();
  }

  close(): void {
    this.sock.destroy();
  }
}

/** One JSON request/response on its own inbox (setup only). */
export async function request(c: ConsumerConn, subject: string, body: unknown): Promise<any> {
  const inbox = `setup.${Math.random().toString(36).slice(2)}`;
  const sid = 900_000 + Math.floor(Math.random() * 1000);
  const prev = c.onFrame;
  const text = await new Promise<string>((resolve) => {
    c.capture.add(sid);
    c.onFrame = (f) => {
      if (f.sid === sid) resolve(f.data!.toString());
      else prev(f);
    };
    const payload = typeof body === "string" ? body : JSON.stringify(body);
    c.send(`SUB ${inbox} ${sid}\r\nPUB ${subject} ${inbox} ${Buffer.byteLength(payload)}\r\n${payload}\r\n`);
    c.flush();
  });
  c.onFrame = prev;
  c.capture.delete(sid);
  c.send(`UNSUB ${sid}\r\n`);
  c.flush();
  return JSON.parse(text);
}
