// Raw-protocol JetStream load: windowed async publishes with acks, and windowed request/response
// gets. Replies are counted as whole MSG/HMSG frames by a minimal parser (sizes from the control
// line, payloads skipped), and replies that are errors (a PubAck with "error", a status header
// other than the expected one) are counted apart, so a fast stream of errors never looks like a
// fast stream of successes.
import net from "node:net";
import { once } from "node:events";

const CR = 13;
const LF = 10;

export class Conn {
  sock!: net.Socket;
  private text = "";
  private setup = true;
  private pending: Buffer | null = null;
  frames = 0;
  errors = 0;
  firstError = "";
  private waiters: { n: number; resolve: () => void }[] = [];
  /** Decides whether a counted reply is an error; gets the header block and payload. */
  isError: (hdr: Buffer, payload: Buffer) => boolean = () => false;

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
    if (this.setup) {
      this.text += b.toString("latin1");
      return;
    }
    let buf = this.pending === null ? b : Buffer.concat([this.pending, b]);
    let off = 0;
    for (;;) {
      const eol = buf.indexOf(LF, off);
      if (eol < 0) break;
      const c0 = buf[off];
      if (c0 === 0x4d /* M */ || c0 === 0x48 /* H */) {
        const line = buf.toString("latin1", off, buf[eol - 1] === CR ? eol - 1 : eol);
        const parts = line.split(" ");
        const total = Number(parts[parts.length - 1]);
        const hlen = c0 === 0x48 ? Number(parts[parts.length - 2]) : 0;
        const end = eol + 1 + total + 2;
        if (end > buf.length) break;
        const body = buf.subarray(eol + 1, eol + 1 + total);
        if (this.isError(body.subarray(0, hlen), body.subarray(hlen))) {
          if (this.errors++ === 0) this.firstError = body.toString("latin1").slice(0, 300);
        }
        this.frames++;
        off = end;
      } else {
        if (c0 === 0x50 /* P */ && buf[off + 1] === 0x49 /* I */) this.sock.write("PONG\r\n");
        off = eol + 1;
      }
    }
    this.pending = off < buf.length ? buf.subarray(off) : null;
    buf = Buffer.alloc(0);
    while (this.waiters.length > 0 && this.frames >= this.waiters[0]!.n) this.waiters.shift()!.resolve();
  }

  /** Setup-time request: sends and waits until the reply text contains `until` (and matches `complete`). */
  async request(data: string, until: string, complete?: RegExp): Promise<string> {
    const start = this.text.length;
    this.sock.write(data);
    const end = Date.now() + 30_000;
    while (this.text.indexOf(until, start) < 0 || (complete !== undefined && !complete.test(this.text.slice(start)))) {
      if (Date.now() > end) throw new Error(`no ${JSON.stringify(until)} in reply to ${data.slice(0, 80)}`);
      await new Promise((r) => setTimeout(r, 1));
    }
    const out = this.text.slice(start);
    this.text = "";
    return out;
  }

  /** Resolves once `n` reply frames have arrived since counting started. */
  waitFrames(n: number): Promise<void> {
    if (this.frames >= n) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ n, resolve });
      this.waiters.sort((a, b) => a.n - b.n);
    });
  }

  startCounting(): void {
    this.setup = false;
    this.frames = 0;
    this.errors = 0;
  }

  write(b: Buffer | string): boolean {
    return this.sock.write(b);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** A setup-time API request; waits for the answer itself (answers may come after a PONG: they wait for their commit). */
export async function apiCall(c: Conn, subject: string, body: string): Promise<unknown> {
  const inbox = `setup.${Math.random().toString(36).slice(2)}`;
  const out = await c.request(`SUB ${inbox} 99\r\nPUB ${subject} ${inbox} ${Buffer.byteLength(body)}\r\n${body}\r\n`, `MSG ${inbox} 99 `, /MSG \S+ 99 \d+\r\n.*\r\n/);
  const m = /MSG \S+ 99 \d+\r\n(.*)\r\n/.exec(out);
  await c.request(`UNSUB 99\r\n`, "");
  return m ? JSON.parse(m[1]!) : null;
}

export interface Rate {
  /** Operations per second (replies received). */
  rate: number;
  errors: number;
  firstError: string;
}

function done(c: Conn, n: number, t0: bigint): Rate {
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const r = { rate: n / secs, errors: c.errors, firstError: c.firstError };
  c.close();
  return r;
}

const ERROR_JSON = Buffer.from('"error"');

/**
 * Publishes `n` messages with a reply subject each, keeping at most `window` without their PubAck.
 */
export async function asyncPublish(port: number, subject: string, size: number, n: number, window: number): Promise<Rate> {
  const c = await Conn.open(port);
  await c.request("SUB ack.* 1\r\nPING\r\n", "PONG\r\n");
  c.isError = (_h, p) => p.indexOf(ERROR_JSON) >= 0;
  const payload = Buffer.alloc(size, 97);
  const chunk = Math.max(1, Math.min(window / 4, 256));
  c.startCounting();
  const t0 = process.hrtime.bigint();
  let sent = 0;
  while (sent < n) {
    const acked = sent - window;
    if (acked > 0) await c.waitFrames(acked);
    const k = Math.min(chunk, n - sent);
    const parts: Buffer[] = [];
    for (let i = 0; i < k; i++) parts.push(Buffer.from(`PUB ${subject} ack.${sent + i} ${size}\r\n`), payload, CRLF);
    sent += k;
    if (!c.write(Buffer.concat(parts))) await once(c.sock, "drain");
  }
  await c.waitFrames(n);
  return done(c, n, t0);
}

const CRLF = Buffer.from("\r\n");

/** Publishes `n` messages one at a time, each after the previous one's PubAck (what a synchronous publisher sees). */
export async function syncPublish(port: number, subject: string, size: number, n: number): Promise<Rate> {
  const c = await Conn.open(port);
  await c.request("SUB ack.* 1\r\nPING\r\n", "PONG\r\n");
  c.isError = (_h, p) => p.indexOf(ERROR_JSON) >= 0;
  const payload = "a".repeat(size);
  c.startCounting();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    c.write(`PUB ${subject} ack.${i} ${size}\r\n${payload}\r\n`);
    await c.waitFrames(i + 1);
  }
  return done(c, n, t0);
}

/** A direct get reply is an error when its header block carries a status (404, 408, ...). */
export const directGetError = (h: Buffer): boolean => h.length === 0 || h[8] === 0x20 /* "NATS/1.0 <code>" */;
/** A STREAM.MSG.GET reply is an error when its JSON has "error". */
export const jsonError = (_h: Buffer, p: Buffer): boolean => p.indexOf(ERROR_JSON) >= 0;

/** Sends `n` requests with at most `window` outstanding (one reply frame each). */
export async function pipelinedRequests(port: number, make: (i: number) => string, n: number, window: number, isError: (h: Buffer, p: Buffer) => boolean): Promise<Rate> {
  const c = await Conn.open(port);
  await c.request("SUB rep.* 1\r\nPING\r\n", "PONG\r\n");
  c.isError = isError;
  c.startCounting();
  const t0 = process.hrtime.bigint();
  let sent = 0;
  while (sent < n) {
    const finished = sent - window;
    if (finished > 0) await c.waitFrames(finished);
    const k = Math.min(64, n - sent);
    let s = "";
    for (let i = 0; i < k; i++) s += make(sent + i);
    sent += k;
    if (!c.write(s)) await once(c.sock, "drain");
  }
  await c.waitFrames(n);
  return done(c, n, t0);
}
