// Raw-protocol JetStream load: windowed async publishes with acks, and windowed request/response
// gets. Replies are counted by their CRLFs (every reply here is one MSG/HMSG with a known number of
// line breaks), so the generator stays cheap per message.
import net from "node:net";
import { once } from "node:events";

export class Conn {
  sock!: net.Socket;
  private buf = "";
  private crlf = 0;
  private waiters: { n: number; resolve: () => void }[] = [];
  counting = false;

  static async open(port: number): Promise<Conn> {
    const c = new Conn();
    c.sock = net.connect({ port, host: "127.0.0.1", noDelay: true });
    c.sock.on("error", () => {});
    c.sock.on("data", (b: Buffer) => c.onData(b));
    await once(c.sock, "connect");
    c.sock.write('CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n');
    await c.request("PING\r\n", "PONG\r\n");
    return c;
  }

  private onData(b: Buffer): void {
    if (this.counting) {
      let i = -1;
      while ((i = b.indexOf(10, i + 1)) !== -1) this.crlf++;
      while (this.waiters.length > 0 && this.crlf >= this.waiters[0]!.n) this.waiters.shift()!.resolve();
      return;
    }
    this.buf += b.toString("latin1");
  }

  /** Setup-time request: sends and waits until the reply text contains `until`. */
  async request(data: string, until: string): Promise<string> {
    const start = this.buf.length;
    this.sock.write(data);
    while (this.buf.indexOf(until, start) < 0) await new Promise((r) => setTimeout(r, 1));
    const out = this.buf.slice(start);
    this.buf = "";
    return out;
  }

  /** Resolves once `n` line breaks have arrived since counting started. */
  waitLines(n: number): Promise<void> {
    if (this.crlf >= n) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ n, resolve });
      this.waiters.sort((a, b) => a.n - b.n);
    });
  }

  startCounting(): void {
    this.counting = true;
    this.crlf = 0;
  }

  write(b: Buffer | string): boolean {
    return this.sock.write(b);
  }

  close(): void {
    this.sock.destroy();
  }
}

export async function apiCall(c: Conn, subject: string, body: string): Promise<unknown> {
  const inbox = `setup.${Math.random().toString(36).slice(2)}`;
  await c.request(`SUB ${inbox} 99\r\n`, "");
  const out = await c.request(`PUB ${subject} ${inbox} ${Buffer.byteLength(body)}\r\n${body}\r\nPING\r\n`, "PONG\r\n");
  const m = /MSG \S+ 99 \d+\r\n(.*)\r\n/.exec(out);
  return m ? JSON.parse(m[1]!) : null;
}

/**
 * Publishes `n` messages with a reply subject each, keeping at most `window` without their PubAck.
 * Returns messages per second (acks received).
 */
export async function asyncPublish(port: number, subject: string, size: number, n: number, window: number): Promise<number> {
  const c = await Conn.open(port);
  await c.request("SUB ack.* 1\r\nPING\r\n", "PONG\r\n");
  const payload = Buffer.alloc(size, 97);
  const chunk = Math.max(1, Math.min(window / 4, 256));
  c.startCounting();
  const t0 = process.hrtime.bigint();
  let sent = 0;
  while (sent < n) {
    // Each PubAck is "MSG ack.N 1 len\r\n{json}\r\n": two line breaks.
    const acked = sent - window;
    if (acked > 0) await c.waitLines(acked * 2);
    const k = Math.min(chunk, n - sent);
    const parts: Buffer[] = [];
    for (let i = 0; i < k; i++) {
      parts.push(Buffer.from(`PUB ${subject} ack.${sent + i} ${size}\r\n`), payload, CRLF);
    }
    sent += k;
    if (!c.write(Buffer.concat(parts))) await once(c.sock, "drain");
  }
  await c.waitLines(n * 2);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  c.close();
  return n / secs;
}

const CRLF = Buffer.from("\r\n");

/**
 * Sends `n` requests with at most `window` outstanding; each reply has `linesPerReply` line breaks.
 * Returns requests per second.
 */
export async function pipelinedRequests(port: number, make: (i: number) => string, n: number, window: number, linesPerReply: number): Promise<number> {
  const c = await Conn.open(port);
  await c.request("SUB rep.* 1\r\nPING\r\n", "PONG\r\n");
  c.startCounting();
  const t0 = process.hrtime.bigint();
  let sent = 0;
  while (sent < n) {
    const done = sent - window;
    if (done > 0) await c.waitLines(done * linesPerReply);
    const k = Math.min(64, n - sent);
    let s = "";
    for (let i = 0; i < k; i++) s += make(sent + i);
    sent += k;
    if (!c.write(s)) await once(c.sock, "drain");
  }
  await c.waitLines(n * linesPerReply);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  c.close();
  return n / secs;
}
