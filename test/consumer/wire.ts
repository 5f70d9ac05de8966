// A raw protocol client that parses what the server sends into messages, for tests that look at
// exact wire frames (status lines, ack subjects, JSON bodies) and for differential runs against
// nats-server. Waits are for conditions with a deadline.
import net from "node:net";
import { waitFor } from "../helpers/wait.js";

export interface WireMsg {
  subject: string;
  sid: string;
  reply: string | null;
  /** The header block as text ("" when none). */
  hdr: string;
  data: Buffer;
  /** performance.now() when it was parsed. */
  recvAt: number;
}

export class Wire {
  private buf: Buffer = Buffer.alloc(0);
  readonly msgs: WireMsg[] = [];
  private pongs = 0;
  private nextSid = 1;
  readonly errors: string[] = [];

  private constructor(readonly sock: net.Socket) {
    sock.on("data", (b) => this.onData(b));
    sock.on("error", () => {});
  }

  static async connect(port: number): Promise<Wire> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1", noDelay: true }, () => resolve(s));
      s.once("error", reject);
    });
    const w = new Wire(sock);
    sock.write('CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}\r\n');
    await w.flush();
    return w;
  }

  private onData(b: Buffer): void {
    this.buf = this.buf.length === 0 ? b : Buffer.concat([this.buf, b]);
    for (;;) {
      const eol = this.buf.indexOf("\r\n");
      if (eol < 0) return;
      const line = this.buf.toString("latin1", 0, eol);
      if (line.startsWith("MSG ") || line.startsWith("HMSG ")) {
        const parts = line.split(" ");
        const h = parts[0] === "HMSG";
        const total = Number(parts[parts.length - 1]);
        const hlen = h ? Number(parts[parts.length - 2]) : 0;
        const nargs = parts.length - (h ? 3 : 2);
        if (this.buf.length < eol + 2 + total + 2) return;
        const body = this.buf.subarray(eol + 2, eol + 2 + total);
        this.msgs.push({
          subject: parts[1]!,
          sid: parts[2]!,
          reply: nargs === 3 ? parts[3]! : null,
          hdr: body.toString("latin1", 0, hlen),
          data: Buffer.from(body.subarray(hlen)),
          recvAt: performance.now(),
        });
        this.buf = this.buf.subarray(eol + 2 + total + 2);
        continue;
      }
      if (line === "PING") this.sock.write("PONG\r\n");
      else if (line === "PONG") this.pongs++;
      else if (line.startsWith("-ERR")) this.errors.push(line);
      this.buf = this.buf.subarray(eol + 2);
    }
  }

  send(s: string | Buffer): void {
    this.sock.write(s);
  }

  sub(subject: string, queue?: string): string {
    const sid = String(this.nextSid++);
    this.send(`SUB ${subject}${queue ? ` ${queue}` : ""} ${sid}\r\n`);
    return sid;
  }

  unsub(sid: string): void {
    this.send(`UNSUB ${sid}\r\n`);
  }

  pub(subject: string, reply: string | null, data: string | Buffer = ""): void {
    const d = typeof data === "string" ? Buffer.from(data) : data;
    this.send(Buffer.concat([Buffer.from(`PUB ${subject}${reply ? ` ${reply}` : ""} ${d.length}\r\n`), d, Buffer.from("\r\n")]));
  }

  hpub(subject: string, reply: string | null, headers: Record<string, string>, data = ""): void {
    let h = "NATS/1.0\r\n";
    for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`;
    h += "\r\n";
    const hb = Buffer.from(h);
    const d = Buffer.from(data);
    this.send(Buffer.concat([Buffer.from(`HPUB ${subject}${reply ? ` ${reply}` : ""} ${hb.length} ${hb.length + d.length}\r\n`), hb, d, Buffer.from("\r\n")]));
  }

  /** Round trip: everything sent before has been processed by the server. */
  async flush(timeoutMs = 5000): Promise<void> {
    const want = this.pongs + 1;
    this.send("PING\r\n");
    await waitFor("PONG", () => this.pongs >= want, timeoutMs, 1);
  }

  /** Messages received on a subscription (by sid), in order. */
  on(sid: string): WireMsg[] {
    return this.msgs.filter((m) => m.sid === sid);
  }

  /** Waits until `n` messages arrived on sid; returns them. */
  async take(sid: string, n: number, timeoutMs = 5000): Promise<WireMsg[]> {
    await waitFor(`${n} message(s) on sid ${sid} (have ${this.on(sid).length})`, () => this.on(sid).length >= n, timeoutMs, 1);
    return this.on(sid).slice(0, n);
  }

  /** Subscribes an inbox, sends a request, returns the first reply's body parsed as JSON. */
  async request(subject: string, body: unknown = ""): Promise<any> {
    const inbox = `_INBOX.w${Math.random().toString(36).slice(2)}`;
    const sid = this.sub(inbox);
    this.pub(subject, inbox, typeof body === "string" ? body : JSON.stringify(body));
    const [m] = await this.take(sid, 1);
    this.unsub(sid);
    return JSON.parse(m!.data.toString());
  }

  clear(): void {
    this.msgs.length = 0;
  }

  close(): void {
    this.sock.destroy();
  }
}

/** The status line of a header block ("409 Consumer Deleted"), or "" for none. */
export function statusOf(m: WireMsg): string {
  const first = m.hdr.split("\r\n")[0] ?? "";
  return first.startsWith("NATS/1.0 ") ? first.slice(9) : "";
}

/** Header values by name (first value). */
export function headersOf(m: WireMsg): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of m.hdr.split("\r\n").slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

/** The fields of a v1 ack reply subject. */
export function ackInfo(reply: string): { stream: string; consumer: string; dc: number; sseq: number; dseq: number; ts: bigint; pending: number } {
  const t = reply.split(".");
  if (t.length !== 9 || t[0] !== "$JS" || t[1] !== "ACK") throw new Error(`not an ack subject: ${reply}`);
  return { stream: t[2]!, consumer: t[3]!, dc: Number(t[4]), sseq: Number(t[5]), dseq: Number(t[6]), ts: BigInt(t[7]!), pending: Number(t[8]) };
}
